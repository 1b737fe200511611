// Reads the user's extra `docker run` options and refuses those that would weaken the fence.
// The options go on the build's `docker create` line before buildfence's own flags, so this
// guard reads them exactly as docker's flag parser (pflag) does: a word misread as a value here
// but as a flag by docker, or a stray word that docker takes for the image, would slip past it.
import { BUILD_DROPPED_CAPABILITIES, BUILD_REFUSED_CAPABILITIES, SCRIPT_MOUNT } from '../run/build.js';
import { splitWords } from '../run/shell-words.js';
import type { Mode } from '../run/entry.js';
import { engineExposure } from './engine-paths.js';

/** Splits the input into words like a shell would, but expands and runs nothing. */
export function parseDockerOptions(value: string, label: string): string[] {
  return splitWords(value, label);
}

// docker run's flags (docker CLI 28). Booleans never take the next word; every other flag does,
// whatever that word looks like. A flag outside these lists is refused unless written with `=`,
// because only then is it clear where its value ends.
export const BOOLEAN_FLAGS = new Set([
  'detach',
  'disable-content-trust',
  'help',
  'init',
  'interactive',
  'no-healthcheck',
  'oom-kill-disable',
  'privileged',
  'publish-all',
  'quiet',
  'read-only',
  'rm',
  'sig-proxy',
  'tty',
  'use-api-socket',
]);
export const VALUE_FLAGS = new Set([
  'add-host',
  'annotation',
  'attach',
  'blkio-weight',
  'blkio-weight-device',
  'cap-add',
  'cap-drop',
  'cgroup-parent',
  'cgroupns',
  'cidfile',
  'cpu-count',
  'cpu-percent',
  'cpu-period',
  'cpu-quota',
  'cpu-rt-period',
  'cpu-rt-runtime',
  'cpu-shares',
  'cpus',
  'cpuset-cpus',
  'cpuset-mems',
  'detach-keys',
  'device',
  'device-cgroup-rule',
  'device-read-bps',
  'device-read-iops',
  'device-write-bps',
  'device-write-iops',
  'dns',
  'dns-option',
  'dns-search',
  'domainname',
  'entrypoint',
  'env',
  'env-file',
  'expose',
  'gpus',
  'group-add',
  'health-cmd',
  'health-interval',
  'health-retries',
  'health-start-interval',
  'health-start-period',
  'health-timeout',
  'hostname',
  'io-maxbandwidth',
  'io-maxiops',
  'ip',
  'ip6',
  'ipc',
  'isolation',
  'kernel-memory',
  'label',
  'label-file',
  'link',
  'link-local-ip',
  'log-driver',
  'log-opt',
  'mac-address',
  'memory',
  'memory-reservation',
  'memory-swap',
  'memory-swappiness',
  'mount',
  'name',
  'network',
  'network-alias',
  'oom-score-adj',
  'pid',
  'pids-limit',
  'platform',
  'publish',
  'pull',
  'restart',
  'runtime',
  'security-opt',
  'shm-size',
  'stop-signal',
  'stop-timeout',
  'storage-opt',
  'sysctl',
  'tmpfs',
  'ulimit',
  'user',
  'userns',
  'uts',
  'volume',
  'volume-driver',
  'volumes-from',
  'workdir',
]);
// Maps, not object literals: keys come from the user, and `constructor` is not a flag.
/** Hidden spellings docker accepts for the same flag. */
const ALIASES = new Map([
  ['net', 'network'],
  ['net-alias', 'network-alias'],
  ['dns-opt', 'dns-option'],
]);
const SHORT_FLAGS = new Map(
  Object.entries({
    a: 'attach',
    c: 'cpu-shares',
    d: 'detach',
    e: 'env',
    h: 'hostname',
    i: 'interactive',
    l: 'label',
    m: 'memory',
    p: 'publish',
    P: 'publish-all',
    q: 'quiet',
    t: 'tty',
    u: 'user',
    v: 'volume',
    w: 'workdir',
  }),
);

export interface Option {
  /** The long name, aliases resolved. */
  name: string;
  value?: string;
  /** As the user wrote it, for messages. */
  written: string;
}

/** A host path as the engine will mount it (symlinks followed), or undefined when it cannot be told. */
export type RealPath = (source: string) => string | undefined;

export interface GuardContext {
  /** How messages name the input: "Input 'docker-options'" or "--docker-options". */
  label: string;
  /** The grade, named in the message of an option refused in block mode. */
  grade: string;
  /** Where a host path leads (links followed), so that a mount source that is a link is judged by its target. */
  realPath?: RealPath;
}

