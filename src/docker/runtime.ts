// The Docker runtime: a run on the engine's fence (engine/run-on-fence.ts), and the build as a
// container of the user's image that joins the holder's network namespace.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { buildCreateArgs } from './containers.js';
import { buildPaths, buildRequest, checkFenced, createBuild, type BuildRequest } from './build-container.js';
import { hostRealPath } from './host-path.js';
import { checkNamedVolumes, namedVolumes } from './options-guard.js';
import { inspectVolume, ping } from '../engine/engine.js';
import { imageRef } from '../engine/image-ref.js';
import { jobContainerHint } from '../engine/job-container.js';
import { runOnFence } from '../engine/run-on-fence.js';
import type { Whereabouts } from '../engine/site.js';
import type { RunResult } from '../report/record.js';
import { runnerEnvNames } from '../run/build.js';
import type { RunHooks } from '../run/identity.js';
import type { Log } from '../run/log.js';
import { inputLabel, type RunSpec } from '../run/spec.js';

export async function runDocker(spec: RunSpec, log: Log, hooks: RunHooks = {}): Promise<RunResult> {
  await ping().catch((err: Error) => {
    throw new Error(`${err.message}${jobContainerHint(process.env)}`, { cause: err });
  });
  await checkVolumes(namedVolumes(spec.dockerOptions), inputLabel(spec.via, 'docker-options'));
  let request: BuildRequest | undefined;
  return runOnFence(spec, log, hooks, {
    handle: { runtime: 'docker' },
    setup: ({ fence, names, id, tmp }) => ({
      prepare: () => writeEnvFile(tmp, spec),
      // Read (and refused, when an option cannot be translated) once the fence knows where it runs,
      // before anything of it exists.
      check: async (where: Whereabouts) => {
        request = buildRequest(
          buildCreateArgs({ id, spec, scriptDir: fence.scriptDir, envFile: path.join(tmp, 'env'), passedEnv: runnerEnvNames(process.env) }),
          { label: inputLabel(spec.via, 'docker-options'), apiVersion: where.apiVersion, ...buildPaths(where, spec.workspace, tmp) },
        );
        checkFenced(request.body, names.holder);
        if (where.job) await checkVolumes(request.throughVolumes, `Job container ${where.job.name}`);
      },
      create: () => createBuild(names.build, request!, log),
    }),
    running: (names) => `Running the build in ${spec.image} (${names.build}).`,
    buildImage: (build) => imageRef(spec.image, build.imageId),
  });
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

async function writeEnvFile(tmp: string, spec: RunSpec): Promise<void> {
  await fs.writeFile(path.join(tmp, 'env'), spec.env.map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
}
