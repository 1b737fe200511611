// Creating and removing what a run owns, and sweeping what killed runs left behind.
import { docker, dockerOk, lastLine } from './cli.js';
import { LABEL, LABEL_HOST, LABEL_PID, LABEL_RUN, resourceNames, type RunIdentity } from './args.js';

/**
 * Removes the run's containers and its network (when it created one). Idempotent: what is
 * already gone is not an error. Returns what could not be removed, for the caller to warn about.
 */
export async function removeRun(runId: string, ownNetwork: boolean): Promise<string[]> {
  const names = resourceNames(runId);
  const problems: string[] = [];
  // By name: every container of a run is named from its id (the label sweep catches the rest).
  const rm = await docker(['rm', '--force', '--volumes', names.build, names.holder]);
  for (const line of rm.stderr.split('\n')) {
    if (line.trim() && !/no such container|already in progress/i.test(line)) problems.push(`container: ${line.trim()}`);
  }
  if (ownNetwork) {
    const network = names.network;
    const net = await docker(['network', 'rm', network]);
    if (net.exitCode !== 0 && !/not found|no such network/i.test(net.stderr)) {
      problems.push(`network ${network}: ${lastLine(net.stderr)}`);
    }
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
  const format = `{{.ID}} {{.Label "${LABEL_RUN}"}} {{.Label "${LABEL_PID}"}} {{.Label "${LABEL_HOST}"}}`;
  const containers = await dockerOk(['ps', '--all', '--filter', `label=${LABEL}`, '--format', format]);
  const networks = await dockerOk(['network', 'ls', '--filter', `label=${LABEL}`, '--format', format]);
  const parse = (text: string, kind: Leftover['kind']): Leftover[] =>
    text
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([id, runId, pid, host]) => id && runId && runId !== self.runId && host === self.host && !isAlive(Number(pid)))
      .map(([id, runId]) => ({ runId, kind, id }));
  return [...parse(containers, 'container'), ...parse(networks, 'network')];
}

export async function removeLeftovers(leftovers: Leftover[]): Promise<void> {
  const containers = leftovers.filter((l) => l.kind === 'container').map((l) => l.id);
  const networks = leftovers.filter((l) => l.kind === 'network').map((l) => l.id);
  if (containers.length > 0) await docker(['rm', '--force', '--volumes', ...containers]);
  if (networks.length > 0) await docker(['network', 'rm', ...networks]);
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
