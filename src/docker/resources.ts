// Creating and removing what a run owns, and sweeping what killed runs left behind.
import { LABEL, LABEL_HOST, LABEL_PID, LABEL_RUN, resourceNames, type RunIdentity } from './args.js';
import { listContainers, listNetworks, removeContainer, removeNetwork, type Labelled } from './engine.js';

/**
 * Removes the run's containers and its network (when it created one). Idempotent: what is
 * already gone is not an error. Returns what could not be removed, for the caller to warn about.
 */
export async function removeRun(runId: string, ownNetwork: boolean): Promise<string[]> {
  const names = resourceNames(runId);
  const problems: string[] = [];
  // By name: every container of a run is named from its id (the label sweep catches the rest).
  await Promise.all(
    [names.build, names.holder].map((name) =>
      removeContainer(name).catch((err: Error) => {
        if (!/already in progress/i.test(err.message)) problems.push(`container ${name}: ${err.message}`);
      }),
    ),
  );
  if (ownNetwork) {
    await removeNetwork(names.network).catch((err: Error) => problems.push(`network ${names.network}: ${err.message}`));
  }
  return problems;
}

/** Leftovers of runs on this host whose process is gone. */
export interface Leftover {
  runId: string;
  kind: 'container' | 'network';
  id: string;
}

export async function findLeftovers(self: RunIdentity, isAlive: (pid: number) => boolean): Promise<Leftover[]> {
  const [containers, networks] = await Promise.all([listContainers(LABEL), listNetworks(LABEL)]);
  const parse = (found: Labelled[], kind: Leftover['kind']): Leftover[] =>
    found
      .map((r) => ({ id: r.Id, labels: r.Labels ?? {} }))
      .filter(({ labels: l }) => l[LABEL_RUN] && l[LABEL_RUN] !== self.runId && l[LABEL_HOST] === self.host && !isAlive(Number(l[LABEL_PID])))
      .map(({ id, labels: l }) => ({ runId: l[LABEL_RUN], kind, id }));
  return [...parse(containers, 'container'), ...parse(networks, 'network')];
}

/** Removes the leftovers: containers first (a network in use cannot go), each one best effort. */
export async function removeLeftovers(leftovers: Leftover[]): Promise<void> {
  const ignore = () => undefined;
  await Promise.all(leftovers.filter((l) => l.kind === 'container').map((l) => removeContainer(l.id).catch(ignore)));
  await Promise.all(leftovers.filter((l) => l.kind === 'network').map((l) => removeNetwork(l.id).catch(ignore)));
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
