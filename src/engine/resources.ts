// Removing what a run owns, and sweeping what killed runs left behind.
import { LABEL, LABEL_HOST, LABEL_PID, LABEL_RUN, type RunIdentity } from '../run/identity.js';
import { resourceNames } from './containers.js';
import { listContainers, removeContainer } from './engine.js';

/**
 * Removes the run's containers. Idempotent: what is already gone is not an error. Returns what
 * could not be removed, for the caller to warn about.
 */
export async function removeRun(runId: string): Promise<string[]> {
  const names = resourceNames(runId);
  const problems: string[] = [];
  // By name: every container of a run is named from its id (the label sweep catches the rest).
  await Promise.all(
    [names.build, names.holder, names.hostView].map((name) =>
      removeContainer(name).catch((err: Error) => {
        if (!/already in progress/i.test(err.message)) problems.push(`container ${name}: ${err.message}`);
      }),
    ),
  );
  return problems;
}

/** Leftovers of runs on this host whose process is gone. */
export interface Leftover {
  runId: string;
  id: string;
}

export async function findLeftovers(self: RunIdentity, isAlive: (pid: number) => boolean): Promise<Leftover[]> {
  return (await listContainers(LABEL))
    .map((r) => ({ id: r.Id, labels: r.Labels ?? {} }))
    .filter(({ labels: l }) => l[LABEL_RUN] && l[LABEL_RUN] !== self.runId && l[LABEL_HOST] === self.host && !isAlive(Number(l[LABEL_PID])))
    .map(({ id, labels: l }) => ({ runId: l[LABEL_RUN], id }));
}

/** Removes the leftovers, each one best effort. */
export async function removeLeftovers(leftovers: Leftover[]): Promise<void> {
  await Promise.all(leftovers.map((l) => removeContainer(l.id).catch(() => undefined)));
}

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
