// Throughput: one bulk TCP transfer from the allowed server, fenced and unfenced, alternating.
import { benchNet, fmtPct, interleave, median, pairedRatio, fencedSession, unfencedSession, type Clis, type Session } from './lib.js';

const GOAL = 0.9;

export async function throughputBench(clis: Clis, reps: number, bytes: number): Promise<string[]> {
  const net = await benchNet();
  const sessions: Session[] = [];
  try {
    const unfenced = await unfencedSession(net);
    sessions.push(unfenced);
    const fenced = await fencedSession(clis.bundle, [`${net.server}:${net.port}`], net, clis.workspace);
    sessions.push(fenced);
    const probe = ['bulk', net.server, String(net.port), String(bytes)];
    const runs = await interleave(['unfenced', 'fenced'] as const, reps, async (v) =>
      mbps(await (v === 'fenced' ? fenced : unfenced).probe(probe)),
    );
    const [u, f, ratio] = [median(runs.unfenced), median(runs.fenced), pairedRatio(runs.fenced, runs.unfenced)];
    console.log(`throughput: unfenced ${u.toFixed(0)} MB/s, fenced ${f.toFixed(0)} MB/s (${fmtPct(ratio)})`);
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    return [
      `${reps} rounds, each running both once, in an order that rotates; MB/s are medians, the ratio is the median ` +
        `of the per-round ratios. \`probe bulk\` reads ${(bytes / 1e9).toFixed(1)} GB from a \`probe source\` on an ` +
        'internal network over one TCP connection, run with `docker exec` in two containers that stay up: the build ' +
        "of a release run through the bundled CLI, with the server's `IP:PORT` as its only entry (fenced), and the " +
        'same probe image on the same network without buildfence (unfenced). MB = 10^6 bytes.',
      '',
      '| transfer | MB/s (range) | vs unfenced |',
      '| --- | ---: | ---: |',
      `| unfenced | ${u.toFixed(0)} (${range(runs.unfenced)}) | 100.0 % |`,
      `| **fenced** | ${f.toFixed(0)} (${range(runs.fenced)}) | **${fmtPct(ratio)}** |`,
      '',
      `Goal: ${fmtPct(GOAL)} or more of unfenced: ${ratio >= GOAL ? 'met' : 'missed'}.`,
    ];
  } finally {
    for (const s of sessions) await s.stop().catch(() => undefined);
    await net.remove();
  }
}

function mbps(stdout: string): number {
  const m = /^bulk (\d+) bytes in [\d.]+ s = ([\d.]+) MB\/s/m.exec(stdout);
  if (!m) throw new Error(`no "bulk" line in the probe's output:\n${stdout.slice(-1000)}`);
  return Number(m[2]);
}
