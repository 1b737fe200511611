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
// their ready files (or their `.failed` files) either way. The scripts are pod-scripts.ts.
import type { V1Container, V1EnvVar, V1Pod, V1Volume } from '@kubernetes/client-node';
import ipaddr from 'ipaddr.js';
import { resolverSettings, type ResolverSettings } from '../dns/settings.js';
import { ruleFileTexts } from '../firewall/rule-files.js';
import { checkedName, renderRuleset, staticMembers, type Ruleset } from '../firewall/ruleset.js';
import {
  BUILD_DROPPED_CAPABILITIES,
  FENCE_CAPABILITIES,
  POD_BUILD_DROPPED_CAPABILITIES,
  READER_CAPABILITIES,
  RULES_MOUNT,
  SCRIPT_MOUNT,
  SCRIPT_NAME,
  filteredCommand,
  scriptText,
  shellCommand,
} from '../run/build.js';
import { runLabels, type RunIdentity } from '../run/identity.js';
import { inputLabel, type RunSpec, type Upstream } from '../run/spec.js';
import { envPieces, POD_ENV_BUDGET } from './env-pieces.js';
import { AGENT_ENV, CHECKER_LISTEN, CONTAINER, POD_PATHS, podName, RESOLVER_LISTEN, RESOLVER_UID, volumeNames } from './pod-layout.js';
import { fenceScript, holderInitScript, waitReadyScript, type HolderEnv } from './pod-scripts.js';

