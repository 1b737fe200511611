// runtime host (issue 18): the setup of a fenced step whose build runs on the runner, against a
// plain `run:` of the same script (the script run directly, as the runner runs a step's file) and
// against the container runtime, side by side; then where each runtime's time goes.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  BENCH_LABEL,
  PROBE_IMAGE,
  fmtMs,
  fmtRatio,
  interleave,
  median,
  must,
  pairedRatio,
  runArgs,
  traced,
  type Clis,
  type Trace,
} from './lib.js';
import { ENTRIES, breakdown } from './setup.js';

type Variant = 'plain' | 'host' | 'docker' | 'dockerRun';

const SCRIPT = 'true';

/** `run` with the host runtime: the docker runtime's arguments without the image and pull. */
function hostArgs(): string[] {
  const args = runArgs(ENTRIES, SCRIPT);
  for (const flag of ['--image', '--pull']) args.splice(args.indexOf(flag), 2);
  return [...args.slice(0, -2), '--runtime', 'host', ...args.slice(-2)];
}

export async function hostBench(clis: Clis, reps: number): Promise<string[]> {
  // A runner's RUNNER_TEMP, removed with the CLIs: on a root runner the build's HOME is made in it.
  const runnerTemp = path.join(path.dirname(clis.workspace), 'runner-temp');
  await fs.mkdir(runnerTemp, { recursive: true });
  const script = path.join(runnerTemp, 'step.sh');
  await fs.writeFile(script, `${SCRIPT}\n`);
  const env = { ...process.env, RUNNER_TEMP: runnerTemp };
  const bundle = (args: string[]) => () => must(clis.bundle.argv[0], [...clis.bundle.argv.slice(1), ...args], { cwd: clis.workspace, env });
  const run: Record<Variant, () => Promise<{ ms: number }>> = {
    plain: () => must('sh', ['-e', script], { cwd: clis.workspace }),
    host: bundle(hostArgs()),
    docker: bundle(runArgs(ENTRIES, SCRIPT)),
    dockerRun: () => must('docker', ['run', '--rm', '--label', BENCH_LABEL, PROBE_IMAGE, SCRIPT]),
  };
  const variants = Object.keys(run) as Variant[];
  // One unmeasured round warms the page cache and the engine, and makes the host runtime's root image.
  for (const v of variants) await run[v]();
  const times = await interleave(variants, reps, async (v) => (await run[v]()).ms);
  const med = Object.fromEntries(variants.map((v) => [v, median(times[v])])) as Record<Variant, number>;
  const overPlain = (v: Variant) => median(times[v].map((x, i) => x - times.plain[i]));
  console.log(
    `host: plain ${fmtMs(med.plain)}, runtime host ${fmtMs(med.host)}, runtime docker ${fmtMs(med.docker)} ` +
      `(host/docker ${fmtRatio(pairedRatio(times.host, times.docker))})`,
  );

  const traces: Record<'docker' | 'host', Trace[]> = { docker: [], host: [] };
  for (let i = 0; i < reps; i++) {
    traces.docker.push(await traced([...clis.bundle.argv, ...runArgs(ENTRIES, SCRIPT)], clis.workspace, undefined, env));
    traces.host.push(await traced([...clis.bundle.argv, ...hostArgs()], clis.workspace, undefined, env));
  }

  return [
    `${reps} rounds after one warm-up round; each round runs every variant once, in an order that rotates. ` +
      'Times are medians; ratios and differences are medians of the per-round ones.',
    `Each fenced run is the bundled CLI's \`run --grade release\` of \`${SCRIPT}\` with ${ENTRIES.length} allowlist entries ` +
      "in 198.51.100.0/24 (rules only; no packet is sent) on Docker's default bridge. This machine runs as root, so the " +
      "host runtime's build runs as uid 65533 and the (empty) workspace is handed to it and taken back in each run; " +
      "a runner user's run (GitHub-hosted) skips those two `chown -R`. " +
      `The bundled CLI is a fresh bundle of src/, ${clis.distCurrent ? 'identical to dist/' : 'which differs from dist/ (dist/ is stale)'}.`,
    '',
    '| step | median | over the plain step | vs runtime docker |',
    '| --- | ---: | ---: | ---: |',
    `| plain \`run:\` step: the script run directly (\`sh -e step.sh\`) | ${fmtMs(med.plain)} | | |`,
    `| **fenced, \`runtime: host\`**: on the runner, in the holder's namespace | **${fmtMs(med.host)}** | ${fmtMs(overPlain('host'))} | **${fmtRatio(pairedRatio(times.host, times.docker))}** |`,
    `| fenced, \`runtime: docker\`: in a container of \`${PROBE_IMAGE}\` | ${fmtMs(med.docker)} | ${fmtMs(overPlain('docker'))} | 1.00x |`,
    `| unfenced \`docker run --rm\` of the same image, for scale | ${fmtMs(med.dockerRun)} | ${fmtMs(overPlain('dockerRun'))} | ${fmtRatio(pairedRatio(times.dockerRun, times.docker))} |`,
    '',
    `Where the time goes: ${reps} runs of each runtime traced as in Setup overhead (\`strace -f -e trace=execve\`, ` +
      'an Engine API proxy), medians per phase.',
    '',
    '| phase | for | runtime docker | runtime host |',
    '| --- | --- | ---: | ---: |',
    ...breakdown(traces.docker, traces.host),
  ];
}
