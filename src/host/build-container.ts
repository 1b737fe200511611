// The host runtime's build as an Engine API container body (pure): the runner's filesystem
// (mounts.ts), the runner's user without its groups, no capabilities in any set, no_new_privs,
// the engine's default seccomp profile, a PID, mount and IPC namespace of its own, and the
// holder's network namespace; the environment a `run:` step would get.
import { engineMounts, type Mount } from './mounts.js';
import { filteredCommand, SCRIPT_MOUNT, SCRIPT_NAME, shellCommand } from '../run/build.js';
import { runLabels, type RunIdentity } from '../run/identity.js';
import type { RunSpec } from '../run/spec.js';

/**
 * The build's uid and gid on a runner that runs as root: 65533, which Debian and Ubuntu reserve
 * (65000-65533: never allocated to an account), so that it owns no file on the runner but what the
 * run hands it.
 */
export const ROOT_RUNNER_BUILD_ID = 65533;

export interface BuildUser {
  uid: number;
  gid: number;
}

/**
 * Who the build runs as: the runner's uid, with its primary group unless that is root's or one
 * that opens an engine's socket (the `docker` group is the primary group of GitHub's runner
 * user), then a group of the uid's number; no supplementary groups. A root runner's build runs as
 * ROOT_RUNNER_BUILD_ID.
 */
export function buildUser(uid: number, gid: number, socketGroups: number[]): BuildUser {
  if (uid === 0) return { uid: ROOT_RUNNER_BUILD_ID, gid: ROOT_RUNNER_BUILD_ID };
  return { uid, gid: gid === 0 || socketGroups.includes(gid) ? uid : gid };
}

/** Workflow command files: the build writes none of them (its output's workflow commands are paused too). */
export const COMMAND_FILE_VARS = ['GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'];

/**
 * What the runner gives an action's process and not a `run:` step: the action's inputs and post
 * state, and the runtime's tokens for the cache and artifact services.
 */
const ACTION_ONLY = /^(INPUT_|STATE_)|^ACTIONS_(RUNTIME_TOKEN|RUNTIME_URL|CACHE_URL|CACHE_SERVICE_V2|RESULTS_URL)$/;

/** The build's environment: the runner's (its PATH and tool cache included) as a `run:` step has it, the `env` input, HOME. */
export function buildEnv(env: NodeJS.ProcessEnv, spec: RunSpec, home: string): string[] {
  const vars = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && !ACTION_ONLY.test(k) && !COMMAND_FILE_VARS.includes(k)) vars.set(k, v);
  }
  vars.set('HOME', home);
  for (const [k, v] of spec.env) vars.set(k, v);
  return [...vars].map(([k, v]) => `${k}=${v}`);
}

export interface HostBuildArgs {
  id: RunIdentity;
  spec: RunSpec;
  /** The root image (root-image.ts). */
  image: string;
  holder: string;
  user: BuildUser;
  env: string[];
  mounts: Mount[];
  /** The size of /dev/shm and of the private /tmp: half the runner's memory, as a tmpfs has by default. */
  shmBytes: number;
}

export function hostBuildConfig(a: HostBuildArgs): object {
  // The seccomp filter program (the holder puts it beside the script) installs buildfence's filter
  // on top of the engine's, then runs the shell.
  const [entrypoint, ...command] = filteredCommand(shellCommand(a.spec.shell, `${SCRIPT_MOUNT}/${SCRIPT_NAME}`));
  return {
    Image: a.image,
    Entrypoint: [entrypoint],
    Cmd: command,
    WorkingDir: a.spec.workingDirectory,
    // uid:gid names the group, so the engine adds no supplementary group from /etc/group.
    User: `${a.user.uid}:${a.user.gid}`,
    Env: a.env,
    Labels: runLabels(a.id),
    Tty: false,
    HostConfig: {
      NetworkMode: `container:${a.holder}`,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      ...engineMounts(a.mounts, a.shmBytes),
      IpcMode: 'private',
      ShmSize: a.shmBytes,
      Privileged: false,
    },
  };
}
