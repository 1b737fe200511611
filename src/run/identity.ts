// Who a run is: its id, the labels on everything it creates (so that a later run can find and
// remove what a killed one left), and what the post step needs to clean up after it.
import { randomBytes } from 'node:crypto';
import type { RuntimeName } from './spec.js';

export const LABEL = 'buildfence';
export const LABEL_RUN = 'buildfence.run';
export const LABEL_PID = 'buildfence.pid';
export const LABEL_HOST = 'buildfence.host';

/** A run's id: 12 hex digits, in every name and label it creates. */
export function newRunId(): string {
  return randomBytes(6).toString('hex');
}

export function isRunId(text: string): boolean {
  return /^[0-9a-f]{12}$/.test(text);
}

/** The run, and the process and host that own it (absent for a Pod rendered for kubectl). */
export interface RunIdentity {
  runId: string;
  pid?: number;
  host?: string;
}

export function runLabels(id: RunIdentity): Record<string, string> {
  return {
    [LABEL]: '1',
    [LABEL_RUN]: id.runId,
    ...(id.pid !== undefined ? { [LABEL_PID]: String(id.pid) } : {}),
    ...(id.host !== undefined ? { [LABEL_HOST]: id.host } : {}),
  };
}

/** What a post step needs to remove a run's resources. */
export interface RunHandle {
  runId: string;
  runtime: RuntimeName;
  /** The Pod's namespace, on Kubernetes. */
  namespace?: string;
  /** The host runtime on a root runner: the workspace, which the build's uid holds during the run (the post step gives it back). */
  workspace?: string;
}

export interface RunHooks {
  /** Called before anything is created, so a post step can clean up even if this process dies. */
  onStart?(run: RunHandle): void;
}
