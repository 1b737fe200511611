// Renders the fence as a Kubernetes Pod: the same RunSpec and the same ruleset text as the Docker
// path, another carrier. Pure: no processes, no API calls.
//
//   init holder    NET_ADMIN: writes the rule files, loads them atomically, writes the read-back
//   init verify    compares the read-back with the rendered rules; any difference fails it, so
//                  the build never starts (fail closed)
//   fence          NET_ADMIN: tcpdump on the NFLOG groups (its log is the evidence), and the
//                  `ipset -` that adds learned addresses, fed by the resolver through FIFOs
//   resolver       buildfence's resolver as its own user, the only user the rules let reach the
//                  upstreams; every DNS packet of the build is sent to it by the nat rule
//   build          no NET_ADMIN, NET_RAW or SETUID (it cannot become the resolver's user), no
//                  privilege escalation; starts once the fence and the resolver are ready, and
//                  ends at once (exit 125) with a sidecar's reason when one cannot start
//
// fence and resolver are native sidecars (init containers with restartPolicy Always, Kubernetes
// 1.29+) or, for clusters and engines without them, regular containers; the build waits for
// their ready files (or their `.failed` files) either way.
import type { V1Container, V1EnvVar, V1NetworkPolicy, V1NetworkPolicyPort, V1Pod, V1Volume } from '@kubernetes/client-node';
import ipaddr from 'ipaddr.js';
import { LABEL, LABEL_HOST, LABEL_PID, LABEL_RUN, RULES_MOUNT, SCRIPT_MOUNT, shellCommand } from '../docker/args.js';
import type { Upstream } from '../dns/upstream.js';
import { LOAD_SCRIPT, RULE_FILES } from '../firewall/load.js';
import { NFLOG_GROUP, renderRuleset, staticMembers, type Ruleset } from '../firewall/ruleset.js';
import type { RunSpec } from '../spec.js';
import type { AddressEntry, Entry } from '../types.js';

export const DEFAULT_AGENT_IMAGE = 'buildfence/agent:0.1.0';

/** The resolver's user: the rules let only this uid reach the upstreams. */
export const RESOLVER_UID = 53053;
/** Where the resolver listens, inside the Pod's network namespace; the nat rule sends DNS here. */
export const RESOLVER_LISTEN = { address: '127.0.0.53', port: 5353 } as const;

export const CONTAINER = { holder: 'holder', verify: 'verify', fence: 'fence', resolver: 'resolver', build: 'build' } as const;

/** Paths inside the containers. */
export const POD_PATHS = {
  readback: `${RULES_MOUNT}/readback`,
  script: 'script.sh',
  /** Where the holder writes the script (the build sees the same volume at SCRIPT_MOUNT). */
  holderScript: '/__buildfence-script',
  feed: '/__buildfence-feed',
  ready: '/__buildfence-ready',
  agent: '/opt/buildfence/cli.js',
  node: '/usr/local/bin/node',
} as const;

/** Environment variables the agent reads (set by the renderer). */
export const AGENT_ENV = { rules: 'BUILDFENCE_RULES', resolver: 'BUILDFENCE_RESOLVER' } as const;

/**
 * How long the build waits for the fence and the resolver, in tenths of a second. A sidecar that
 * fails says so at once (its `.failed` file), so this bounds only one that hangs or was killed.
 */
const READY_WAIT_TENTHS = 600;
/** The build's exit code when they never got ready. */
export const NOT_READY_EXIT = 125;
/** The file a sidecar writes into the ready volume, with its reason, when it cannot start. */
export function failedFile(sidecar: 'fence' | 'resolver'): string {
  return `${POD_PATHS.ready}/${sidecar}.failed`;
}

export interface PodIdentity {
  runId: string;
  /** The runtime's process and host (the runner pod), for finding what a killed run left; absent when rendered for kubectl. */
  pid?: number;
  host?: string;
}

