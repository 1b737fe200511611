// The build container's Engine API create request, read from `docker create`'s options exactly as
// the docker CLI (28) reads them: the user's `docker-options` and buildfence's own flags alike.
// No docker CLI is needed (a job container's image rarely has one) and none is started (a CLI
// process costs 80-100 ms). An option the translation does not cover is refused, with what to
// do: never dropped. Pure, but for the files the options name (read through the context).
import * as path from 'node:path';
import {
  apiAtLeast,
  csvRecord,
  decimalInt,
  goBool,
  goDuration,
  goInt,
  nanoCpus,
  ramInBytes,
  splitOnce,
  ulimit,
  ValueError,
} from './cli-values.js';
import { readOptions, type Option } from './options-guard.js';

export interface CreateCommand {
  options: string[];
  image: string;
  command: string[];
}

/** docker's config.json `proxies` for the engine: passed to the build as the CLI passes them. */
export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  ftpProxy?: string;
  allProxy?: string;
}

export interface CreateContext {
  /** How messages name the options: "Input 'docker-options'" or "--docker-options". */
  label: string;
  /** Where relative mount sources (`./data`) are read from, as docker reads them against its own. */
  cwd: string;
  /** Looked up for `-e NAME` and env-file lines without a value. */
  env: Record<string, string | undefined>;
  /** Env files, label files, seccomp profiles; throws when the file cannot be read. */
  readFile(file: string): string;
  /** The engine's API version: some options need a newer one, some are dropped by newer ones. */
  apiVersion: string;
  proxies?: ProxySettings;
  /** DOCKER_CONTENT_TRUST is set: the CLI would verify a tagged image's signature. */
  contentTrust?: boolean;
}

export type PullPolicy = 'always' | 'missing' | 'never';

export interface CreateRequest {
  name?: string;
  /** The `platform` query (`os/arch[/variant]`). */
  platform?: string;
  /** `missing` pulls when the create finds no image; `always` pulls first; `never` (or empty) does not. */
  pull: PullPolicy;
  body: CreateBody;
}

export interface MountSpec {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels: Record<string, string>;
    DriverConfig: { Name?: string; Options?: Record<string, string> };
    Subpath?: string;
  };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
  ImageOptions?: { Subpath?: string };
}

/** The fields of the create body this translation sets (and the ones buildfence checks). */
export interface CreateBody {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  Labels?: Record<string, string>;
  Volumes?: Record<string, object>;
  HostConfig: {
    NetworkMode: string;
    Binds?: string[];
    Mounts?: MountSpec[];
    CapAdd?: string[];
    CapDrop?: string[];
    SecurityOpt?: string[];
    Privileged?: boolean;
    [field: string]: unknown;
  };
  NetworkingConfig: { EndpointsConfig: Record<string, object> };
  [field: string]: unknown;
}

/** Flags of `docker run` that a build sharing the holder's network namespace cannot use, and why. */
export const NOT_TRANSLATED: Record<string, string> = {
  ...Object.fromEntries(
    ['publish', 'publish-all', 'expose', 'link', 'ip', 'ip6', 'link-local-ip', 'mac-address', 'network-alias'].map((f) => [
      f,
      "the build joins the holder's network namespace, where buildfence's rules decide what it reaches: it has no ports, " +
        'addresses, links or aliases of its own (docker refuses them with a shared namespace too). Remove it; a service ' +
        'the build needs goes in the allowlist',
    ]),
  ),
  cidfile:
    'buildfence creates the build container through the Engine API and writes no container ID file (the log names the container). Remove it',
  'detach-keys': 'it belongs to an attached `docker run` terminal, which the build has none of. Remove it',
  'sig-proxy': 'it belongs to an attached `docker run` terminal, which the build has none of. Remove it',
  ...Object.fromEntries(
    ['cpu-count', 'cpu-percent', 'io-maxbandwidth', 'io-maxiops'].map((f) => [
      f,
      'it applies to Windows containers only, and the build is a Linux container (docker refuses it too). Remove it',
    ]),
  ),
};

/** Flags that take the build out of buildfence's hands: the options guard refuses them first. */
export const NOT_FOR_THE_BUILD = new Set([
  'privileged',
  'use-api-socket',
  'dns',
  'dns-option',
  'dns-search',
  'rm',
  'restart',
  'detach',
  'help',
  'volumes-from',
]);

/**
 * Every flag of `docker create` the translation reads (see createRequest): its own list, not the
 * options guard's table of what pflag knows, so that a flag added there is refused here until the
 * translation reads it (a unit test keeps the two in step).
 */
