// Pure builders of what the holder and the build get: Engine API bodies for
// buildfence's own containers, docker CLI arguments for the build (it takes the user's docker options).
import type { RunSpec } from '../spec.js';

export const LABEL = 'buildfence';
export const LABEL_RUN = 'buildfence.run';
export const LABEL_PID = 'buildfence.pid';
export const LABEL_HOST = 'buildfence.host';

/** Where the build sees the directory holding its script. */
export const SCRIPT_MOUNT = '/__buildfence';
/** Where the holder sees the directory holding the rules. */
export const RULES_MOUNT = '/__buildfence';

export interface RunIdentity {
  runId: string;
  pid: number;
  host: string;
}

export interface ResourceNames {
  holder: string;
  build: string;
}

export function resourceNames(runId: string): ResourceNames {
  return {
    holder: `buildfence-${runId}-holder`,
    build: `buildfence-${runId}-build`,
  };
}

export function labels(id: RunIdentity): Record<string, string> {
  return { [LABEL]: '1', [LABEL_RUN]: id.runId, [LABEL_PID]: String(id.pid), [LABEL_HOST]: id.host };
}

export function labelArgs(id: RunIdentity): string[] {
  return Object.entries(labels(id)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
}

export interface HolderArgs {
  id: RunIdentity;
  image: string;
  network: string;
  rulesDir: string;
  /** What the holder runs: it loads the rules, then stays as the reader (docker/holder.ts). */
  command: { entrypoint: string[]; cmd: string[] };
}

/** The holder's container configuration, as the Engine API's create takes it. */
export function holderConfig(a: HolderArgs): object {
  return {
    Image: a.image,
    Entrypoint: a.command.entrypoint,
    Cmd: a.command.cmd,
    Labels: labels(a.id),
    HostConfig: {
      NetworkMode: a.network,
      // NET_ADMIN for iptables, ipset and the NFLOG reader; NET_RAW because iptables' set match asks
      // ipset for set names over a raw socket; SETUID and SETGID because tcpdump (the reader) drops
      // to its own user. Nothing else. The build shares the namespace, not these capabilities.
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN', 'NET_RAW', 'SETUID', 'SETGID'],
      SecurityOpt: ['no-new-privileges'],
      Binds: [`${a.rulesDir}:${RULES_MOUNT}:ro`],
    },
  };
}

export interface BuildArgs {
  id: RunIdentity;
  spec: RunSpec;
  scriptDir: string;
  scriptName: string;
  envFile: string;
  /** Names of variables passed from the runner's environment (values are not on the command line). */
  passedEnv: string[];
}

export function buildCreateArgs(a: BuildArgs): string[] {
  const names = resourceNames(a.id.runId);
  const script = `${SCRIPT_MOUNT}/${a.scriptName}`;
  const [shell, ...shellArgs] = shellCommand(a.spec.shell, script);
  return [
    'create',
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
    '--cap-drop',
    'NET_ADMIN',
    '--cap-drop',
    'NET_RAW',
    '--security-opt',
    'no-new-privileges',
    '--entrypoint',
    shell,
    a.spec.image,
    ...shellArgs,
  ];
}

/** `sh -e` runs `sh -e SCRIPT`; a `{0}` in the shell (as in GitHub's `shell`) marks where the script goes. */
export function shellCommand(shell: string[], script: string): string[] {
  return shell.includes('{0}') ? shell.map((w) => w.replaceAll('{0}', script)) : [...shell, script];
}

/** Runner variables the build sees, as GitHub passes them to container steps. */
export function runnerEnvNames(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((k) => /^(GITHUB|RUNNER)_/.test(k))
    .sort();
}
