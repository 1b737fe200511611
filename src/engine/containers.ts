// The names of a run's containers on the engine, and the holder's configuration as the Engine
// API's create takes it (pure). The build's configuration is its runtime's.
import { FENCE_CAPABILITIES, READER_CAPABILITIES, RULES_MOUNT, SCRIPT_MOUNT_IN_HOLDER } from '../run/build.js';
import { runLabels, type RunIdentity } from '../run/identity.js';

export interface ResourceNames {
  holder: string;
  build: string;
  /** In a job container: the short-lived container that reads the Docker host's addresses. */
  hostView: string;
}

export function resourceNames(runId: string): ResourceNames {
  return {
    holder: `buildfence-${runId}-holder`,
    build: `buildfence-${runId}-build`,
    hostView: `buildfence-${runId}-hostview`,
  };
}

export interface HolderArgs {
  id: RunIdentity;
  image: string;
  network: string;
  rulesDir: string;
  scriptDir: string;
  /** What the holder runs: it loads the rules, then stays as the reader (engine/holder.ts). */
  command: { entrypoint: string[]; cmd: string[] };
  /** The name check's fast path is on (wire/fast-path.ts). */
  fastPath?: boolean;
}

/** The holder's container configuration, as the Engine API's create takes it. */
export function holderConfig(a: HolderArgs): object {
  return {
    Image: a.image,
    Entrypoint: a.command.entrypoint,
    Cmd: a.command.cmd,
    Labels: runLabels(a.id),
    HostConfig: {
      NetworkMode: a.network,
      // The fence's and the reader's capabilities, nothing else (run/build.ts says why each). The
      // build shares the namespace, not these capabilities.
      CapDrop: ['ALL'],
      CapAdd: [...FENCE_CAPABILITIES, ...READER_CAPABILITIES],
      SecurityOpt: ['no-new-privileges'],
      // With the fast path, a connection's packets wait in the holder's queue until the name they
      // carry is read; the kernel counts them as still being sent and, with autocorking, holds
      // the client's next small writes back until they are: a ClientHello or request head written
      // in pieces would never arrive whole. Only the namespace the build shares is changed.
      ...(a.fastPath ? { Sysctls: { 'net.ipv4.tcp_autocorking': '0' } } : {}),
      // The build's script directory, where the holder puts the seccomp filter program.
      Binds: [`${a.rulesDir}:${RULES_MOUNT}:ro`, `${a.scriptDir}:${SCRIPT_MOUNT_IN_HOLDER}`],
    },
  };
}
