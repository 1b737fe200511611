// The kernel's counters, read in the holder through the engine (an exec) once the build has ended.
import { COUNTERS_SCRIPT, parseCounters, type KernelCounts } from '../firewall/counters.js';
import { execStream } from './engine.js';

const DEADLINE_MS = 10_000;

/** The holder's counts; throws, naming what failed, when they cannot be read. */
export async function readKernelCounts(holder: string): Promise<KernelCounts> {
  const exec = await execStream(holder, ['sh', '-c', COUNTERS_SCRIPT]);
  let timer: NodeJS.Timeout | undefined;
  const [stdout, stderr] = await Promise.race([
    Promise.all([text(exec.stdout), text(exec.stderr)]),
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${DEADLINE_MS / 1000} s`)), DEADLINE_MS)),
    ),
  ]).finally(() => {
    clearTimeout(timer);
    exec.close();
  });
  const counts = parseCounters(stdout);
  if (!counts) throw new Error(`the holder printed no counters${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`);
  return counts;
}

function text(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    stream.on('data', (d: Buffer) => (out += d.toString()));
    stream.on('end', () => resolve(out));
  });
}