export interface PodInput {
  spec: RunSpec;
  /** The runtime's process and host (the runner pod), for finding what a killed run left; absent when rendered for kubectl. */
  id: RunIdentity;
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

/** The Pod resolver's settings, as the agent reads them from its env. */
export interface ResolverConfig extends ResolverSettings {
  upstreams: Upstream[];
  listen: { address: string; port: number };
  /** `set element` of every element the rules load permanently: a learned address never gives them a timeout. */
  staticElements: string[];
  /** The name checker beside the resolver, when a name entry is checked on the wire. */
  checker?: { port: number };
}

export interface RenderedPod {
  pod: V1Pod;
  rules: Ruleset;
}

/**
 * The rules a Pod loads: no Docker host to guard, the resolver beside the build as its own user.
 * resolv.conf names the first IPv4 upstream, as the Pod's dnsConfig does: the holder writes the
 * file the whole Pod shares, and the nat rule sends every DNS packet to the resolver anyway.
 */
export function podRuleset(spec: RunSpec, upstreams: Upstream[]): Ruleset {
  checkUpstreams(upstreams, inputLabel(spec.via, 'dns-upstream'));
  const rules = renderRuleset({
    mode: spec.mode,
    allow: spec.allow,
    deny: spec.deny,
    gateways: [],
    resolver: RESOLVER_LISTEN,
    resolverUser: { uid: RESOLVER_UID, upstreams },
    // The checker is the resolver's user too: its own connections leave the Pod unchanged.
    checker: { ...CHECKER_LISTEN, uid: RESOLVER_UID },
  });
  return { ...rules, resolvConf: `nameserver ${podNameserver(upstreams)}\noptions ndots:0\n` };
}

function podNameserver(upstreams: Upstream[]): string {
  return upstreams.find((u) => ipaddr.parse(u.address).kind() === 'ipv4')!.address;
}

export function renderPod(input: PodInput): RenderedPod {
  const { spec } = input;
  for (const [name, set, why] of [
    ['docker-options', spec.dockerOptions.length > 0, 'the build is a container of a Pod'],
    ['network', spec.network !== undefined, 'the Pod has its own network namespace'],
  ] as const) {
    if (set) throw new Error(`${inputLabel(spec.via, name)} has no meaning on Kubernetes (${why}). Remove it.`);
  }
  // Service containers by name are the Docker runtime's (a network's container names, answered by buildfence's resolver).
  for (const e of spec.allow) {
    if (e.kind === 'name' && !e.wildcard && !e.name.includes('.') && e.name !== 'localhost') {
      throw new Error(
        `Allowlist entry '${e.text}' is a single-label name, which only a Docker network's container answers to; on Kubernetes ` +
          "the build's Pod cannot reach the job's service containers (in a Kubernetes-mode job they share the job Pod's localhost). " +
          `Name a Kubernetes Service by its cluster name instead (${e.name}.NAMESPACE.svc.cluster.local${e.ports ? `:${e.ports.from === e.ports.to ? e.ports.from : `${e.ports.from}-${e.ports.to}`}` : ''}).`,
      );
    }
  }
  const rules = podRuleset(spec, input.upstreams);
  const pull = spec.pull === 'never' ? 'Never' : 'IfNotPresent';
  // What the resolver needs, and no more (it all travels in env values): name entries, and the
  // permanent elements a learned address (always one host) could land on.
  const resolver: ResolverConfig = {
    ...resolverSettings(spec),
    staticElements: [...staticMembers(rules)].filter((m) => !m.includes('-deny-') && /\/(32|128)(,|$)/.test(m.split(' ')[1])),
    upstreams: input.upstreams,
    listen: RESOLVER_LISTEN,
    ...(spec.allow.some(checkedName) ? { checker: { port: CHECKER_LISTEN.port } } : {}),
  };
  const vol = volumeNames(input.id.runId);
  const mounts = {
    rules: { name: vol.rules, mountPath: RULES_MOUNT },
    script: { name: vol.script, mountPath: SCRIPT_MOUNT },
    feed: { name: vol.feed, mountPath: POD_PATHS.feed },
    ready: { name: vol.ready, mountPath: POD_PATHS.ready },
  };
  const files = ruleFileTexts(rules);
  const holderEnv: HolderEnv = {
    ipset: envPieces('BF_IPSET', files.ipset),
    v4: envPieces('BF_V4', files.v4),
    v6: envPieces('BF_V6', files.v6),
    resolvConf: envPieces('BF_RESOLV', files.resolvConf),
    // base64: Kubernetes expands $(NAME) in env values, which a script may well contain.
    script: envPieces('BF_SCRIPT', Buffer.from(scriptText(spec.run)).toString('base64')),
  };
  const holder: V1Container = {
    name: CONTAINER.holder,
    image: spec.holderImage,
    imagePullPolicy: pull,
    command: ['sh', '-c', holderInitScript(holderEnv)],
    env: Object.values(holderEnv).flat(),
    volumeMounts: [mounts.rules, { ...mounts.script, mountPath: POD_PATHS.holderScript }, mounts.feed, mounts.ready],
    // CHOWN for the FIFOs the resolver owns.
    securityContext: rootWith([...FENCE_CAPABILITIES, 'CHOWN']),
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
      command: ['sh', '-c', fenceScript()],
      volumeMounts: [mounts.feed, mounts.ready],
      securityContext: rootWith([...FENCE_CAPABILITIES, ...READER_CAPABILITIES]),
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
  const build: V1Container = {
    name: CONTAINER.build,
    image: spec.image,
    imagePullPolicy: pull,
    // The seccomp filter first: nothing of the build's image runs without it.
    command: filteredCommand(['sh', '-c', waitReadyScript(), 'sh', ...shellCommand(spec.shell, `${SCRIPT_MOUNT}/${SCRIPT_NAME}`)]),
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
      capabilities: { drop: Object.keys({ ...BUILD_DROPPED_CAPABILITIES, ...POD_BUILD_DROPPED_CAPABILITIES }) },
      // Kubernetes runs a container unconfined unless asked (or SeccompDefault is on): the
      // runtime's default profile, and buildfence's filter on top of it (seccomp-exec).
      seccompProfile: { type: 'RuntimeDefault' },
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
      labels: runLabels(input.id),
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
  checkEnvBudget(pod, spec.allow.length);
  return { pod, rules };
}

function checkEnvBudget(pod: V1Pod, entries: number): void {
  const envSize = [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers]
    .flatMap((c) => c.env ?? [])
    .reduce((n, e) => n + (e.value?.length ?? 0), 0);
  if (envSize > POD_ENV_BUDGET) {
    throw new Error(
      `The Pod would carry ${Math.ceil(envSize / 1024)} KiB of rules, script and settings, more than the ${POD_ENV_BUDGET / 1024} KiB ` +
        `a Pod can hold (the Kubernetes API refuses objects over about 1.5 MiB). The allowlist has ${entries} entries: ` +
        'merge neighbouring addresses into networks, or name hosts instead of listing their addresses.',
    );
  }
}

function checkUpstreams(upstreams: Upstream[], label: string): void {
  if (upstreams.length === 0) throw new Error(`The Pod needs a DNS upstream: set ${label}.`);
  for (const u of upstreams) {
    if (ipaddr.parse(u.address).range() === 'loopback') {
      throw new Error(
        `DNS upstream ${u.address} is a loopback address, which a Pod cannot reach. Set ${label} ` +
          "to the cluster's DNS service (kubectl -n kube-system get service kube-dns).",
      );
    }
  }
  if (!upstreams.some((u) => ipaddr.parse(u.address).kind() === 'ipv4')) {
    throw new Error(`The Pod needs an IPv4 DNS upstream (DNS is answered over IPv4 only): add one to ${label}.`);
  }
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
