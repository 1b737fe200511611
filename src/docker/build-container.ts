// Creating the build container through the Engine API: the create request read from the build's
// `docker create` options (create-body.ts), its mount sources turned into the engine host's paths
// when buildfence runs in a job container, checked once more for what the fence relies on, then
// created, pulling the image first or when it is missing, as `docker create --pull` does.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { goBool } from './cli-values.js';
import { createRequest, type CreateBody, type CreateCommand, type CreateRequest, type ProxySettings } from './create-body.js';
import { createContainer, statusOf } from '../engine/engine.js';
import { engineExposure } from './engine-paths.js';
import { hostFile, type HostFile } from '../engine/job-container.js';
import { hostPathOf, TEMP_FIX, type Whereabouts } from '../engine/site.js';
import { pullImage } from '../engine/pull.js';
import { BUILD_DROPPED_CAPABILITIES } from '../run/build.js';
import type { Log } from '../run/log.js';

export interface BuildRequestOptions {
  label: string;
  apiVersion: string;
  /** A path in this process's filesystem to the engine host's; undefined when it has no host path. Absent: the same paths. */
  toHost?: (file: string) => HostFile | undefined;
  /** Says which container the paths belong to, for messages. */
  where?: string;
}

export interface BuildRequest extends CreateRequest {
  /** The job container's named volumes that translated mounts lie in: what each was made from is the caller's to check. */
  throughVolumes: string[];
}

/** The create request, paths translated; throws naming every option that cannot be translated. */
export function buildRequest(cmd: CreateCommand, o: BuildRequestOptions, env: NodeJS.ProcessEnv = process.env): BuildRequest {
  const req = createRequest(cmd, {
    label: o.label,
    cwd: process.cwd(),
    env,
    readFile: (file) => fs.readFileSync(file, 'utf8'),
    apiVersion: o.apiVersion,
    proxies: proxySettings(env),
    contentTrust: ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(env.DOCKER_CONTENT_TRUST ?? ''),
  });
  return { ...req, throughVolumes: o.toHost ? translatePaths(req.body, o.toHost, o) : [] };
}

/** The docker CLI's config.json `proxies` for this engine (its own entry, else `default`), which it passes to every container. */
function proxySettings(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  let config: { proxies?: Record<string, ProxySettings> };
  try {
    config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as typeof config;
  } catch {
    return undefined;
  }
  const host = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  return config.proxies?.[host] ?? config.proxies?.default;
}

/**
 * Bind mount sources, which name this process's files, become the engine host's: a source that
 * exists only inside the job container cannot be mounted, and says so. The host's path is judged
 * again as the options guard judged the written one: a directory the job container has from the
 * host may be an engine's socket or state there (`-v /var/run:/host-run` on the job container).
 * Returns the named volumes the sources lie in.
 */
function translatePaths(body: CreateBody, toHost: (file: string) => HostFile | undefined, o: BuildRequestOptions): string[] {
  const problems: string[] = [];
  const volumes = new Set<string>();
  const host = (source: string, written: string) => {
    let real = source;
    try {
      real = fs.realpathSync(source);
    } catch {
      // A source that does not exist yet is created by the engine, at the host path.
    }
    const found = toHost(real);
    if (found === undefined) {
      problems.push(
        `${o.label}: '${written}' mounts ${source}, which is not on any mount of ${o.where ?? 'this container'}, so the engine ` +
          'cannot find it on its host. Mount a directory the job container has from the host (the workspace, $RUNNER_TEMP), or a named volume.',
      );
      return source;
    }
    // A volume's files lie under the engine's state directory, but are the volume's own.
    const exposure = found.volume === undefined ? engineExposure(found.path) : undefined;
    if (found.volume !== undefined) volumes.add(found.volume);
    if (exposure) {
      problems.push(
        `${o.label}: '${written}' mounts ${source}, which is ${found.path} on the engine's host: ${exposure.reason}. ` +
          `${exposure.fix ?? `Remove it, or mount a directory of ${o.where ?? 'this container'} that is not the engine's.`}`,
      );
    }
    return found.path;
  };
  body.HostConfig.Binds = body.HostConfig.Binds?.map((bind) => {
    const [source, ...rest] = bind.split(':');
    return source.startsWith('/') && rest.length > 0 ? [host(source, bind), ...rest].join(':') : bind;
  });
  for (const m of body.HostConfig.Mounts ?? []) {
    if (m.Type === 'bind' && m.Source) m.Source = host(m.Source, `type=bind,source=${m.Source}`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return [...volumes];
}

/** What the fence relies on, checked in the body that goes to the engine (the options guard read the options already). */
export function checkFenced(body: CreateBody, holder: string): void {
  const h = body.HostConfig;
  const dropped = new Set(h.CapDrop ?? []);
  const problems = [
    h.NetworkMode !== `container:${holder}` && `its network mode is '${h.NetworkMode}', not the holder's namespace`,
    h.Privileged === true && 'it is privileged',
    ...Object.keys(BUILD_DROPPED_CAPABILITIES).map((cap) => !dropped.has('ALL') && !dropped.has(`CAP_${cap}`) && `it keeps ${cap}`),
    ...(h.CapAdd ?? [])
      .filter((cap) => cap === 'ALL' || Object.keys(BUILD_DROPPED_CAPABILITIES).includes(cap.replace(/^CAP_/, '')))
      .map((cap) => `it adds ${cap}`),
    !(h.SecurityOpt ?? []).some((o) => o === 'no-new-privileges' || (/^no-new-privileges[=:]/.test(o) && safeBool(o))) &&
      'it lacks no-new-privileges',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0)
    throw new Error(`The build container's configuration would not be fenced: ${problems.join('; ')}. The build was not started.`);
}

function safeBool(opt: string): boolean {
  try {
    return goBool(opt.slice('no-new-privileges='.length));
  } catch {
    return false;
  }
}

/** Creates the container, pulling the image as the request's pull policy says. */
export async function createBuild(name: string, req: CreateRequest, log: Log): Promise<void> {
  const image = req.body.Image;
  const pull = async () => {
    log.info(`Pulling the build image ${image}.`);
    await pullImage(image, { platform: req.platform });
  };
  const create = () => createContainer(name, req.body, req.platform);
  try {
    if (req.pull === 'always') await pull();
    await create().catch(async (err: unknown) => {
      if (statusOf(err) !== 404 || req.pull !== 'missing' || !/no such image/i.test((err as Error).message)) throw err;
      await pull();
      await create();
    });
  } catch (err) {
    throw new Error(`Cannot create the build container from image ${image}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * How the build's mount sources become the engine host's paths in a job container: buildfence's
 * own (the workspace, its temporary directory) checked first, each with its own message.
 */
export function buildPaths(w: Whereabouts, workspace: string, tmp: string): Pick<BuildRequestOptions, 'toHost' | 'where'> {
  const job = w.job;
  if (!job) return {};
  hostPathOf(w, workspace, 'The workspace', 'Check out into the workspace the runner mounts ($GITHUB_WORKSPACE, under /__w).');
  hostPathOf(w, tmp, "buildfence's temporary directory", TEMP_FIX);
  return { toHost: (file) => hostFile(job.mounts, file), where: `job container ${job.name}` };
}