export const TRANSLATED = new Set([
  'add-host',
  'annotation',
  'attach',
  'blkio-weight',
  'blkio-weight-device',
  'cap-add',
  'cap-drop',
  'cgroup-parent',
  'cgroupns',
  'cpu-period',
  'cpu-quota',
  'cpu-rt-period',
  'cpu-rt-runtime',
  'cpu-shares',
  'cpus',
  'cpuset-cpus',
  'cpuset-mems',
  'device',
  'device-cgroup-rule',
  'device-read-bps',
  'device-read-iops',
  'device-write-bps',
  'device-write-iops',
  'disable-content-trust',
  'domainname',
  'entrypoint',
  'env',
  'env-file',
  'gpus',
  'group-add',
  'health-cmd',
  'health-interval',
  'health-retries',
  'health-start-interval',
  'health-start-period',
  'health-timeout',
  'hostname',
  'init',
  'interactive',
  'ipc',
  'isolation',
  'kernel-memory',
  'label',
  'label-file',
  'log-driver',
  'log-opt',
  'memory',
  'memory-reservation',
  'memory-swap',
  'memory-swappiness',
  'mount',
  'name',
  'network',
  'no-healthcheck',
  'oom-kill-disable',
  'oom-score-adj',
  'pid',
  'pids-limit',
  'platform',
  'pull',
  // Read, and of no effect: buildfence logs one line for a pull either way.
  'quiet',
  'read-only',
  'runtime',
  'security-opt',
  'shm-size',
  'stop-signal',
  'stop-timeout',
  'storage-opt',
  'sysctl',
  'tmpfs',
  'tty',
  'ulimit',
  'user',
  'userns',
  'uts',
  'volume',
  'volume-driver',
  'workdir',
]);

/** Options of one run, by long name: every occurrence, in order. */
class Given {
  private readonly byName = new Map<string, Option[]>();
  readonly problems: string[] = [];

  constructor(
    options: Option[],
    private readonly label: string,
  ) {
    for (const o of options) this.byName.set(o.name, [...(this.byName.get(o.name) ?? []), o]);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  all(name: string): Option[] {
    return this.byName.get(name) ?? [];
  }

  /** The last occurrence's value, as pflag keeps it for a flag that takes one value. */
  last(name: string): Option | undefined {
    const all = this.all(name);
    return all[all.length - 1];
  }

  refuse(option: Option | string, reason: string): void {
    const written = typeof option === 'string' ? option : option.written;
    this.problems.push(`${this.label} refuses '${written}': ${reason}.`);
  }

  /** Each occurrence read by `read`; one that cannot be read is a problem, and is left out. */
  each<T>(name: string, read: (value: string, option: Option) => T): T[] {
    const out: T[] = [];
    for (const o of this.all(name)) {
      try {
        out.push(read(o.value ?? '', o));
      } catch (err) {
        if (!(err instanceof ValueError)) throw err;
        this.refuse(o, err.message);
      }
    }
    return out;
  }

  /** The last occurrence read by `read` (every occurrence must be readable, as pflag sets each). */
  one<T>(name: string, read: (value: string, option: Option) => T): T | undefined {
    const values = this.each(name, read);
    return values.length === this.all(name).length ? values[values.length - 1] : undefined;
  }

  str(name: string): string | undefined {
    return this.last(name)?.value;
  }

  bool(name: string): boolean | undefined {
    return this.has(name) ? this.one(name, (v, o) => (o.value === undefined ? true : goBool(v))) : undefined;
  }

  flag(name: string): boolean {
    return this.bool(name) ?? false;
  }
}

/**
 * The create request for `docker create OPTIONS IMAGE COMMAND`, as docker CLI 28 builds it. Throws
 * one error naming every option that cannot be read or is not translated, with what to do.
 */
export function createRequest(cmd: CreateCommand, ctx: CreateContext): CreateRequest {
  const { options, problems } = readOptions(cmd.options, ctx.label);
  const g = new Given(options, ctx.label);
  g.problems.push(...problems);
  for (const o of options) {
    if (NOT_TRANSLATED[o.name]) g.refuse(o, NOT_TRANSLATED[o.name]);
    else if (NOT_FOR_THE_BUILD.has(o.name)) g.refuse(o, 'the build container is buildfence’s to run; remove it');
    else if (!TRANSLATED.has(o.name))
      g.refuse(o, `buildfence does not translate docker's '--${o.name}' into the Engine API, so it would be lost. Remove it`);
  }
  const versioned: Array<[string, string]> = [
    ['annotation', '1.43'],
    ['health-start-interval', '1.44'],
  ];
  for (const [flag, version] of versioned) {
    if (g.has(flag) && !apiAtLeast(ctx.apiVersion, version)) {
      g.refuse(
        g.last(flag)!,
        `it needs Docker Engine API ${version}, and this engine speaks ${ctx.apiVersion}. Remove it, or use a newer engine`,
      );
    }
  }

  const request = build(g, cmd, ctx);
  if (g.problems.length > 0) throw new Error(g.problems.join('\n'));
  return request;
}

function build(g: Given, cmd: CreateCommand, ctx: CreateContext): CreateRequest {
  const pull = g.str('pull') ?? 'missing';
  if (!['always', 'missing', 'never', ''].includes(pull))
    g.refuse(g.last('pull')!, "the pull policy is one of 'always', 'missing' or 'never'");
  if (ctx.contentTrust && !g.flag('disable-content-trust') && !cmd.image.includes('@')) {
    g.refuse(
      'DOCKER_CONTENT_TRUST',
      "it asks the docker CLI to verify the build image's signature, which buildfence, creating the build through the Engine API, " +
        'does not do: name the image by digest (IMAGE@sha256:...), or unset DOCKER_CONTENT_TRUST',
    );
  }
  const attach = g.each('attach', (v) => {
    const s = v.toLowerCase();
    if (!['stdin', 'stdout', 'stderr'].includes(s)) throw new ValueError('the streams are STDIN, STDOUT and STDERR');
    return s;
  });
  const stdin = g.flag('interactive');
  const openStdin = stdin;
  const attachStdin = attach.includes('stdin') || stdin;
  const swappiness = g.one('memory-swappiness', (v) => goInt(v)) ?? -1;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) g.refuse(g.last('memory-swappiness')!, 'the swappiness is from 0 to 100');

