// The Docker runtime: the fence on the engine (engine/fence.ts), and the build as a container of
// the user's image that joins the holder's network namespace.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCreateArgs } from './containers.js';
import { buildPaths, buildRequest, checkFenced, createBuild, type BuildRequest } from './build-container.js';
import { hostRealPath } from './host-path.js';
import { checkNamedVolumes, namedVolumes } from './options-guard.js';
import { inspectImage, inspectVolume, ping } from '../engine/engine.js';
import { EngineFence } from '../engine/fence.js';
import { jobContainerHint } from '../engine/job-container.js';
import type { Whereabouts } from '../engine/site.js';
import { runContainer } from '../engine/run-container.js';
import { guardRun } from '../engine/run-guard.js';
import type { ImageRef, RunResult } from '../report/record.js';
import { runnerEnvNames } from '../run/build.js';
import { newRunId, type RunHandle, type RunHooks, type RunIdentity } from '../run/identity.js';
import type { Log } from '../run/log.js';
import { inputLabel, type RunSpec } from '../run/spec.js';

export async function runDocker(spec: RunSpec, log: Log, hooks: RunHooks = {}): Promise<RunResult> {
  await ping().catch((err: Error) => {
    throw new Error(`${err.message}${jobContainerHint(process.env)}`, { cause: err });
  });
  await checkVolumes(namedVolumes(spec.dockerOptions), inputLabel(spec.via, 'docker-options'));
  const id: RunIdentity = { runId: newRunId(), pid: process.pid, host: os.hostname() };
  const handle: RunHandle = { runId: id.runId, runtime: 'docker' };
  hooks.onStart?.(handle);

  const tmp = await fs.mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), `buildfence-${id.runId}-`));
  const started = new Date().toISOString();
  const fence = new EngineFence(spec, id, tmp, log);
  const { names } = fence;
  // Each step that creates something first checks that the run was not cancelled, nor failed, meanwhile.
  const guard = guardRun(log, names.build);
  let result: RunResult;
  let request: BuildRequest | undefined;
  // Read (and refused, when an option cannot be translated) once the fence knows where it runs,
  // before anything of it exists.
  const check = async (where: Whereabouts) => {
    request = buildRequest(
      buildCreateArgs({ id, spec, scriptDir: fence.scriptDir, envFile: path.join(tmp, 'env'), passedEnv: runnerEnvNames(process.env) }),
      { label: inputLabel(spec.via, 'docker-options'), apiVersion: where.apiVersion, ...buildPaths(where, spec.workspace, tmp) },
    );
    checkFenced(request.body, names.holder);
    if (where.job) await checkVolumes(request.throughVolumes, `Job container ${where.job.name}`);
  };
  try {
    await log.group('Fence up', () =>
      fence.up(guard, {
        prepare: () => writeEnvFile(tmp, spec),
        check,
        create: () => createBuild(names.build, request!, log),
      }),
    );
    log.info(`Running the build in ${spec.image} (${names.build}).`);
    const build = await guard.step(() => runContainer(names, log, fence.lost, guard));
    const facts = await fence.evidence();
    result = {
      ...handle,
      started,
      ended: new Date().toISOString(),
      exitCode: build.exitCode,
      images: await imageRefs([
        [spec.holderImage, fence.holderImageId],
        [spec.image, build.imageId],
      ]),
      ...facts,
    };
  } catch (err) {
    throw guard.explain(err);
  } finally {
    await fence.down();
    guard.done();
  }
  const reason = guard.reason();
  return reason === undefined ? result : { ...result, failure: reason };
}

/**
 * The named volumes the build mounts (docker-options' own, and a job container's that its mounts
 * lie in) are judged by what they were made from, before anything is created.
 */
async function checkVolumes(names: string[], label: string): Promise<void> {
  const found = await Promise.all(names.map(async (name) => ({ name, volume: await inspectVolume(name) })));
  checkNamedVolumes(
    found.flatMap(({ name, volume }) => (volume ? [{ name, driver: volume.Driver, options: volume.Options ?? {} }] : [])),
    { label, realPath: hostRealPath },
  );
}

/** Each image's name, local ID and registry digests, as the record binds them. */
async function imageRefs([holder, build]: Array<[string, string]>): Promise<{ holder: ImageRef; build: ImageRef }> {
  const ref = async ([name, id]: [string, string]): Promise<ImageRef> => {
    const digests = (await inspectImage(id).catch(() => undefined))?.RepoDigests ?? [];
    return { name, id, repoDigests: [...digests].sort() };
  };
  const [h, b] = await Promise.all([ref(holder), ref(build)]);
  return { holder: h, build: b };
}

async function writeEnvFile(tmp: string, spec: RunSpec): Promise<void> {
  await fs.writeFile(path.join(tmp, 'env'), spec.env.map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
}