export interface PodInput {
  spec: RunSpec;
  id: PodIdentity;
  /** Where allowed names are resolved: reachable from the Pod, never loopback. */
  upstreams: Upstream[];
  agentImage: string;
  sidecars: 'native' | 'regular';
  namespace?: string;
  /** The runner's volume claim (ACTIONS_RUNNER_CLAIM_NAME): the workspace comes from it, at the same path. */
  claimName?: string;
  /** The runner's node, where the claim is mounted. */
  nodeName?: string;
  /** Runner variables (GITHUB_*, RUNNER_*) with their values: a Pod cannot pass them by name. */
  runnerEnv?: Array<[string, string]>;
}

export interface ResolverConfig {
  mode: RunSpec['mode'];
  allow: Entry[];
  deny: Entry[];
  ttlMin: number;
  ttlMax: number;
  upstreams: Upstream[];
  listen: { address: string; port: number };
  /** `set element` of every element the rules load permanently: a learned address never gives them a timeout. */
  staticElements: string[];
}

export interface RenderedPod {
  pod: V1Pod;
  rules: Ruleset;
}

export class PodRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodRenderError';
  }
}

export function podName(runId: string): string {
  return `buildfence-${runId}`;
}

/**
 * The Pod's emptyDir volumes, named after the run. On a cluster a volume's name is the Pod's
 * own; podman (4.3) makes each emptyDir a host-wide named volume of that name, reused by any
 * Pod that names it and left behind by removed init containers, so two Pods with the same names
 * would share their FIFOs and ready files.
 */
export function volumeNames(runId: string): { rules: string; script: string; feed: string; ready: string } {
  return { rules: `bf-rules-${runId}`, script: `bf-script-${runId}`, feed: `bf-feed-${runId}`, ready: `bf-ready-${runId}` };
}

export function podLabels(id: PodIdentity): Record<string, string> {
  return {
    [LABEL]: '1',
    [LABEL_RUN]: id.runId,
    ...(id.pid !== undefined ? { [LABEL_PID]: String(id.pid) } : {}),
    ...(id.host !== undefined ? { [LABEL_HOST]: id.host } : {}),
  };
}

/**
 * The rules a Pod loads: no Docker host to guard, the resolver beside the build as its own user.
 * resolv.conf names the first IPv4 upstream, as the Pod's dnsConfig does: the holder writes the
 * file the whole Pod shares, and the nat rule sends every DNS packet to the resolver anyway.
 */
export function podRuleset(spec: RunSpec, upstreams: Upstream[]): Ruleset {
  checkUpstreams(upstreams);
  const rules = renderRuleset({
    mode: spec.mode,
    allow: spec.allow,
    deny: spec.deny,
    gateways: [],
    resolver: RESOLVER_LISTEN,
    resolverUser: { uid: RESOLVER_UID, upstreams },
  });
  return { ...rules, resolvConf: `nameserver ${podNameserver(upstreams)}\noptions ndots:0\n` };
}

function podNameserver(upstreams: Upstream[]): string {
  return upstreams.find((u) => ipaddr.parse(u.address).kind() === 'ipv4')!.address;
}

/**
 * The most one env value holds: the kernel refuses to start a process when one env string
 * exceeds 128 KiB, so a long value travels as NAME_0, NAME_1, ... joined again inside the Pod.
 */
export const ENV_PIECE = 96 * 1024;
/** What all env values of a Pod may add up to: the API server refuses objects over about 1.5 MiB. */
export const POD_ENV_BUDGET = 1024 * 1024;

/** `value` as NAME_0, NAME_1, ..., each at most ENV_PIECE characters (one, possibly empty, at least). */
export function envPieces(name: string, value: string): V1EnvVar[] {
  const pieces: V1EnvVar[] = [];
  for (let at = 0; at === 0 || at < value.length; at += ENV_PIECE) {
    pieces.push({ name: `${name}_${pieces.length}`, value: value.slice(at, at + ENV_PIECE) });
  }
  return pieces;
}

/** The shell words that join the pieces again: "$NAME_0" "$NAME_1" ... (for printf %s). */
function joined(pieces: V1EnvVar[]): string {
  return pieces.map((p) => `"$${p.name}"`).join(' ');
}

