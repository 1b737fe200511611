// The Docker runtime's build container, as a `docker create` command line: the user's docker
// options read as docker reads them (create-body.ts turns it into the Engine API's request). The
// holder's is engine/containers.ts.
import { resourceNames } from '../engine/containers.js';
import { BUILD_DROPPED_CAPABILITIES, SCRIPT_MOUNT, SCRIPT_NAME, filteredCommand, shellCommand } from '../run/build.js';
import type { CreateCommand } from './create-body.js';
import { runLabels, type RunIdentity } from '../run/identity.js';
import type { RunSpec } from '../run/spec.js';

function labelArgs(id: RunIdentity): string[] {
  return Object.entries(runLabels(id)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
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