  const { binds, volumes } = volumeSpecs(g, ctx.cwd);
  const entrypointGiven = g.last('entrypoint');
  const health = healthcheck(g);
  const { devices, cdi } = deviceMappings(g);
  const gpus = g.each('gpus', gpuRequest);
  const deviceRequests = [...gpus, ...(cdi.length > 0 ? [{ Driver: 'cdi', DeviceIDs: cdi }] : [])];
  const [securityOpt, systemPaths] = securityOptions(g, ctx);
  const resources = {
    CgroupParent: g.str('cgroup-parent'),
    Memory: g.one('memory', ramInBytes),
    MemoryReservation: g.one('memory-reservation', ramInBytes),
    MemorySwap: g.one('memory-swap', (v) => (v === '-1' ? -1 : ramInBytes(v))),
    MemorySwappiness: swappiness,
    // Newer engines have no kernel memory limit; the CLI leaves it out for them.
    KernelMemory: apiAtLeast(ctx.apiVersion, '1.42') ? undefined : g.one('kernel-memory', ramInBytes),
    OomKillDisable: g.bool('oom-kill-disable'),
    NanoCpus: g.one('cpus', nanoCpus),
    CpuShares: g.one('cpu-shares', (v) => goInt(v)),
    CpuPeriod: g.one('cpu-period', (v) => goInt(v)),
    CpuQuota: g.one('cpu-quota', (v) => goInt(v)),
    CpuRealtimePeriod: g.one('cpu-rt-period', (v) => goInt(v)),
    CpuRealtimeRuntime: g.one('cpu-rt-runtime', (v) => goInt(v)),
    CpusetCpus: g.str('cpuset-cpus'),
    CpusetMems: g.str('cpuset-mems'),
    PidsLimit: g.one('pids-limit', (v) => goInt(v)),
    BlkioWeight: g.one('blkio-weight', (v) => goInt(v, 16, false)),
    BlkioWeightDevice: g.each('blkio-weight-device', weightDevice),
    BlkioDeviceReadBps: g.each('device-read-bps', (v) => throttleDevice(v, ramInBytes)),
    BlkioDeviceWriteBps: g.each('device-write-bps', (v) => throttleDevice(v, ramInBytes)),
    BlkioDeviceReadIOps: g.each('device-read-iops', (v) => throttleDevice(v, (r) => goUint10(r))),
    BlkioDeviceWriteIOps: g.each('device-write-iops', (v) => throttleDevice(v, (r) => goUint10(r))),
    Ulimits: ulimits(g),
    DeviceCgroupRules: g.each('device-cgroup-rule', (v) => {
      if (!/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(v))
        throw new ValueError(`'${v}' is not a device cgroup rule (type major:minor mode, as 'c 10:229 rwm')`);
      return v;
    }),
    Devices: devices,
    DeviceRequests: deviceRequests,
  };
  for (const [flag, mode] of [
    ['pid', g.str('pid')],
    ['uts', g.str('uts')],
    ['userns', g.str('userns')],
    ['cgroupns', g.str('cgroupns')],
  ] as const) {
    if (mode !== undefined && !namespaceModeValid(flag, mode)) g.refuse(g.last(flag)!, `'${mode}' is not a ${flag} mode docker knows`);
  }
  if (g.last('log-driver')?.value === 'none' && g.has('log-opt')) g.refuse(g.last('log-opt')!, "the 'none' log driver takes no options");

