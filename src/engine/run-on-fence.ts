// One run on the engine's fence, the same for every runtime whose build is a container that joins
// the holder's network namespace (docker, host): the run's id and directory, the fence up with the
// runtime's build set-up beside it, the build run to its end, the evidence read into the run's
// result, and everything down, also after failure or cancellation. The build's set-up is the runtime's.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ResourceNames } from './containers.js';
import { EngineFence, type BuildSetup } from './fence.js';
import { imageRef } from './image-ref.js';
import { runContainer } from './run-container.js';
import { guardRun } from './run-guard.js';
import type { ImageRef, RunResult } from '../report/record.js';
import { newRunId, type RunHandle, type RunHooks, type RunIdentity } from '../run/identity.js';
import type { Log } from '../run/log.js';
import type { RunSpec } from '../run/spec.js';

/** What the runtime's set-up is given: the fence, its resource names, the run's identity and directory. */
export interface FenceRun {
  fence: EngineFence;
  names: ResourceNames;
  id: RunIdentity;
  tmp: string;
}

/** What the runtime brings to a run on the fence. */
export interface RuntimeOnFence {
  /** The handle's runtime, and what else a post step needs of the run. */
  handle: Omit<RunHandle, 'runId'>;
  /** The build's set-up beside the fence's. */
  setup(run: FenceRun): BuildSetup;
  /** Where the build runs, said once the fence is up. */
  running(names: ResourceNames): string;
  /** The build's image in the record, once the build has run. */
  buildImage(build: { imageId: string }): Promise<ImageRef> | ImageRef;
  /** After the fence is down: what else the run holds is given back. */
  teardown?(run: FenceRun): Promise<void>;
}

export async function runOnFence(spec: RunSpec, log: Log, hooks: RunHooks, runtime: RuntimeOnFence): Promise<RunResult> {
  const id: RunIdentity = { runId: newRunId(), pid: process.pid, host: os.hostname() };
  const handle: RunHandle = { runId: id.runId, ...runtime.handle };
  hooks.onStart?.(handle);

  const tmp = await fs.mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), `buildfence-${id.runId}-`));
  const started = new Date().toISOString();
  const fence = new EngineFence(spec, id, tmp, log);
  const { names } = fence;
  const run: FenceRun = { fence, names, id, tmp };
  // Each step that creates something first checks that the run was not cancelled, nor failed, meanwhile.
  const guard = guardRun(log, names.build);
  let result: RunResult;
  try {
    await log.group('Fence up', () => fence.up(guard, runtime.setup(run)));
    log.info(runtime.running(names));
    const build = await guard.step(() => runContainer(names, log, fence.lost, guard));
    const facts = await fence.evidence();
    const [holder, buildImage] = await Promise.all([imageRef(spec.holderImage, fence.holderImageId), runtime.buildImage(build)]);
    result = {
      ...handle,
      started,
      ended: new Date().toISOString(),
      exitCode: build.exitCode,
      images: { holder, build: buildImage },
      ...facts,
    };
  } catch (err) {
    throw guard.explain(err);
  } finally {
    // The build's container goes first: none of its processes outlives it into the runtime's teardown.
    await fence.down();
    await runtime.teardown?.(run);
    guard.done();
  }
  const reason = guard.reason();
  return reason === undefined ? result : { ...result, failure: reason };
}