export function renderPod(input: PodInput): RenderedPod {
  const { spec } = input;
  if (spec.dockerOptions.length > 0) {
    throw new PodRenderError("Input 'docker-options' has no meaning on Kubernetes (the build is a container of a Pod). Remove it.");
  }
  if (spec.network !== undefined) {
    throw new PodRenderError("Input 'network' has no meaning on Kubernetes (the Pod has its own network namespace). Remove it.");
  }
  const rules = podRuleset(spec, input.upstreams);
  const pull = spec.pull === 'never' ? 'Never' : 'IfNotPresent';
  // What the resolver needs, and no more (it all travels in env values): name entries, and the
  // permanent elements a learned address (always one host) could land on.
  const names = (entries: Entry[]) => entries.filter((e) => e.kind === 'name');
  const resolver: ResolverConfig = {
    staticElements: [...staticMembers(rules)].filter((m) => !m.includes('-deny-') && /\/(32|128)(,|$)/.test(m.split(' ')[1])),
    mode: spec.mode,
    allow: names(spec.allow),
    deny: names(spec.deny),
    ttlMin: spec.dns.ttlMin,
    ttlMax: spec.dns.ttlMax,
    upstreams: input.upstreams,
    listen: RESOLVER_LISTEN,
  };
  const vol = volumeNames(input.id.runId);
  const mounts = {
    rules: { name: vol.rules, mountPath: RULES_MOUNT },
    script: { name: vol.script, mountPath: SCRIPT_MOUNT },
    feed: { name: vol.feed, mountPath: POD_PATHS.feed },
    ready: { name: vol.ready, mountPath: POD_PATHS.ready },
  };
  const holderEnv = {
    ipset: envPieces('BF_IPSET', rules.ipset),
    v4: envPieces('BF_V4', rules.v4 + rules.nat4),
    v6: envPieces('BF_V6', rules.v6),
    resolv: envPieces('BF_RESOLV', rules.resolvConf),
    // base64: Kubernetes expands $(NAME) in env values, which a script may well contain.
    script: envPieces('BF_SCRIPT', Buffer.from(spec.run.endsWith('\n') ? spec.run : `${spec.run}\n`).toString('base64')),
  };
  const holderScript = [
    'set -e',
    `printf %s ${joined(holderEnv.ipset)} > ${RULES_MOUNT}/${RULE_FILES.ipset}`,
    `printf %s ${joined(holderEnv.v4)} > ${RULES_MOUNT}/${RULE_FILES.v4}`,
    `printf %s ${joined(holderEnv.v6)} > ${RULES_MOUNT}/${RULE_FILES.v6}`,
    `printf %s ${joined(holderEnv.resolv)} > ${RULES_MOUNT}/${RULE_FILES.resolvConf}`,
    `printf %s ${joined(holderEnv.script)} | base64 -d > ${POD_PATHS.holderScript}/${POD_PATHS.script}`,
    `chmod 0644 ${POD_PATHS.holderScript}/${POD_PATHS.script}`,
    // The resolver's user owns the FIFOs; the fence's root (without DAC_OVERRIDE) opens them as group 0.
    `mkfifo -m 0660 ${POD_PATHS.feed}/in ${POD_PATHS.feed}/out`,
    `chown ${RESOLVER_UID}:0 ${POD_PATHS.feed}/in ${POD_PATHS.feed}/out`,
    `chmod 0777 ${POD_PATHS.ready}`,
    // The load script prints the read-back; init containers' logs may vanish, a file does not.
    `(\n${LOAD_SCRIPT}\n) > ${POD_PATHS.readback}`,
  ].join('\n');
  const holder: V1Container = {
    name: CONTAINER.holder,
    image: spec.holderImage,
    imagePullPolicy: pull,
    command: ['sh', '-c', holderScript],
    env: Object.values(holderEnv).flat(),
    volumeMounts: [mounts.rules, { ...mounts.script, mountPath: POD_PATHS.holderScript }, mounts.feed, mounts.ready],
    // NET_ADMIN for iptables and ipset; NET_RAW because the set match asks ipset over a raw
    // socket; CHOWN for the FIFOs the resolver owns.
    securityContext: rootWith(['NET_ADMIN', 'NET_RAW', 'CHOWN']),
  };
  const verify: V1Container = {
    name: CONTAINER.verify,
    image: input.agentImage,
    imagePullPolicy: pull,
    command: [POD_PATHS.node, POD_PATHS.agent, 'pod-verify', POD_PATHS.readback],
    env: envPieces(AGENT_ENV.rules, JSON.stringify(rules)),
    volumeMounts: [{ ...mounts.rules, readOnly: true }],
    securityContext: unprivileged(RESOLVER_UID),
  };
  const iface = `nflog:${NFLOG_GROUP.denied},${NFLOG_GROUP.audit}`;
  const fenceScript = [
    // A restarted sidecar (native sidecars restart) starts without its old failure.
    `rm -f ${failedFile('fence')}`,
    `fail() { printf '%s\\n' "$1" > ${failedFile('fence')}; echo "buildfence fence: $1" >&2; exit 1; }`,
    // The log of this container is the evidence: one tcpdump line per denied attempt. tcpdump
    // drops to its own user before it says it listens, and this root holds no CAP_KILL, so not
    // even `kill -0` reaches it then (issue 7): its end is told by the file its subshell writes.
    `( tcpdump -tt -q -n -l -e -i ${iface} 2>/tmp/tcpdump.err; echo $? > /tmp/tcpdump.exit ) &`,
    `until grep -q 'listening on' /tmp/tcpdump.err 2>/dev/null; do`,
    `  [ ! -e /tmp/tcpdump.exit ] || fail "tcpdump ended (exit $(cat /tmp/tcpdump.exit)) before it listened: $(tail -n 3 /tmp/tcpdump.err)"`,
    '  sleep 0.1',
    'done',
    `touch ${POD_PATHS.ready}/fence`,
    `exec ipset - < ${POD_PATHS.feed}/in 2> ${POD_PATHS.feed}/out > /dev/null`,
  ].join('\n');
  const native = input.sidecars === 'native';
  const sidecar = (c: V1Container, ready: string): V1Container =>
    native
      ? {
          ...c,
          restartPolicy: 'Always',
          startupProbe: {
            exec: {
              command:
                ready === 'fence'
                  ? ['test', '-e', `${POD_PATHS.ready}/fence`]
                  : [POD_PATHS.node, '-e', `require('fs').accessSync('${POD_PATHS.ready}/${ready}')`],
            },
            periodSeconds: 1,
            failureThreshold: 60,
          },
        }
      : c;
  const fence = sidecar(
    {
      name: CONTAINER.fence,
      image: spec.holderImage,
      imagePullPolicy: pull,
      command: ['sh', '-c', fenceScript],
      volumeMounts: [mounts.feed, mounts.ready],
      // SETUID and SETGID: tcpdump drops to its own user once it listens.
      securityContext: rootWith(['NET_ADMIN', 'NET_RAW', 'SETUID', 'SETGID']),
    },
    'fence',
  );
  const resolverContainer = sidecar(
    {
      name: CONTAINER.resolver,
      image: input.agentImage,
      imagePullPolicy: pull,
      command: [POD_PATHS.node, POD_PATHS.agent, 'pod-resolver'],
      env: envPieces(AGENT_ENV.resolver, JSON.stringify(resolver)),
      volumeMounts: [mounts.feed, mounts.ready],
      securityContext: unprivileged(RESOLVER_UID),
    },
    'resolver',
  );
  const script = `${SCRIPT_MOUNT}/${POD_PATHS.script}`;
  // Ready files first (a native sidecar may have failed once and been restarted), then the
  // failures a sidecar reports, so the build ends at once with the sidecar's own reason.
  const r = POD_PATHS.ready;
  const waitReady = [
    `i=0; while [ ! -e ${r}/fence ] || [ ! -e ${r}/resolver ]; do`,
    '  for s in fence resolver; do',
    `    [ ! -e ${r}/$s.failed ] || { echo "buildfence: the $s failed, so the build was not run: $(cat ${r}/$s.failed)" >&2; exit ${NOT_READY_EXIT}; }`,
    '  done',
    `  i=$((i+1)); [ $i -le ${READY_WAIT_TENTHS} ] || {`,
    `    echo "buildfence: the$([ -e ${r}/fence ] || echo ' fence')$([ -e ${r}/fence ] || [ -e ${r}/resolver ] || echo ' and the')$([ -e ${r}/resolver ] || echo ' resolver') did not get ready in ${READY_WAIT_TENTHS / 10} s, so the build was not run" >&2`,
    `    exit ${NOT_READY_EXIT}`,
    '  }',
    '  sleep 0.1',
    'done',
    'exec "$@"',
  ].join('\n');
  const build: V1Container = {
    name: CONTAINER.build,
    image: spec.image,
    imagePullPolicy: pull,
    command: ['sh', '-c', waitReady, 'sh', ...shellCommand(spec.shell, script)],
    // Without the runner's claim there is no workspace here: the image's own directory.
    ...(input.claimName ? { workingDir: spec.workingDirectory } : {}),
    env: [...(input.runnerEnv ?? []), ...spec.env].map(([name, value]): V1EnvVar => ({ name, value: escapeDollars(value) })),
    volumeMounts: [
      { ...mounts.script, readOnly: true },
      { ...mounts.ready, readOnly: true },
      ...(input.claimName ? [{ name: 'workspace', mountPath: spec.workspace }] : []),
    ],
    securityContext: {
      privileged: false,
      allowPrivilegeEscalation: false,
      // SETUID: with it a root build could take the resolver's uid, and with it the way upstream.
      capabilities: { drop: ['NET_ADMIN', 'NET_RAW', 'SETUID'] },
    },
  };
  const volumes: V1Volume[] = [
    { name: vol.rules, emptyDir: {} },
    { name: vol.script, emptyDir: {} },
    { name: vol.feed, emptyDir: {} },
    { name: vol.ready, emptyDir: {} },
    ...(input.claimName ? [{ name: 'workspace', persistentVolumeClaim: { claimName: input.claimName } }] : []),
  ];
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(input.id.runId),
      ...(input.namespace ? { namespace: input.namespace } : {}),
      labels: podLabels(input.id),
      annotations: { 'buildfence/grade': spec.grade, 'buildfence/mode': spec.mode },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      shareProcessNamespace: false,
      ...(input.nodeName ? { nodeName: input.nodeName } : {}),
      // Any DNS packet is sent to the resolver by the nat rule; naming an upstream here keeps
      // resolv.conf what a build expects to see, and the packet never reaches it.
      dnsPolicy: 'None',
      dnsConfig: { nameservers: [podNameserver(input.upstreams)], options: [{ name: 'ndots', value: '0' }] },
      initContainers: [holder, verify, ...(native ? [fence, resolverContainer] : [])],
      containers: [...(native ? [] : [fence, resolverContainer]), build],
      volumes,
    },
  };
  const envSize = [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers]
    .flatMap((c) => c.env ?? [])
    .reduce((n, e) => n + (e.value?.length ?? 0), 0);
  if (envSize > POD_ENV_BUDGET) {
    throw new PodRenderError(
      `The Pod would carry ${Math.ceil(envSize / 1024)} KiB of rules, script and settings, more than the ${POD_ENV_BUDGET / 1024} KiB ` +
        `a Pod can hold (the Kubernetes API refuses objects over about 1.5 MiB). The allowlist has ${spec.allow.length} entries: ` +
        'merge neighbouring addresses into networks, or name hosts instead of listing their addresses.',
    );
  }
  return { pod, rules };
}

