// What main leaves for the post step, saved as soon as it is known.
import * as core from '@actions/core';
import type { RunHandle } from './sandbox.js';

const RUN_ID = 'run-id';
const RUNTIME = 'runtime';
const NAMESPACE = 'namespace';

export function saveRun(run: RunHandle): void {
  core.saveState(RUN_ID, run.runId);
  core.saveState(RUNTIME, run.runtime ?? 'docker');
  if (run.namespace) core.saveState(NAMESPACE, run.namespace);
}

/** The run main started, or undefined when main never got that far. */
export function savedRun(): RunHandle | undefined {
  const runId = core.getState(RUN_ID);
  if (!/^[0-9a-f]{12}$/.test(runId)) return undefined;
  return {
    runId,
    runtime: core.getState(RUNTIME) === 'kubernetes' ? 'kubernetes' : 'docker',
    namespace: core.getState(NAMESPACE) || undefined,
  };
}