  const body: CreateBody = {
    Hostname: g.str('hostname'),
    Domainname: g.str('domainname'),
    User: g.str('user'),
    AttachStdin: attachStdin,
    AttachStdout: attach.length === 0 || attach.includes('stdout'),
    AttachStderr: attach.length === 0 || attach.includes('stderr'),
    Tty: g.flag('tty'),
    OpenStdin: openStdin,
    StdinOnce: openStdin && attachStdin,
    Env: environment(g, ctx),
    Cmd: cmd.command.length > 0 ? cmd.command : undefined,
    Image: cmd.image,
    Volumes: volumes,
    WorkingDir: g.str('workdir'),
    Entrypoint: entrypointGiven === undefined ? undefined : [entrypointGiven.value ?? ''],
    Labels: keyValues(g, 'label', 'label-file', ctx),
    StopSignal: g.str('stop-signal'),
    StopTimeout: g.one('stop-timeout', (v) => goInt(v)),
    Healthcheck: health,
    HostConfig: {
      Binds: binds,
      LogConfig: { Type: g.str('log-driver') ?? '', Config: kvMap(g.each('log-opt', (v) => v)) },
      NetworkMode: g.str('network') ?? 'default',
      VolumeDriver: g.str('volume-driver'),
      CapAdd: capabilities(g.each('cap-add', (v) => v)),
      CapDrop: capabilities(g.each('cap-drop', (v) => v)),
      CgroupnsMode: g.str('cgroupns'),
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: g.each('add-host', extraHost),
      GroupAdd: g.each('group-add', (v) => v),
      IpcMode: g.str('ipc'),
      OomScoreAdj: g.one('oom-score-adj', (v) => goInt(v)),
      PidMode: g.str('pid'),
      ReadonlyRootfs: g.flag('read-only'),
      SecurityOpt: securityOpt,
      StorageOpt: storageOptions(g),
      UTSMode: g.str('uts'),
      UsernsMode: g.str('userns'),
      ShmSize: g.one('shm-size', ramInBytes),
      Isolation: g.str('isolation'),
      ...resources,
      Tmpfs: Object.fromEntries(
        g.each('tmpfs', (v) => {
          const [where, options = ''] = splitOnce(v, ':');
          return [where, options];
        }),
      ),
      Sysctls: Object.fromEntries(g.each('sysctl', sysctl)),
      Runtime: g.str('runtime'),
      Mounts: g.each('mount', (v) => mountSpec(v, ctx)),
      ...systemPaths,
      Init: g.bool('init'),
      Annotations: g.has('annotation') ? kvMap(g.each('annotation', (v) => v)) : undefined,
    },
    NetworkingConfig: { EndpointsConfig: {} },
  };
  return {
    name: g.str('name'),
    platform: g.str('platform')?.toLowerCase(),
    pull: pull === '' ? 'never' : (pull as PullPolicy),
    body: dropUndefined(body),
  };
}

/** `-v`: bind mounts (a relative source read against the working directory) and anonymous volumes. */
function volumeSpecs(g: Given, cwd: string): { binds?: string[]; volumes?: Record<string, object> } {
  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const spec of new Set(g.each('volume', (v) => v))) {
    let parsed;
    try {
      parsed = parseVolume(spec);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      g.refuse(`--volume ${spec}`, err.message);
      continue;
    }
    if (parsed.source === '') {
      volumes[spec] = {};
      continue;
    }
    const [host, target] = splitOnce(spec, ':');
    binds.push(parsed.bind && target !== undefined && host.startsWith('.') ? `${path.resolve(cwd, host)}:${target}` : spec);
  }
  return { binds: binds.length > 0 ? binds : undefined, volumes: Object.keys(volumes).length > 0 ? volumes : undefined };
}

