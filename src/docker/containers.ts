// Pure builders of the Docker runtime's containers: the holder's Engine API body, and the build's
// `docker create` command line (the user's docker options read as docker reads them: create-body.ts
// turns it into the Engine API's request).
import {
  BUILD_DROPPED_CAPABILITIES,
  FENCE_CAPABILITIES,
  READER_CAPABILITIES,
  RULES_MOUNT,
  SCRIPT_MOUNT,
  SCRIPT_MOUNT_IN_HOLDER,
  SCRIPT_NAME,
  filteredCommand,
  shellCommand,
} from '../run/build.js';
import type { CreateCommand } from './create-body.js';
import { runLabels, type RunIdentity } from '../run/identity.js';
import type { RunSpec } from '../run/spec.js';

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

function labelArgs(id: RunIdentity): string[] {
  return Object.entries(runLabels(id)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
}

export interface HolderArgs {
  id: RunIdentity;
  image: string;
  network: string;
  rulesDir: string;
  scriptDir: string;
  /** What the holder runs: it loads the rules, then stays as the reader (docker/holder.ts). */
  command: { entrypoint: string[]; cmd: string[] };
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
      // The build's script directory, where the holder puts the seccomp filter program.
      Binds: [`${a.rulesDir}:${RULES_MOUNT}:ro`, `${a.scriptDir}:${SCRIPT_MOUNT_IN_HOLDER}`],
    },
  };
}

export interface BuildArgs {
  id: RunIdentity;
  spec: RunSpec;
  scriptDir: string;
  envFile: string;
  /** Names of variables passed from the runner's environment (values are not on the command line). */
  passedEnv: string[];
}

export function buildCreateArgs(a: BuildArgs): CreateCommand {
  const names = resourceNames(a.id.runId);
  const script = `${SCRIPT_MOUNT}/${SCRIPT_NAME}`;
  // The seccomp filter program is the entrypoint: it installs the filter, then runs the shell.
  const [entrypoint, ...command] = filteredCommand(shellCommand(a.spec.shell, script));
  const options = [
    '--name',
    names.build,
    ...labelArgs(a.id),
    '--pull',
    a.spec.pull,
    '--volume',
    `${a.spec.workspace}:${a.spec.workspace}`,
    '--volume',
    `${a.scriptDir}:${SCRIPT_MOUNT}:ro`,
    '--workdir',
    a.spec.workingDirectory,
    ...a.passedEnv.flatMap((name) => ['--env', name]),
    '--env-file',
    a.envFile,
    // The user's options come first so that the fence's own flags below always have the last word.
    ...a.spec.dockerOptions,
    '--network',
    `container:${names.holder}`,
    ...Object.keys(BUILD_DROPPED_CAPABILITIES).flatMap((cap) => ['--cap-drop', cap]),
    '--security-opt',
    'no-new-privileges',
    '--entrypoint',
    entrypoint,
  ];
  return { options, image: a.spec.image, command };
}
