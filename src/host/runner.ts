// What the host runtime reads of the runner before anything is created, and what it refuses: an
// engine elsewhere (its mounts would be another machine's files), one whose uids are not the
// runner's (rootless, userns-remap), one that applies no seccomp profile, a root runner whose
// build uid an account already has.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildUser, COMMAND_FILE_VARS, ROOT_RUNNER_BUILD_ID, type BuildUser } from './build-container.js';
import { mountPoints } from './mountinfo.js';
import { ENGINE_STATE, type RunnerLayout } from './mounts.js';
import type { LayoutEntry } from './root-image.js';
import { engineInfo } from '../engine/engine.js';

/** The runner as the build will see it, less the run's own directories (runtime.ts adds them). */
export interface Runner {
  user: BuildUser;
  /** The runner runs as root: the build gets a home of its own and the workspace for the run. */
  asRoot: boolean;
  /** What the root image holds (root-image.ts). */
  rootLayout: LayoutEntry[];
  layout: Omit<RunnerLayout, 'workspace' | 'home' | 'own' | 'scriptDir'>;
  /** The runner user's HOME. */
  home: string;
}

const SETUP = 'The host runtime cannot isolate the build here';

/** The engine's sockets: the groups that own them open the engine. */
const ENGINE_SOCKETS = ['/var/run/docker.sock', '/run/containerd/containerd.sock', '/run/podman/podman.sock'];

/** Where a runner keeps its own binaries: the node that runs this action is RUNNER/externals/nodeNN/bin/node. */
export function runnerRootOf(execPath: string): string | undefined {
  return /^(.+)\/externals\/node\d+\/bin\/node$/.exec(execPath)?.[1];
}

/** Refuses an engine that may be on another machine (its mounts would be that machine's files), before it is asked anything. */
export function checkLocalEngine(dockerHost: string | undefined): void {
  if (dockerHost && !dockerHost.startsWith('unix://')) {
    throw new Error(
      `${SETUP}: DOCKER_HOST is ${dockerHost}, an engine that may be on another machine, whose files the build would see instead of this runner's. ` +
        "Use this machine's engine (a unix socket), or runtime docker.",
    );
  }
}

/** Refuses an engine the host runtime cannot rely on; pure over what the engine said. */
export function checkEngine(dockerHost: string | undefined, securityOptions: string[]): void {
  checkLocalEngine(dockerHost);
  const names = securityOptions.map((o) => /(?:^|,)name=([^,]+)/.exec(o)?.[1]);
  if (names.includes('rootless') || names.includes('userns')) {
    throw new Error(
      `${SETUP}: the Docker engine runs ${names.includes('rootless') ? 'rootless' : 'with user namespace remapping'}, ` +
        "so the build's uid would not be the runner's. Use a rootful engine without userns-remap, or runtime docker.",
    );
  }
  const seccomp = securityOptions.find((o) => /(?:^|,)name=seccomp(,|$)/.test(o));
  if (!seccomp || !/profile=(default|builtin)(,|$)/.test(seccomp)) {
    throw new Error(
      `${SETUP}: the Docker engine applies ${seccomp ? `a seccomp profile other than its default (${seccomp})` : 'no seccomp profile'}; ` +
        "the build must run behind Docker's default one at least. Enable seccomp in the engine, or use runtime docker.",
    );
  }
}

/** Whether an account of /etc/passwd or a group of /etc/group has `id`; pure. */
export function idTaken(passwd: string, group: string, id: number): string | undefined {
  const hit = (text: string, field: number) => text.split('\n').find((l) => l.split(':')[field] === String(id));
  const user = hit(passwd, 2);
  if (user) return `user ${user.split(':')[0]}`;
  const g = hit(group, 2);
  return g ? `group ${g.split(':')[0]}` : undefined;
}

