// The first fenced step of a job, when the holder image is absent: pulled by digest from a
// registry (a local one here, test/integration/registry.ts, on loopback) against built on the
// runner as today (scripts/build-holder-image, the offline build from Debian's packages; the
// Dockerfile build needs Docker Hub, which is not reachable here); and a later step, with the
// image present. Each round starts from an engine without the image, down to its layer.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { startRegistry, uniqueCopy } from '../test/integration/registry.js';
import { BENCH_LABEL, HOLDER_IMAGE, ROOT, fmtMs, interleave, median, must, runArgs, timed, type Clis } from './lib.js';

type Variant = 'pull' | 'build' | 'present';

/** `run` of `true` with this holder image; `--pull missing` so that an absent holder is pulled. */
function withHolder(holder: string): string[] {
  const args = runArgs([], 'true');
  args[args.indexOf('--pull') + 1] = 'missing';
  return [...args.slice(0, -2), '--holder-image', holder, ...args.slice(-2)];
}

export async function firstStepBench(clis: Clis, reps: number): Promise<string[]> {
  const registry = await startRegistry(BENCH_LABEL);
  const tag = randomBytes(4).toString('hex');
  const built = `buildfence-bench/holder-built:${tag}`;
  const cli = (holder: string) => must(clis.bundle.argv[0], [...clis.bundle.argv.slice(1), ...withHolder(holder)], { cwd: clis.workspace });
  const pullMs: number[] = [];
  const buildMs: number[] = [];
  try {
    const run: Record<Variant, () => Promise<number>> = {
      pull: async () => {
        const copy = `buildfence-bench/holder-copy:${tag}`;
        await uniqueCopy(HOLDER_IMAGE, copy);
        const ref = await registry.push(copy, `buildfence/holder:${tag}`);
        try {
          const pulled = await must('docker', ['pull', '--quiet', ref]);
          pullMs.push(pulled.ms);
          await must('docker', ['image', 'rm', ref]);
          return (await cli(ref)).ms;
        } finally {
          await timed('docker', ['image', 'rm', ref]);
        }
      },
      build: async () => {
        try {
          const b = await must('bash', [path.join(ROOT, 'scripts/build-holder-image'), built], {
            env: { ...process.env, BUILDFENCE_REBUILD: '1' },
          });
          buildMs.push(b.ms);
          return b.ms + (await cli(built)).ms;
        } finally {
          await timed('docker', ['image', 'rm', built]);
        }
      },
      present: async () => (await cli(HOLDER_IMAGE)).ms,
    };
    const variants = Object.keys(run) as Variant[];
    const times = await interleave(variants, reps, (v) => run[v]());
    const med = Object.fromEntries(variants.map((v) => [v, median(times[v])])) as Record<Variant, number>;
    console.log(`first step: pull ${fmtMs(med.pull)}, build ${fmtMs(med.build)}, later step ${fmtMs(med.present)}`);
    return [
      `${reps} round(s); each runs every variant once, in an order that rotates; medians. A step is the bundled CLI's ` +
        '`run --grade release` of `true` in the probe image. The holder image is a copy of ' +
        `\`${HOLDER_IMAGE}\` with one layer of its own (${'`scripts/build-holder-image`'}'s root filesystem plus one file of ` +
        "random bytes), so that each pull fetches all of it; the registry is Debian's `docker-registry` 2.8 on a " +
        'loopback port (no TLS, no network latency: a real registry adds its round trips and bandwidth).',
      '',
      '| first step of a job | median |',
      '| --- | ---: |',
      `| holder absent, **pulled by digest** (\`--holder-image 127.0.0.1:PORT/buildfence/holder:TAG@sha256:…\`), then the fenced step | **${fmtMs(med.pull)}** |`,
      `| of which \`docker pull\` alone (measured separately, same image) | ${fmtMs(median(pullMs))} |`,
      `| holder absent, **built** by \`scripts/build-holder-image\` (Debian's packages, downloaded again each round), then the fenced step | **${fmtMs(med.build)}** |`,
      `| of which the build alone | ${fmtMs(median(buildMs))} |`,
      `| a later step: the holder present | ${fmtMs(med.present)} |`,
    ];
  } finally {
    await registry.stop();
    await timed('docker', ['image', 'rm', built]);
  }
}
