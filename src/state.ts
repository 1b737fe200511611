// What main leaves for the post step, saved as soon as it is known.
import { isRunId, type RunHandle } from './run/identity.js';

const RUN_ID = 'run-id';
const RUNTIME = 'runtime';
const NAMESPACE = 'namespace';

/** The state functions of @actions/core. */
export interface StateStore {
  saveState(name: string, value: string): void;
  getState(name: string): string;
}

export function saveRun(store: StateStore, run: RunHandle): void {
  store.saveState(RUN_ID, run.runId);
  store.saveState(RUNTIME, run.runtime);
  if (run.namespace) store.saveState(NAMESPACE, run.namespace);
}

/** The run main started, or undefined when main never got that far. */
export function savedRun(store: StateStore): RunHandle | undefined {
  const runId = store.getState(RUN_ID);
  if (!isRunId(runId)) return undefined;
  return {
    runId,
    runtime: store.getState(RUNTIME) === 'kubernetes' ? 'kubernetes' : 'docker',
    namespace: store.getState(NAMESPACE) || undefined,
  };
}