export async function readRunner(env: NodeJS.ProcessEnv): Promise<Runner> {
  const info = await engineInfo();
  checkEngine(env.DOCKER_HOST, info.SecurityOptions ?? []);
  const uid = process.getuid!();
  const gid = process.getgid!();
  if (uid === 0) {
    const [passwd, group] = await Promise.all(['/etc/passwd', '/etc/group'].map((f) => fs.readFile(f, 'utf8').catch(() => '')));
    const taken = idTaken(passwd, group, ROOT_RUNNER_BUILD_ID);
    if (taken) {
      throw new Error(
        `${SETUP}: on a runner that runs as root the build runs as uid and gid ${ROOT_RUNNER_BUILD_ID}, which ${taken} has here. ` +
          'Remove that account, or run the runner as a user of its own.',
      );
    }
  }
  const socketGroups = (
    await Promise.all(
      ENGINE_SOCKETS.map((s) =>
        fs.stat(s).then(
          (st) => st.gid,
          () => undefined,
        ),
      ),
    )
  ).filter((g): g is number => g !== undefined);
  const workDir = env.RUNNER_WORKSPACE ? path.dirname(path.resolve(env.RUNNER_WORKSPACE)) : undefined;
  const engineRoot = path.resolve(info.DockerRootDir || '/var/lib/docker');
  const [top, mountinfo, engineState, varRun, commandFiles, toolCaches, [eventPath], [work], split, [temp]] = await Promise.all([
    listDir('/'),
    fs.readFile('/proc/self/mountinfo', 'utf8'),
    existing([...new Set([...ENGINE_STATE, engineRoot])]),
    fs.lstat('/var/run').catch(() => undefined),
    existing(COMMAND_FILE_VARS.map((v) => env[v]).filter((p): p is string => Boolean(p))),
    existing([env.RUNNER_TOOL_CACHE, env.AGENT_TOOLSDIRECTORY].filter((p): p is string => Boolean(p))),
    existing(env.GITHUB_EVENT_PATH ? [env.GITHUB_EVENT_PATH] : []),
    existing(workDir && workDir !== '/' ? [workDir] : []),
    Promise.all(ancestors(engineRoot).map(async (dir) => ({ dir, ...(await listDir(dir)) }))),
    existing(env.RUNNER_TEMP ? [env.RUNNER_TEMP] : []),
  ]);
  const rel = (dir: string, name: string) => path.join(dir, name).slice(1);
  const rootLayout: LayoutEntry[] = [{ dir: '/', ...top }, ...split].flatMap(({ dir, dirs, links }) => [
    ...dirs.map((d) => ({ path: rel(dir, d.name), mode: d.mode })),
    ...links.map((l) => ({ path: rel(dir, l.name), link: l.target })),
  ]);
  const runnerRoot = runnerRootOf(process.execPath);
  return {
    user: buildUser(uid, gid, socketGroups),
    asRoot: uid === 0,
    rootLayout,
    home: env.HOME || os.homedir(),
    layout: {
      topDirs: top.dirs.map((d) => d.name),
      split: split.map(({ dir, dirs, files }) => ({ dir, dirs: dirs.map((d) => d.name), files })),
      mountPoints: mountPoints(mountinfo),
      engineState,
      varRunIsDir: varRun?.isDirectory() ?? false,
      temp,
      toolCaches: [...new Set(toolCaches)],
      runnerRoot,
      workDir: work,
      commandFiles,
      eventPath,
    },
  };
}

/** The directories between / and `p`, exclusive: /var and /var/lib for /var/lib/docker. */
function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let at = path.dirname(p); at !== '/'; at = path.dirname(at)) out.unshift(at);
  return out;
}

interface Listing {
  dirs: Array<{ name: string; mode: number }>;
  files: string[];
  links: Array<{ name: string; target: string }>;
}

async function listDir(dir: string): Promise<Listing> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const links = await Promise.all(
    entries.filter((e) => e.isSymbolicLink()).map(async (e) => ({ name: e.name, target: await fs.readlink(path.join(dir, e.name)) })),
  );
  const dirs = await Promise.all(
    entries
      .filter((e) => e.isDirectory())
      .map(async (e) => ({ name: e.name, mode: (await fs.lstat(path.join(dir, e.name))).mode & 0o7777 })),
  );
  return {
    dirs,
    files: entries.filter((e) => e.isFile()).map((e) => e.name),
    links,
  };
}

/** Those of `paths` that exist, resolved. */
export async function existing(paths: string[]): Promise<string[]> {
  const found = await Promise.all(
    paths.map((p) =>
      fs.stat(p).then(
        () => path.resolve(p),
        () => undefined,
      ),
    ),
  );
  return found.filter((p): p is string => p !== undefined);
}
