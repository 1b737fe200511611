// Whether buildfence runs inside a container of the engine it drives (a GitHub Actions job
// container, or any container given the engine's socket), and which one. The kernel shows this
// process the container's ID (the engine bind-mounts /etc/hostname, /etc/hosts and
// /etc/resolv.conf from its directory for the container); the engine then says the rest: its
// mounts, which map its paths to the host's, and its networks, where the fence must sit.
import * as fs from 'node:fs/promises';
import { inspectContainer, statusOf, type EndpointInspect, type MountInspect } from './engine.js';
import type { Log } from '../run/log.js';

export interface JobContainer {
  id: string;
  name: string;
  mounts: MountInspect[];
  /** `bridge`-like (a network's name or `default`), `host`, `container:…` or `none`. */
  networkMode: string;
  networks: Record<string, EndpointInspect>;
}

/** The container IDs the kernel shows this process: its mounts of the engine's per-container files, and (cgroup v1) its cgroups. */
export function containerIds(mountinfo: string, cgroup: string): string[] {
  const ids: string[] = [];
  for (const line of mountinfo.split('\n')) {
    // Field 4 is the mount's root in its filesystem, field 5 where it is mounted.
    const [, , , root, point] = line.split(' ');
    const m = /\/containers\/([0-9a-f]{64})\/(?:userdata\/)?(?:hostname|hosts|resolv\.conf)$/.exec(root ?? '');
    if (m && ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'].includes(point)) ids.push(m[1]);
  }
  for (const m of cgroup.matchAll(/(?:docker[-/]|libpod-)([0-9a-f]{64})/g)) ids.push(m[1]);
  return [...new Set(ids)];
}

/** The runner's layout for a step in a job container: the workspace under /__w (/home/runner/work outside). */
export function inRunnerJobContainer(env: NodeJS.ProcessEnv): boolean {
  return (env.GITHUB_WORKSPACE ?? '').startsWith('/__w/');
}

const read = (file: string) => fs.readFile(file, 'utf8').catch(() => '');

/**
 * The container this process runs in, as the engine knows it; undefined on the runner itself, or
 * in a container the engine does not know whose paths it shares (Actions Runner Controller's
 * Docker-in-Docker mode mounts the work directory at the same path in both). A job container
 * the engine does not know is an error: its paths cannot be translated.
 */
export async function findJobContainer(env: NodeJS.ProcessEnv, log: Log): Promise<JobContainer | undefined> {
  const ids = containerIds(await read('/proc/self/mountinfo'), await read('/proc/self/cgroup'));
  const jobLayout = inRunnerJobContainer(env);
  if (ids.length === 0) {
    if (!jobLayout) return undefined;
    throw new Error(
      `This step runs in a job container (GITHUB_WORKSPACE is ${env.GITHUB_WORKSPACE}), but /proc/self/mountinfo names no ` +
        "container ID, so buildfence cannot ask the Docker engine for the container's mounts and networks. " +
        "Run the fenced step in a job without 'container:', or report the container runtime this job uses.",
    );
  }
  for (const id of ids) {
    const found = await inspectContainer(id).catch((err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    });
    if (found) {
      return {
        id: found.Id,
        name: (found.Name ?? found.Id).replace(/^\//, ''),
        mounts: found.Mounts ?? [],
        networkMode: found.HostConfig?.NetworkMode ?? 'default',
        networks: found.NetworkSettings.Networks ?? {},
      };
    }
  }
  const at = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  if (!jobLayout) {
    log.info(
      `buildfence runs in container ${ids[0].slice(0, 12)}, which the Docker engine at ${at} does not know: paths are taken as the engine's own.`,
    );
    return undefined;
  }
  throw new Error(
    `This step runs in job container ${ids[0].slice(0, 12)} (from /proc/self/mountinfo), which the Docker engine at ${at} does not know, ` +
      "so buildfence cannot find where the workspace is on the engine's host, nor the job's network. The engine that started the " +
      'job container must be the one buildfence talks to: with a rootless engine, mount its socket into the job container ' +
      "(container: options: -v /run/user/UID/docker.sock:/var/run/docker.sock) rather than another engine's, and leave DOCKER_HOST unset.",
  );
}

/** What to add to "cannot connect to the engine" in a job container: the runner mounts the socket there. */
export function jobContainerHint(env: NodeJS.ProcessEnv): string {
  if (!inRunnerJobContainer(env)) return '';
  return (
    " This step runs in a job container: the runner mounts the engine's socket at /var/run/docker.sock in it. With a rootless " +
    "engine, or an engine elsewhere, mount that engine's socket there (container: options: -v /run/user/UID/docker.sock:/var/run/docker.sock)."
  );
}

/** A job container's path on the engine's host. */
export interface HostFile {
  path: string;
  /** The named volume it lies in: the volume's own files, under the engine's state directory but not the engine's. */
  volume?: string;
}

/**
 * Where `file` (a path in the job container) is on the engine's host: through the deepest mount
 * that holds it (a bind's source, a local volume's directory). Undefined when no mount holds it:
 * it exists only in the container's own filesystem, which a bind mount cannot reach.
 */
export function hostFile(mounts: MountInspect[], file: string): HostFile | undefined {
  let best: MountInspect | undefined;
  for (const m of mounts) {
    if ((m.Type !== 'bind' && !(m.Type === 'volume' && (m.Driver ?? 'local') === 'local')) || !m.Source) continue;
    const inside = file === m.Destination || file.startsWith(m.Destination.endsWith('/') ? m.Destination : `${m.Destination}/`);
    if (inside && (!best || m.Destination.length > best.Destination.length)) best = m;
  }
  if (!best) return undefined;
  const rest = file.slice(best.Destination.length).replace(/^\/+/, '');
  const found = rest === '' ? best.Source : `${best.Source.replace(/\/+$/, '')}/${rest}`;
  return best.Type === 'volume' && best.Name ? { path: found, volume: best.Name } : { path: found };
}

export function hostPath(mounts: MountInspect[], file: string): string | undefined {
  return hostFile(mounts, file)?.path;
}