/**
 * An egress NetworkPolicy for the address entries, as a second layer where the network plugin
 * enforces one. Names cannot be written in a NetworkPolicy, so it is refused when there are any.
 */
export function renderNetworkPolicy(spec: RunSpec, id: PodIdentity, upstreams: Upstream[], namespace?: string): V1NetworkPolicy {
  if (spec.mode !== 'block') {
    throw new PodRenderError(
      `Grade '${spec.grade}' runs in audit mode, which lets everything through: a NetworkPolicy would block what audit only records. Leave out --networkpolicy.`,
    );
  }
  const names = spec.allow.filter((e) => e.kind === 'name');
  if (names.length > 0) {
    throw new PodRenderError(
      `A NetworkPolicy cannot name hosts, so it would block the addresses of ${names.map((e) => `'${e.text}'`).join(', ')}. ` +
        'Use --networkpolicy only with address entries (the Pod alone fences names).',
    );
  }
  const deny = addressEntries(spec.deny);
  const egress = addressEntries(spec.allow).map((e) => ({
    to: [{ ipBlock: { cidr: e.cidr, ...exceptions(e, deny) } }],
    ports: e.protocols.map((p): V1NetworkPolicyPort => ({
      protocol: p.toUpperCase(),
      ...(e.ports ? { port: e.ports.from, ...(e.ports.to !== e.ports.from ? { endPort: e.ports.to } : {}) } : {}),
    })),
  }));
  for (const u of upstreams) {
    const cidr = `${u.address}/${ipaddr.parse(u.address).kind() === 'ipv4' ? 32 : 128}`;
    egress.push({ to: [{ ipBlock: { cidr } }], ports: ['UDP', 'TCP'].map((protocol) => ({ protocol, port: u.port })) });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: podName(id.runId), ...(namespace ? { namespace } : {}), labels: podLabels(id) },
    spec: { podSelector: { matchLabels: { [LABEL_RUN]: id.runId } }, policyTypes: ['Egress'], egress },
  };
}

