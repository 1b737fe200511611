// What the host runtime's build sees of the runner's filesystem, as mounts (pure). Everything is
// read-only but the places a build writes; the engines' sockets and state, /run, the runner's own
// directory and the workflow command files are not there at all. The engine mounts them in order
// of depth, so the most specific entry for a path always has the last word.
import * as path from 'node:path';
import { SCRIPT_MOUNT } from '../run/build.js';

export type Mount =
  | { type: 'bind'; source: string; target: string; readOnly: boolean }
  /** An empty directory that only root may write (mode 0755): nothing of the runner's is there. */
  | { type: 'tmpfs'; target: string }
  /** The build's private /tmp: everyone's, sticky, in memory, gone with the build. */
  | { type: 'scratch'; target: string };

/** The runner's filesystem and the paths a build uses, as runner.ts reads them. */
export interface RunnerLayout {
  /** The runner's top-level directories (its links are in the root image, see root-image.ts). */
  topDirs: string[];
  /**
   * The directories above the engine's own root (/var, /var/lib): the engine mounts no directory
   * that holds its root but as a slave of the runner's mounts, which a runner's private / cannot
   * give, so they are mounted child by child, the engine's root left out. Their links are in the
   * root image too.
   */
  split: Array<{ dir: string; dirs: string[]; files: string[] }>;
  /** Every mount point on the runner, from /proc/self/mountinfo. */
  mountPoints: string[];
  /** Which of ENGINE_STATE, and of HOME_ENGINE_STATE in the build's HOME, exist on the runner. */
  engineState: string[];
  /** Whether /var/run is a directory of its own rather than a link to /run. */
  varRunIsDir: boolean;
  workspace: string;
  /** The build's HOME, on the runner and in the build (the runner's, or the build user's own on a root runner). */
  home: string;
  /** RUNNER_TEMP. */
  temp?: string;
  /** RUNNER_TOOL_CACHE and AGENT_TOOLSDIRECTORY. */
  toolCaches: string[];
  /** The runner's installation (bin, externals, _diag, its credentials on a self-hosted runner). */
  runnerRoot?: string;
  /** The runner's work directory (_work: _actions, _temp, _tool, the workspaces). */
  workDir?: string;
  /** The workflow command files (GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY) that exist. */
  commandFiles: string[];
  /** GITHUB_EVENT_PATH: the event's payload, read-only. */
  eventPath?: string;
  /** buildfence's own directories (this run's rules and script, its logs): not the build's. */
  own: string[];
  /** The directory holding the build's script. */
  scriptDir: string;
}

/** Top-level directories the build gets fresh or empty, never the runner's. */
const OWN_TOP = ['proc', 'sys', 'dev', 'run', 'tmp'];

/**
 * Engine state outside /run (which is empty in the build): images, containers and their files.
 * The sockets are all under /run, or under a user's runtime directory there.
 */
export const ENGINE_STATE = [
  '/var/lib/docker',
  '/var/lib/containerd',
  '/var/lib/containers',
  '/var/lib/buildkit',
  '/var/lib/crio',
  '/var/lib/kubelet',
  '/var/lib/rancher',
  '/var/lib/lxd',
  '/var/lib/incus',
  '/var/snap/docker',
  '/var/snap/lxd',
];

/** Where the engine mounts the holder's files for the build (its resolver among them). */
const ENGINE_OWN = ['/etc/resolv.conf', '/etc/hosts', '/etc/hostname'];

/** The same in a user's home: rootless engines' images and containers. */
export const HOME_ENGINE_STATE = ['.local/share/docker', '.local/share/containers', '.local/share/buildkit'];

export function planMounts(l: RunnerLayout): Mount[] {
  const plan = new Map<string, Mount>();
  const ro = (p: string) => plan.set(p, { type: 'bind', source: p, target: p, readOnly: true });
  const rw = (p: string) => plan.set(p, { type: 'bind', source: p, target: p, readOnly: false });
  const empty = (p: string) => plan.set(p, { type: 'tmpfs', target: p });

  const splitDirs = new Set(l.split.map((s) => s.dir));
  const bindable = (p: string) => !splitDirs.has(p) && !l.engineState.includes(p);
  for (const d of l.topDirs) if (!OWN_TOP.includes(d) && bindable(`/${d}`)) ro(`/${d}`);
  for (const s of l.split) for (const c of [...s.dirs, ...s.files]) if (bindable(`${s.dir}/${c}`)) ro(`${s.dir}/${c}`);
  empty('/run');
  if (l.varRunIsDir) empty('/var/run');
  for (const p of l.engineState) empty(p);
  plan.set('/tmp', { type: 'scratch', target: '/tmp' });
  if (l.runnerRoot) empty(l.runnerRoot);
  if (l.workDir) ro(l.workDir);
  rw(l.home);
  // Mounted after HOME (deeper), so that those inside it are emptied too.
  for (const p of l.engineState) if (p.startsWith(`${l.home}/`)) empty(p);
  for (const p of l.toolCaches) rw(p);
  if (l.temp) rw(l.temp);
  rw(l.workspace);
  if (l.eventPath) ro(path.dirname(l.eventPath));
  for (const f of l.commandFiles) {
    const dir = path.dirname(f);
    // Their directory is the runner's alone (RUNNER_TEMP/_runner_file_commands): empty it. A file
    // elsewhere is masked by itself.
    if (dir === l.temp || dir === l.workspace || dir === l.home)
      plan.set(f, { type: 'bind', source: '/dev/null', target: f, readOnly: true });
    else empty(dir);
  }
  for (const p of l.own) empty(p);
  plan.set(SCRIPT_MOUNT, { type: 'bind', source: l.scriptDir, target: SCRIPT_MOUNT, readOnly: true });

  // A read-only bind is read-only at its top only (Docker before 25 mounts no other way), so each
  // mount below one is bound read-only again, unless something more specific already covers it.
  for (const m of l.mountPoints) {
    if (plan.has(m) || ENGINE_OWN.includes(m)) continue;
    const cover = covering(plan, m);
    if (cover?.type === 'bind' && cover.readOnly && cover.source === cover.target && bindable(m)) ro(m);
  }
  return [...plan.values()].sort((a, b) => depth(a.target) - depth(b.target) || a.target.localeCompare(b.target));
}

/** The most specific planned mount at or above `p`. */
function covering(plan: Map<string, Mount>, p: string): Mount | undefined {
  for (let at = p; ; at = path.dirname(at)) {
    const m = plan.get(at);
    if (m) return m;
    if (at === '/') return undefined;
  }
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

/**
 * The Engine API's form of the plan: binds as `Mounts`, rprivate (mounts made on the runner later
 * reach none of them), tmpfs as `Tmpfs`, whose options (exec for /tmp) the other form cannot
 * give before Docker 27. The engine mounts both in one order, by depth.
 */
export function engineMounts(plan: Mount[], scratchBytes: number): { Mounts: object[]; Tmpfs: Record<string, string> } {
  const Mounts: object[] = [];
  const Tmpfs: Record<string, string> = {};
  for (const m of plan) {
    if (m.type === 'bind') {
      Mounts.push({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly, BindOptions: { Propagation: 'rprivate' } });
    } else {
      Tmpfs[m.target] =
        m.type === 'scratch' ? `rw,exec,nosuid,nodev,mode=1777,size=${scratchBytes}` : 'rw,noexec,nosuid,nodev,mode=755,size=1m';
    }
  }
  return { Mounts, Tmpfs };
}