/** The compose volume spec docker's `-v` goes through: `[source:]target[:options]`, a Windows drive letter kept whole. */
function parseVolume(spec: string): { source: string; bind: boolean } {
  if (spec === '') throw new ValueError('the volume is empty');
  if (spec.length <= 2) return { source: '', bind: false };
  let source = '';
  let target = '';
  let buffer = '';
  for (const c of [...spec, '']) {
    if (c === ':' && buffer.length === 1 && /\p{L}/u.test(buffer)) {
      buffer += c;
    } else if (c === ':' || c === '') {
      if (buffer === '') throw new ValueError(`'${spec}' has an empty part between colons`);
      if (source === '' && c === '') target = buffer;
      else if (source === '') source = buffer;
      else if (target === '') target = buffer;
      else if (c === ':') throw new ValueError(`'${spec}' has too many colons`);
      buffer = '';
    } else buffer += c;
  }
  const bind = source !== '' && ('./~'.includes(source[0]) || source.startsWith('\\\\') || /^\p{L}:/u.test(source));
  return { source, bind };
}

function mountSpec(value: string, ctx: CreateContext): MountSpec {
  const mount: MountSpec = { Type: 'volume', Target: '' };
  const volume = () => (mount.VolumeOptions ??= { Labels: {}, DriverConfig: {} });
  const bind = () => (mount.BindOptions ??= {});
  const tmpfs = () => (mount.TmpfsOptions ??= {});
  const setOn = (map: Record<string, string>, kv: string) => {
    const [k, v = ''] = splitOnce(kv, '=');
    if (k !== '') map[k] = v;
  };
  let target = '';
  for (const field of csvRecord(value)) {
    const [rawKey, val] = splitOnce(field, '=');
    const key = rawKey.toLowerCase();
    if (val === undefined) {
      if (key === 'readonly' || key === 'ro') mount.ReadOnly = true;
      else if (key === 'volume-nocopy') volume().NoCopy = true;
      else if (key === 'bind-nonrecursive') bind().NonRecursive = true;
      else throw new ValueError(`'${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type':
        mount.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        mount.Source = !path.isAbsolute(val) && val.startsWith('.') ? path.resolve(ctx.cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = val;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = goBool(val);
        break;
      case 'consistency':
        mount.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bind().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bind().NonRecursive = goBool(val);
        break;
      case 'bind-recursive':
        if (val === 'disabled') bind().NonRecursive = true;
        else if (val === 'writable') bind().ReadOnlyNonRecursive = true;
        else if (val === 'readonly') bind().ReadOnlyForceRecursive = true;
        else if (val !== 'enabled') throw new ValueError(`bind-recursive is one of enabled, disabled, writable, readonly, not '${val}'`);
        break;
      case 'volume-subpath':
        volume().Subpath = val;
        break;
      case 'volume-nocopy':
        volume().NoCopy = goBool(val);
        break;
      case 'volume-label':
        setOn(volume().Labels, val);
        break;
      case 'volume-driver':
        volume().DriverConfig.Name = val;
        break;
      case 'volume-opt':
        setOn((volume().DriverConfig.Options ??= {}), val);
        break;
      case 'image-subpath':
        (mount.ImageOptions ??= {}).Subpath = val;
        break;
      case 'tmpfs-size':
        tmpfs().SizeBytes = ramInBytes(val);
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || Number.parseInt(val, 8) > 0xffffffff)
          throw new ValueError(`tmpfs-mode is an octal mode, not '${val}'`);
        tmpfs().Mode = Number.parseInt(val, 8);
        break;
      default:
        throw new ValueError(`'${key}' is not a mount field (type, source, target, readonly, bind-*, volume-*, image-subpath, tmpfs-*)`);
    }
  }
  if (target === '') throw new ValueError('a mount needs a target');
  mount.Target = target;
  for (const [options, type] of [
    [mount.VolumeOptions, 'volume'],
    [mount.BindOptions, 'bind'],
    [mount.TmpfsOptions, 'tmpfs'],
    [mount.ImageOptions, 'image'],
  ] as const) {
    if (options && mount.Type !== type) throw new ValueError(`'${type}-*' fields do not go with a mount of type '${mount.Type}'`);
  }
  const b = mount.BindOptions;
  if ((b?.ReadOnlyNonRecursive || b?.ReadOnlyForceRecursive) && !mount.ReadOnly)
    throw new ValueError('bind-recursive=writable or readonly needs readonly too');
  if (b?.ReadOnlyForceRecursive && b.Propagation !== 'rprivate')
    throw new ValueError('bind-recursive=readonly needs bind-propagation=rprivate');
  if (b?.ReadOnlyForceRecursive && !apiAtLeast(ctx.apiVersion, '1.44'))
    throw new ValueError('bind-recursive=readonly needs Engine API 1.44');
  return mount;
}

/** The env files' variables, then `-e` (each name once, its last value); the CLI's proxy settings for names not given. */
function environment(g: Given, ctx: CreateContext): string[] | undefined {
  const fromFiles = g.each('env-file', (file) => kvFile(file, ctx, (name) => ctx.env[name]));
  const flags = new Map<string, string | undefined>();
  for (const v of g.each('env', (e) => {
    const [k, val] = splitOnce(e, '=');
    if (k === '') throw new ValueError(`'${e}' is not a variable (NAME=VALUE, or NAME to pass it on)`);
    return [k, val ?? ctx.env[k]] as const;
  })) {
    flags.delete(v[0]);
    flags.set(v[0], v[1]);
  }
  const proxies = ctx.proxies ?? {};
  for (const [name, value] of [
    ['HTTP_PROXY', proxies.httpProxy],
    ['HTTPS_PROXY', proxies.httpsProxy],
    ['NO_PROXY', proxies.noProxy],
    ['FTP_PROXY', proxies.ftpProxy],
    ['ALL_PROXY', proxies.allProxy],
  ] as const) {
    if (!value) continue;
    for (const n of [name, name.toLowerCase()]) if (!flags.has(n)) flags.set(n, value);
  }
  const env = [...fromFiles.flat(), ...[...flags].map(([k, v]) => (v === undefined ? k : `${k}=${v}`))];
  return env.length > 0 ? env : undefined;
}

/** Labels from label files, then `-l` (later ones win). */
function keyValues(g: Given, flag: string, fileFlag: string, ctx: CreateContext): Record<string, string> | undefined {
  const fromFiles = g.each(fileFlag, (file) => kvFile(file, ctx));
  const given = g.each(flag, (v) => {
    const key = splitOnce(v, '=')[0].replace(/^[ \t]+/, '');
    if (key === '' || /[ \t]/.test(key)) throw new ValueError(`'${v}' is not a label (NAME=VALUE, without blanks in the name)`);
    return v;
  });
  const all = [...fromFiles.flat(), ...given];
  return all.length > 0 ? kvMap(all) : undefined;
}

/** docker's key/value file (env files, label files): `#` comments, blank lines, leading blanks dropped, a BOM dropped. */
function kvFile(file: string, ctx: CreateContext, lookup?: (name: string) => string | undefined): string[] {
  let text: string;
  try {
    text = ctx.readFile(file);
  } catch (err) {
    throw new ValueError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const out: string[] = [];
  for (const [i, raw] of text
    .replace(/^\ufeff/, '')
    .split('\n')
    .entries()) {
    const line = raw.replace(/\r$/, '').replace(/^\s+/u, '');
    if (line === '' || line.startsWith('#')) continue;
    if (line.length > 65536) throw new ValueError(`line ${i + 1} of ${file} is longer than 64 KiB`);
    const [key, value] = splitOnce(line, '=');
    if (key === '') throw new ValueError(`line ${i + 1} of ${file} has no variable name`);
    if (/[ \t]/.test(key)) throw new ValueError(`the name '${key}' on line ${i + 1} of ${file} has blanks in it`);
    if (value !== undefined) out.push(line);
    else if (lookup) {
      const found = lookup(line);
      if (found !== undefined) out.push(`${key}=${found}`);
    }
  }
  return out;
}

function kvMap(values: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const v of values) {
    const [k, val = ''] = splitOnce(v, '=');
    map[k] = val;
  }
  return map;
}

/** As the API client sends them: upper case, `CAP_` added (but to ALL), each once, sorted. */
function capabilities(caps: string[]): string[] | undefined {
  const normalized = [
    ...new Set(caps.map((c) => c.toUpperCase()).map((c) => (c === 'ALL' || c.startsWith('CAP_') ? c : `CAP_${c}`))),
  ].sort();
  return normalized.length > 0 ? normalized : undefined;
}

/** `--security-opt`, a seccomp profile file sent as its compacted JSON; `systempaths=unconfined` becomes empty path lists. */
function securityOptions(g: Given, ctx: CreateContext): [string[] | undefined, { MaskedPaths?: string[]; ReadonlyPaths?: string[] }] {
  const opts = g.each('security-opt', (opt) => {
    let [k, v] = splitOnce(opt, '=');
    if (v === undefined && k !== 'no-new-privileges') [k, v] = splitOnce(opt, ':');
    if ((v === undefined || v === '') && k !== 'no-new-privileges') throw new ValueError(`'${opt}' needs a value (key=value)`);
    if (k !== 'seccomp' || v === 'builtin' || v === 'unconfined') return opt;
    let profile: string;
    try {
      profile = ctx.readFile(v!);
      JSON.parse(profile);
    } catch (err) {
      throw new ValueError(`the seccomp profile ${v} cannot be read as JSON: ${(err as Error).message}`);
    }
    return `seccomp=${compactJson(profile)}`;
  });
  const unconfined = opts.includes('systempaths=unconfined');
  const rest = opts.filter((o) => o !== 'systempaths=unconfined');
  return [rest.length > 0 ? rest : undefined, unconfined ? { MaskedPaths: [], ReadonlyPaths: [] } : {}];
}

/** encoding/json's Compact: the text as it is, without the blanks between tokens. */
function compactJson(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!' \t\n\r'.includes(c)) out += c;
  }
  return out;
}

function storageOptions(g: Given): Record<string, string> | undefined {
  const opts = g.each('storage-opt', (v) => {
    if (!v.includes('=')) throw new ValueError(`'${v}' is not a storage option (key=value)`);
    return v;
  });
  return opts.length > 0 ? kvMap(opts) : undefined;
}

const NAMESPACED_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

function sysctl(v: string): [string, string] {
  const [k, val] = splitOnce(v, '=');
  if (val === undefined || k === '' || !(NAMESPACED_SYSCTLS.has(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.'))) {
    throw new ValueError(`sysctl '${v}' is not one docker lets a container set`);
  }
  return [k, val];
}

function ulimits(g: Given): Array<{ Name: string; Hard: number; Soft: number }> {
  const byName = new Map<string, { Name: string; Hard: number; Soft: number }>();
  for (const u of g.each('ulimit', ulimit)) byName.set(u.Name, u);
  return [...byName.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/** `--add-host NAME:IP` or `NAME=IP` (an IPv6 address in brackets or not), or `host-gateway`; sent as `NAME:IP`. */
function extraHost(v: string): string {
  let [k, ip] = splitOnce(v, '=');
  if (ip === undefined) [k, ip] = splitOnce(v, ':');
  if (ip === undefined || k === '' || k.includes(':')) throw new ValueError(`'${v}' is not a host entry (NAME:IP or NAME=IP)`);
  if (ip !== 'host-gateway') {
    if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (!isIp(ip.trim())) throw new ValueError(`'${ip}' in '${v}' is not an IP address`);
  }
  return `${k}:${ip}`;
}

function isIp(text: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(text) ? text.split('.').every((o) => Number(o) <= 255 && !/^0\d/.test(o)) : isIpv6(text);
}

function isIpv6(text: string): boolean {
  const [head, tail] = splitOnce(text, '::');
  if (tail?.includes('::')) return false;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const parts = [...groups(head), ...(tail === undefined ? [] : groups(tail))];
  const last = parts[parts.length - 1] ?? '';
  const v4 = last.includes('.') ? isIp(last) && !last.includes(':') : false;
  const hex = v4 ? parts.slice(0, -1) : parts;
  const count = hex.length + (v4 ? 2 : 0);
  return (
    hex.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p)) && (last.includes('.') ? v4 : true) && (tail === undefined ? count === 8 : count < 8)
  );
}

function weightDevice(v: string): { Path: string; Weight: number } {
  const [k, w] = splitOnce(v, ':');
  if (w === undefined || k === '' || !k.startsWith('/dev/')) throw new ValueError(`'${v}' is not DEVICE:WEIGHT with a device under /dev/`);
  const weight = /^[0-9]+$/.test(w) ? Number(w) : NaN;
  if (!(weight <= 65535) || (weight > 0 && (weight < 10 || weight > 1000)))
    throw new ValueError(`the weight in '${v}' is 0 or from 10 to 1000`);
  return { Path: k, Weight: weight };
}

function throttleDevice(v: string, rate: (text: string) => number): { Path: string; Rate: number } {
  const [k, r] = splitOnce(v, ':');
  if (r === undefined || k === '' || !k.startsWith('/dev/')) throw new ValueError(`'${v}' is not DEVICE:RATE with a device under /dev/`);
  return { Path: k, Rate: rate(r) };
}

function goUint10(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new ValueError(`'${text}' is not a whole number`);
  return decimalInt(text);
}

/** `--device`: `HOST[:CONTAINER][:PERMISSIONS]`; a CDI name (`vendor.com/class=name`) is a device request. */
function deviceMappings(g: Given): {
  devices: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
  cdi: string[];
} {
  const devices: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }> = [];
  const cdi: string[] = [];
  g.each('device', (v) => {
    if (/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\.[a-z0-9]+(?:[._-][a-z0-9]+)*)*\/[a-zA-Z0-9]+(?:[._-][a-zA-Z0-9]+)*=[a-zA-Z0-9_.:-]+$/.test(v)) {
      cdi.push(v);
      return;
    }
    // As docker validates it first (cleaning the container path), then reads it.
    const split = v.split(':');
    if (split.length > 3 || split[0] === '') throw new ValueError(`'${v}' is not HOST[:CONTAINER][:rwm]`);
    let [src, dst, perms] = [clean(split[0]), clean(split[0]), 'rwm'];
    if (split.length === 2 && deviceMode(split[1])) perms = split[1];
    else if (split.length === 2) [src, dst] = [split[0], clean(split[1])];
    else if (split.length === 3) {
      if (!deviceMode(split[2])) throw new ValueError(`'${split[2]}' in '${v}' is not a device mode (r, w, m)`);
      [src, dst, perms] = [split[0], split[1], split[2]];
    }
    const container = split.length === 1 || deviceMode(split[1] ?? '') ? split[0] : split[1];
    if (!container.startsWith('/')) throw new ValueError(`${container} in '${v}' is not an absolute path`);
    devices.push({ PathOnHost: src, PathInContainer: dst, CgroupPermissions: perms });
  });
  return { devices, cdi };
}

/** Go's path.Clean. */
function clean(p: string): string {
  const normal = path.posix.normalize(p);
  return normal.length > 1 ? normal.replace(/\/$/, '') : normal;
}

function deviceMode(mode: string): boolean {
  return mode !== '' && [...mode].every((c, i) => 'rwm'.includes(c) && mode.indexOf(c) === i);
}

function healthcheck(g: Given): object | undefined {
  const cmd = g.str('health-cmd') ?? '';
  const durations = Object.fromEntries(
    (['interval', 'timeout', 'start-period', 'start-interval'] as const).map((k) => [k, g.one(`health-${k}`, goDuration) ?? 0]),
  );
  const retries = g.one('health-retries', (v) => goInt(v)) ?? 0;
  const any = cmd !== '' || retries !== 0 || Object.values(durations).some((d) => d !== 0);
  if (g.flag('no-healthcheck')) {
    if (any) g.refuse(g.last('no-healthcheck')!, '--no-healthcheck and the --health-* options contradict each other');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  for (const [k, d] of Object.entries(durations)) if (d < 0) g.refuse(g.last(`health-${k}`)!, 'a duration cannot be negative');
  if (retries < 0) g.refuse(g.last('health-retries')!, 'the retries cannot be negative');
  return {
    Test: cmd !== '' ? ['CMD-SHELL', cmd] : undefined,
    Interval: durations.interval,
    Timeout: durations.timeout,
    StartPeriod: durations['start-period'],
    StartInterval: durations['start-interval'],
    Retries: retries,
  };
}

/** `--gpus`: `all`, a count, or CSV fields (count, device, driver, capabilities, options). */
function gpuRequest(value: string): object {
  const req: { Driver?: string; Count?: number; DeviceIDs?: string[]; Capabilities?: string[][]; Options?: Record<string, string> } = {};
  const seen = new Set<string>();
  const count = (s: string) => {
    if (s === 'all') return -1;
    if (!/^[+-]?[0-9]+$/.test(s)) throw new ValueError(`'${s}' is not a GPU count ("all" or a number)`);
    return Number(s);
  };
  for (const field of csvRecord(value)) {
    const [key, val] = splitOnce(field, '=');
    if (seen.has(key)) throw new ValueError(`the GPU field '${key}' is given twice`);
    seen.add(key);
    if (val === undefined) {
      seen.add('count');
      req.Count = count(key);
      continue;
    }
    if (key === 'driver') req.Driver = val;
    else if (key === 'count') req.Count = count(val);
    else if (key === 'device') req.DeviceIDs = val.split(',');
    else if (key === 'capabilities') req.Capabilities = [[...val.split(','), 'gpu']];
    else if (key === 'options') req.Options = kvMap(csvRecord(val));
    else throw new ValueError(`'${key}' is not a GPU field (count, device, driver, capabilities, options)`);
  }
  if (!seen.has('count') && req.DeviceIDs === undefined) req.Count = 1;
  return { ...req, Options: req.Options ?? {}, Capabilities: req.Capabilities ?? [['gpu']] };
}

/** docker's checks of `--pid`, `--uts`, `--userns` and `--cgroupns` values. */
function namespaceModeValid(flag: 'pid' | 'uts' | 'userns' | 'cgroupns', mode: string): boolean {
  if (mode === '' || mode === 'host') return true;
  if (flag === 'cgroupns') return mode === 'private';
  if (flag === 'pid') return /^container:[^:]+$/.test(mode);
  return false;
}

/** The body without the fields no option set (the engine reads an absent field as unset). */
function dropUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(dropUndefined) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, dropUndefined(v)]),
  ) as T;
}