/**
 * Throws an error naming every refused option, why, and what to do. Some options are refused in
 * every mode because the fence depends on them; some only in block mode.
 */
export function checkDockerOptions(args: string[], mode: Mode, ctx: GuardContext): void {
  const { options, problems } = readOptions(args, ctx.label);
  for (const option of options) {
    for (const refusal of refusals(option, mode, ctx.realPath)) {
      const fix = refusal.blockOnly
        ? ` is refused in block mode (grade ${ctx.grade}); use a dev grade if the build truly needs it.`
        : `. ${refusal.fix ?? 'Remove it.'}`;
      problems.push(`${ctx.label} refuses '${option.written}': ${refusal.reason}${fix}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** The options as pflag reads them, and what it refuses: a word that is not an option, a missing value. */
export function readOptions(args: string[], label: string): { options: Option[]; problems: string[] } {
  const options: Option[] = [];
  const problems: string[] = [];
  const missing = (written: string) => problems.push(`${label} ends with '${written}', which needs a value. Give it one, or remove it.`);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--' || arg === '-' || !arg.startsWith('-')) {
      // docker stops reading options at the first other word and takes it for the image, which
      // would turn buildfence's own flags after it into the build's command.
      problems.push(
        `${label} refuses '${arg}': only options are accepted here (the image and the command come from other inputs). ` +
          'Remove it, or give it to the option it belongs to.',
      );
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const written = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const name = ALIASES.get(written) ?? written;
      if (eq !== -1) {
        if (written === '' || written.startsWith('-')) problems.push(`${label} refuses '${arg}': it is not an option. Remove it.`);
        else options.push({ name, value: arg.slice(eq + 1), written: arg });
      } else if (BOOLEAN_FLAGS.has(name)) {
        options.push({ name, written: arg });
      } else if (VALUE_FLAGS.has(name)) {
        if (i + 1 === args.length) missing(arg);
        else options.push({ name, value: args[++i], written: `${arg} ${args[i]}` });
      } else {
        problems.push(
          `${label} refuses '${arg}': buildfence does not know this docker run option, so it cannot tell whether the next word ` +
            `is its value. Write it as ${arg}=VALUE (or ${arg}=true).`,
        );
      }
      continue;
    }
    // A cluster of short flags, read as pflag does: booleans one letter each; the first letter
    // that takes a value takes the rest of the word (after an optional '='), or the next word.
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j];
      const name = SHORT_FLAGS.get(letter);
      if (name === undefined) {
        problems.push(`${label} refuses '${arg}': '-${letter}' is not a docker run option. Remove it.`);
        break;
      }
      const rest = arg.slice(j + 1);
      if (rest.length > 1 && rest.startsWith('=')) {
        options.push({ name, value: rest.slice(1), written: arg });
        break;
      }
      if (BOOLEAN_FLAGS.has(name)) {
        options.push({ name, written: arg.length === 2 ? arg : `-${letter} (in ${arg})` });
      } else if (rest !== '') {
        options.push({ name, value: rest, written: arg });
        break;
      } else if (i + 1 === args.length) {
        missing(arg);
      } else {
        options.push({ name, value: args[++i], written: `${arg} ${args[i]}` });
      }
    }
  }
  return { options, problems };
}

interface Refusal {
  reason: string;
  blockOnly: boolean;
  /** What to do instead, when it is more than removing the option. */
  fix?: string;
}

const always = (reason: string, fix?: string): Refusal[] => [{ reason, blockOnly: false, ...(fix ? { fix } : {}) }];
const inBlock = (mode: Mode, reason: string): Refusal[] => (mode === 'block' ? [{ reason, blockOnly: true }] : []);

const LIFECYCLE = 'buildfence creates, runs and removes the build container itself';
const HOST_NAMESPACE: Record<string, string> = {
  pid: "the host's PID namespace would let the build see and signal the runner's processes",
  ipc: "the host's IPC namespace would let the build reach the runner's shared memory",
  uts: "the host's UTS namespace would let the build rename the runner",
  userns: "'host' turns off user-namespace remapping",
};

function refusals(option: Option, mode: Mode, realPath?: RealPath): Refusal[] {
  const value = option.value ?? '';
  switch (option.name) {
    case 'privileged':
      return always('a privileged build could rewrite the fence and reach the host');
    case 'use-api-socket':
      return always('the Docker API socket would let the build start containers outside the fence');
    case 'network':
      return always("the build joins the holder's network namespace; another network would bypass the fence");
    case 'dns':
    case 'dns-option':
    case 'dns-search':
      return always("DNS is buildfence's: the build's resolver is the fence's own");
    case 'entrypoint':
      return always("buildfence runs the build's shell as the entrypoint");
    case 'rm':
    case 'name':
    case 'detach':
    case 'restart':
      return always(LIFECYCLE);
    case 'help':
      return always('docker would print its usage instead of running the build');
    case 'volumes-from':
      return always("another container's mounts could hand the build the Docker socket");
    case 'cgroupns':
      return value.toLowerCase() === 'host' ? always("the host's cgroup namespace exposes the runner's cgroups") : [];
    case 'pid':
    case 'ipc':
    case 'uts':
    case 'userns':
      return value.toLowerCase() === 'host' ? always(HOST_NAMESPACE[option.name]) : inBlock(mode, `choosing the ${option.name} namespace`);
    case 'cap-add':
      return value.split(',').flatMap((cap) => capabilityRefusals(cap, mode));
    case 'security-opt':
      return securityOptRefusals(value, mode);
    case 'volume': {
      // Only `source:target[:options]` names a host path; a lone path is an anonymous volume.
      const parts = value.split(':');
      if (parts.length === 1) return mountTargetRefusals(parts[0]);
      return [...mountSourceRefusals(parts[0], realPath), ...mountTargetRefusals(parts[1])];
    }
    case 'tmpfs':
      return mountTargetRefusals(value.split(':')[0]);
    case 'mount':
      return mountFields(value).flatMap(([key, val]) => {
        if (key === 'source' || key === 'src') return mountSourceRefusals(val, realPath);
        if (key === 'target' || key === 'dst' || key === 'destination') return mountTargetRefusals(val);
        const [optKey = '', device = ''] = splitOnce(val, '=');
        return key === 'volume-opt' && optKey.trim().toLowerCase() === 'device' ? volumeDeviceRefusals(device, realPath) : [];
      });
    case 'sysctl': {
      // runc also reads `net/ipv4/ip_forward` as `net.ipv4.ip_forward`.
      const key = splitOnce(value, '=')[0].trim().toLowerCase().replaceAll('/', '.');
      return key.startsWith('net.') ? always("the build shares the holder's network namespace, whose settings are the fence's") : [];
    }
    case 'label':
      return /^buildfence/i.test(value.trim())
        ? always("labels under 'buildfence' are how buildfence finds and removes what it created")
        : [];
    case 'device':
      return inBlock(mode, 'a host device');
    case 'device-cgroup-rule':
      return inBlock(mode, 'a device cgroup rule');
    case 'cgroup-parent':
      return inBlock(mode, 'choosing the parent cgroup');
    default:
      return [];
  }
}

// Adding one of these takes precedence over buildfence's --cap-drop, so they are refused outright.
const REFUSED_CAPABILITIES = new Map(Object.entries({ ...BUILD_DROPPED_CAPABILITIES, ...BUILD_REFUSED_CAPABILITIES }));

function capabilityRefusals(cap: string, mode: Mode): Refusal[] {
  // Normalized as docker does: trimmed, upper case, CAP_ prefix optional.
  const name = cap.trim().toUpperCase().replace(/^CAP_/, '');
  const reason = REFUSED_CAPABILITIES.get(name);
  return reason !== undefined ? always(reason) : inBlock(mode, `adding a capability (${name})`);
}

/** Go's strconv.ParseBool spellings of true, lower-cased; anything else is false or an error. */
const TRUE = ['1', 't', 'true'];
/**
 * Security options that lower the build's confinement, with the one value of each that keeps the
 * default (none for SELinux labels: any label chooses the build's domain, unconfined among them).
 */
const PROFILE_DEFAULTS = new Map<string, string | undefined>([
  ['seccomp', 'builtin'],
  ['apparmor', 'docker-default'],
  ['label', undefined],
]);
const LOWERED_CONFINEMENT = new Map([
  ['systempaths', ['unconfined']],
  ['writable-cgroups', TRUE],
]);

function securityOptRefusals(opt: string, mode: Mode): Refusal[] {
  // docker splits at the first '=', or else at the first ':'.
  const [rawKey = '', rawValue] = opt.includes('=') ? splitOnce(opt, '=') : splitOnce(opt, ':');
  const key = rawKey.trim().toLowerCase();
  const value = (rawValue ?? '').trim().toLowerCase();
  if (key === 'no-new-privileges') {
    return rawValue === undefined || TRUE.includes(value)
      ? []
      : always('the build must keep no-new-privileges, so that setuid programs cannot raise its privileges');
  }
  if (PROFILE_DEFAULTS.has(key)) {
    // A profile of the user's own may allow what the default refuses; only the default is reviewed.
    return value === PROFILE_DEFAULTS.get(key)
      ? []
      : inBlock(mode, `replacing the build's ${key} profile (${key} ${(rawValue ?? '').trim()})`);
  }
  return LOWERED_CONFINEMENT.get(key)?.includes(value) ? inBlock(mode, `lowering confinement (${key} ${value})`) : [];
}

function mountSourceRefusals(source: string, realPath?: RealPath): Refusal[] {
  const written = source.trim();
  if (!isHostPath(written)) return [];
  const exposure = engineExposure(written);
  if (exposure) return always(exposure.reason, exposure.fix);
  // The engine follows links in a bind mount's source: what it mounts is where they lead.
  const real = realPath?.(written);
  const through = real === undefined || real === written ? undefined : engineExposure(real);
  return through ? always(`${written} leads to ${real}: ${through.reason}`, 'Mount the directory you mean by its own path.') : [];
}

/**
 * The local volume driver mounts `device`: a host directory with `o=bind`, or a block device,
 * which may hold the engine's state (/var/lib/docker) whatever directory it is.
 */
function volumeDeviceRefusals(device: string, realPath?: RealPath): Refusal[] {
  const path = device.trim();
  if (/^\/+dev(\/|$)/i.test(path)) return always(`${path} is a host device, and a disk holds the engine's images and containers`);
  return mountSourceRefusals(path, realPath);
}

/** A named volume that the options mount, and the options it was created with (`docker volume inspect`). */
export interface NamedVolume {
  name: string;
  driver: string;
  options: Record<string, string>;
}

/** The names of the volumes the options mount (`-v NAME:/x`, `--mount type=volume,src=NAME`), each once. */
export function namedVolumes(args: string[]): string[] {
  const names = new Set<string>();
  for (const option of readOptions(args, '').options) {
    const value = option.value ?? '';
    if (option.name === 'volume' && value.includes(':')) names.add(value.split(':')[0]);
    if (option.name === 'mount') {
      const fields = new Map(mountFields(value));
      const source = fields.get('source') ?? fields.get('src');
      if ((fields.get('type') ?? 'volume').trim().toLowerCase() === 'volume' && source) names.add(source.trim());
    }
  }
  return [...names].filter((n) => n !== '' && !isHostPath(n));
}

/**
 * Throws when a named volume the options mount was made by the local driver from a host path
 * (`docker volume create -o type=none -o o=bind -o device=/run/docker`) or a host device that
 * the guard would refuse as a mount source, in every mode, naming the volume and the path.
 */
export function checkNamedVolumes(volumes: NamedVolume[], ctx: Pick<GuardContext, 'label' | 'realPath'>): void {
  const problems = volumes.flatMap((v) => {
    const device = v.driver === 'local' ? v.options.device : undefined;
    return device === undefined
      ? []
      : volumeDeviceRefusals(device, ctx.realPath).map(
          (r) => `${ctx.label} mounts volume '${v.name}', which the local driver makes from ${device.trim()}: ${r.reason}. Remove it.`,
        );
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** docker reads a source that starts with '/' or '.' as a host path, anything else as a volume name. */
export function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.');
}

/** A mount over buildfence's own files in the build would replace its script or its seccomp filter program. */
function mountTargetRefusals(target: string): Refusal[] {
  const path = `/${target
    .trim()
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/')}`;
  return path === SCRIPT_MOUNT || path.startsWith(`${SCRIPT_MOUNT}/`)
    ? always(`${SCRIPT_MOUNT} holds the build's script and buildfence's seccomp filter program`)
    : [];
}

/** `--mount` is one CSV record of key=value fields; keys are case-insensitive, as docker reads them. */
function mountFields(value: string): Array<[string, string]> {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && quoted && value[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && (c === ',' || c === '\n')) {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields.map((f) => {
    const [key = '', val = ''] = splitOnce(f, '=');
    return [key.trim().toLowerCase(), val];
  });
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at === -1 ? [text] : [text.slice(0, at), text.slice(at + separator.length)];
}