function checkUpstreams(upstreams: Upstream[]): void {
  if (upstreams.length === 0) throw new PodRenderError("The Pod needs a DNS upstream: set input 'dns-upstream' (--dns-upstream).");
  for (const u of upstreams) {
    if (ipaddr.parse(u.address).range() === 'loopback') {
      throw new PodRenderError(
        `DNS upstream ${u.address} is a loopback address, which a Pod cannot reach. Set input 'dns-upstream' (--dns-upstream) ` +
          "to the cluster's DNS service (kubectl -n kube-system get service kube-dns).",
      );
    }
  }
  if (!upstreams.some((u) => ipaddr.parse(u.address).kind() === 'ipv4')) {
    throw new PodRenderError("The Pod needs an IPv4 DNS upstream (DNS is answered over IPv4 only): add one to input 'dns-upstream'.");
  }
}

// A deny entry inside an allowed network becomes an `except` of its block (NetworkPolicy's only form of deny).
function exceptions(allow: AddressEntry, deny: AddressEntry[]): { except?: string[] } {
  const [net, prefix] = ipaddr.parseCIDR(allow.cidr);
  const inside = deny
    .filter((d) => d.family === allow.family)
    .filter((d) => {
      const [addr, p] = ipaddr.parseCIDR(d.cidr);
      return p > prefix && addr.match(net, prefix);
    })
    .map((d) => d.cidr);
  return inside.length > 0 ? { except: [...new Set(inside)] } : {};
}

function rootWith(caps: string[]): V1Container['securityContext'] {
  return {
    runAsUser: 0,
    runAsNonRoot: false,
    privileged: false,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], add: caps },
  };
}

function unprivileged(uid: number): V1Container['securityContext'] {
  return {
    runAsUser: uid,
    runAsGroup: uid,
    runAsNonRoot: true,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  };
}

// Kubernetes expands $(NAME) in env values; $$ is its escape for a literal $.
function escapeDollars(value: string): string {
  return value.replace(/\$/g, () => '$$');
}

function addressEntries(entries: Entry[]): AddressEntry[] {
  return entries.filter((e): e is AddressEntry => e.kind === 'address');
}
