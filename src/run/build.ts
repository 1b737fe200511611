// What the build and the fence's own containers get, the same on every runtime: capabilities
// (with the reason for each), mounts, the script and how it runs, the runner's variables.

/** Capabilities every runtime drops from the build; docker-options may never add them back. */
export const BUILD_DROPPED_CAPABILITIES: Readonly<Record<string, string>> = {
  NET_ADMIN: 'the build must not hold NET_ADMIN (it could rewrite the fence)',
  NET_RAW: 'the build must not hold NET_RAW (a raw packet socket bypasses the fence)',
};

/** Not dropped (the runtime's defaults lack them), but never added to the build either. */
export const BUILD_REFUSED_CAPABILITIES: Readonly<Record<string, string>> = {
  SYS_ADMIN: 'the build must not hold SYS_ADMIN (it could leave the fenced namespaces)',
  SYS_MODULE: 'the build must not hold SYS_MODULE (a kernel module could switch the fence off)',
  ALL: 'ALL includes NET_ADMIN and NET_RAW, which would let the build rewrite or bypass the fence',
};

/**
 * Dropped from a Pod's build besides: there the resolver is a user in the build's namespace, the
 * only one the rules let reach the upstreams, and with SETUID a root build could become it.
 */
export const POD_BUILD_DROPPED_CAPABILITIES: Readonly<Record<string, string>> = {
  SETUID: "with it a root build could take the resolver's uid, and with it the way upstream",
};

/** NET_ADMIN for iptables and ipset; NET_RAW because iptables' set match asks ipset over a raw socket. */
export const FENCE_CAPABILITIES = ['NET_ADMIN', 'NET_RAW'] as const;
/** The denied-attempt reader (tcpdump) drops to its own user once it listens. */
export const READER_CAPABILITIES = ['SETUID', 'SETGID'] as const;

/** Where the build sees the directory holding its script. */
export const SCRIPT_MOUNT = '/__buildfence';
/** Where the holder sees the same directory: it writes the seccomp filter program into it. */
export const SCRIPT_MOUNT_IN_HOLDER = '/__buildfence-script';

/**
 * buildfence's seccomp filter for the build (holder/seccomp-exec.c): where the holder image keeps
 * it, and its name beside the build's script. On every runtime the build's command starts with
 * it: it installs the filter, then runs the rest.
 */
export const SECCOMP_EXEC = { inHolderImage: '/usr/lib/buildfence/seccomp-exec', name: 'seccomp-exec' } as const;

/** The build's command: the seccomp filter program first, which then runs `command`. */
export function filteredCommand(command: string[]): string[] {
  return [`${SCRIPT_MOUNT}/${SECCOMP_EXEC.name}`, ...command];
}

/** Shell lines for the holder: copy the filter program next to the build's script, or fail (under `set -e`). */
export function copyFilterProgram(): string[] {
  const { inHolderImage: from, name } = SECCOMP_EXEC;
  return [
    `[ -x ${from} ] || { echo "the holder image has no ${from} (buildfence's seccomp filter for the build)" >&2; exit 127; }`,
    `cp ${from} ${SCRIPT_MOUNT_IN_HOLDER}/${name}`,
  ];
}
/** Where the fence's containers see the directory holding the rules. */
export const RULES_MOUNT = '/__buildfence';
export const SCRIPT_NAME = 'script.sh';

/** The script file's text: the `run` input, ending in a newline. */
export function scriptText(run: string): string {
  return run.endsWith('\n') ? run : `${run}\n`;
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
