// The host runtime: a run on the engine's fence (engine/run-on-fence.ts) as for a container
// build, and the build as a process tree on the runner itself, with the runner's files and tools,
// in the holder's network namespace. The engine creates it, as a container whose filesystem is
// the runner's (mounts.ts) and whose confinement is build-container.ts's; runner.ts refuses what
// it cannot rely on before anything is created.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildEnv, hostBuildConfig, ROOT_RUNNER_BUILD_ID } from './build-container.js';
import { HOME_ENGINE_STATE, planMounts } from './mounts.js';
import { handOver, takeBack } from './ownership.js';
import { ensureRootImage } from './root-image.js';
import { checkLocalEngine, existing, readRunner, type Runner } from './runner.js';
import { createContainer, ping } from '../engine/engine.js';
import { findJobContainer } from '../engine/job-container.js';
import { runOnFence } from '../engine/run-on-fence.js';
import type { RunResult } from '../report/record.js';
import type { RunHooks } from '../run/identity.js';
import type { Log } from '../run/log.js';
import { inputLabel, type RunSpec } from '../run/spec.js';

/** The build image's name in the record: there is none, the build ran on the runner. */
export const HOST_IMAGE_NAME = 'host';

export async function runHost(spec: RunSpec, log: Log, hooks: RunHooks = {}): Promise<RunResult> {
  checkLocalEngine(process.env.DOCKER_HOST);
  await ping();
  // In a container job the runner's tools are outside this process's filesystem, and the steps' are the job image's.
  const job = await findJobContainer(process.env, log);
  if (job) {
    throw new Error(
      `${inputLabel(spec.via, 'runtime')} is host, but buildfence runs in job container ${job.name}, whose steps use the job image's tools, not the runner's. ` +
        "Leave runtime empty and set image to the job's container image, or run the fenced step in a job without container:.",
    );
  }
  const runner = await readRunner(process.env);
  let image = { name: '', id: '' };
  let handedOver = false;
  return runOnFence(spec, log, hooks, {
    handle: { runtime: 'host', ...(runner.asRoot ? { workspace: spec.workspace } : {}) },
    setup: ({ fence, names, id, tmp }) => ({
      prepare: async () => {
        image = await ensureRootImage(runner.rootLayout);
      },
      create: async () => {
        const home = await buildHome(runner);
        if (runner.asRoot) {
          handedOver = true;
          await handOver(spec.workspace);
        }
        const mounts = planMounts({
          ...runner.layout,
          workspace: spec.workspace,
          home,
          engineState: [...runner.layout.engineState, ...(await existing(HOME_ENGINE_STATE.map((p) => path.join(home, p))))],
          // This run's rules and script are buildfence's; under /tmp they are out of sight already.
          own: tmp.startsWith('/tmp/') ? [] : [tmp],
          scriptDir: fence.scriptDir,
        });
        await createContainer(
          names.build,
          hostBuildConfig({
            id,
            spec,
            image: image.id,
            holder: names.holder,
            user: runner.user,
            env: buildEnv(process.env, spec, home),
            mounts,
            shmBytes: Math.floor(os.totalmem() / 2),
          }),
        ).catch((err: Error) => {
          throw new Error(
            `Cannot set up the build on the runner: the engine refused its sandbox (${err.message}). The build was not started.`,
          );
        });
      },
    }),
    running: (names) =>
      `Running the build on the runner as uid ${runner.user.uid}, gid ${runner.user.gid} (${names.build}): ` +
      "no capabilities, no_new_privs, Docker's default seccomp profile, its own PID and mount namespaces.",
    buildImage: () => ({ name: HOST_IMAGE_NAME, id: image.id, repoDigests: [] }),
    teardown: async ({ id }) => {
      if (!handedOver) return;
      const problem = await takeBack(spec.workspace);
      if (problem) log.warning(`Teardown of run ${id.runId}: ${problem}`);
    },
  });
}

/**
 * The build's HOME: the runner user's; on a root runner, whose home is root's, one of the build
 * user's own, kept for the job beside RUNNER_TEMP's other files (later fenced steps find their
 * caches there).
 */
async function buildHome(runner: Runner): Promise<string> {
  if (!runner.asRoot) return runner.home;
  const home = path.join(process.env.RUNNER_TEMP || os.tmpdir(), `buildfence-home-${ROOT_RUNNER_BUILD_ID}`);
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  await fs.chown(home, ROOT_RUNNER_BUILD_ID, ROOT_RUNNER_BUILD_ID);
  return home;
}
