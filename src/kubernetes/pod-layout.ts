// Where things are in a rendered Pod: its containers, paths, the resolver's user and address,
// the env names the agent reads. Shared by the renderer, the Pod's scripts and the agent.
import { RULES_MOUNT, SCRIPT_MOUNT_IN_HOLDER } from '../run/build.js';
import { CHECKER_PORTS } from '../wire/checker.js';

/** The resolver's user: the rules let only this uid reach the upstreams. */
export const RESOLVER_UID = 53053;
/** Where the resolver listens, inside the Pod's network namespace; the nat rule sends DNS here. */
export const RESOLVER_LISTEN = { address: '127.0.0.53', port: 5353 } as const;
/** Where the name checker listens (as the resolver's user, in its sidecar); the nat rules send checked TCP here. */
export const CHECKER_LISTEN = { address4: '127.0.0.53', address6: '::1', port: 5380, ports: CHECKER_PORTS } as const;

export const CONTAINER = { holder: 'holder', verify: 'verify', fence: 'fence', resolver: 'resolver', build: 'build' } as const;

/** Paths inside the containers. */
export const POD_PATHS = {
  readback: `${RULES_MOUNT}/readback`,
  /** Where the holder writes the script and the filter program (the build sees the same volume at SCRIPT_MOUNT). */
  holderScript: SCRIPT_MOUNT_IN_HOLDER,
  /** The set feed's FIFOs (`in`, `out`) and `wire`, where the fence's second reader writes the checked connections' first packets. */
  feed: '/__buildfence-feed',
  ready: '/__buildfence-ready',
  agent: '/opt/buildfence/cli.js',
  node: '/usr/local/bin/node',
} as const;

/** Environment variables the agent reads (set by the renderer). */
export const AGENT_ENV = { rules: 'BUILDFENCE_RULES', resolver: 'BUILDFENCE_RESOLVER' } as const;

/** The build's exit code when the fence or the resolver never got ready. */
export const NOT_READY_EXIT = 125;

/** The file a sidecar writes into the ready volume, with its reason, when it cannot start. */
export function failedFile(sidecar: 'fence' | 'resolver'): string {
  return `${POD_PATHS.ready}/${sidecar}.failed`;
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
