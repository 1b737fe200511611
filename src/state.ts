// What main leaves for the post step, saved as soon as it is known.
import { isRunId, type RunHandle } from './run/identity.js';

const RUN_ID = 'run-id';
const RUNTIME = 'runtime';
const NAMESPACE = 'namespace';
const WORKSPACE = 'workspace';
const RUNTIMES: RunHandle['runtime'][] = ['docker', 'kubernetes', 'host'];

/** The state functions of @actions/core. */
export interface StateStore {
  saveState(name: string, value: string): void;
  getState(name: string): string;
}

export function saveRun(store: StateStore, run: RunHandle): void {
  store.saveState(RUN_ID, run.runId);
  store.saveState(RUNTIME, run.runtime);
  if (run.namespace) store.saveState(NAMESPACE, run.namespace);
  if (run.workspace) store.saveState(WORKSPACE, run.workspace);
}

/** The run main started, or undefined when main never got that far. */
export function savedRun(store: StateStore): RunHandle | undefined {
  const runId = store.getState(RUN_ID);
  if (!isRunId(runId)) return undefined;
  const runtime = store.getState(RUNTIME) as RunHandle['runtime'];
  return {
    runId,
    runtime: RUNTIMES.includes(runtime) ? runtime : 'docker',
    namespace: store.getState(NAMESPACE) || undefined,
    ...(store.getState(WORKSPACE) ? { workspace: store.getState(WORKSPACE) } : {}),
  };
}
