// Runs the benchmarks and writes their results, with the machine, into BENCHMARKS.md.
//
//   node --import tsx bench/run.ts [setup] [scale] [throughput] [dns] [first-step] [wire] [host] [--reps N] [--quick] [--no-write]
//
// Needs the Docker engine, strace, gcc and busybox-static (the probe image is built here, under
// a tag of its own) and the holder image of scripts/build-holder-image. --quick is a smoke test
// of the benchmarks themselves: one short round, nothing written.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, buildProbeImage, describeMachine, loadNote, prepareClis, sweepBench, type Clis } from './lib.js';
import { scaleBench } from './scale.js';
import { setupBench } from './setup.js';
import { throughputBench } from './throughput.js';
import { dnsBench } from './dns.js';
import { firstStepBench } from './first-step.js';
import { wireBench } from './wire.js';
import { hostBench } from './host.js';

interface Settings {
  reps: number;
  rateSeconds: number;
  bulkBytes: number;
}

const BENCHMARKS: Record<string, { title: string; run: (clis: Clis, s: Settings) => Promise<string[]> }> = {
  setup: { title: 'Setup overhead', run: (c, s) => setupBench(c, s.reps) },
  scale: { title: 'Allowlist scale', run: (c, s) => scaleBench(c, s.reps, s.rateSeconds) },
  throughput: { title: 'Throughput', run: (c, s) => throughputBench(c, s.reps, s.bulkBytes) },
  dns: { title: 'Resolver vs dnsmasq', run: (_c, s) => dnsBench(s.reps) },
  'first-step': { title: 'First step of a job: pull or build the holder', run: (c, s) => firstStepBench(c, Math.min(s.reps, 5)) },
  wire: { title: 'Names checked on the wire', run: (c, s) => wireBench(c, s.reps, s.bulkBytes) },
  host: { title: 'runtime host', run: (c, s) => hostBench(c, s.reps) },
};

const RESULTS_FILE = path.join(ROOT, 'BENCHMARKS.md');

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { reps: { type: 'string' }, quick: { type: 'boolean' }, 'no-write': { type: 'boolean' } },
  });
  const unknown = positionals.filter((p) => !(p in BENCHMARKS));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
  const names = positionals.length ? positionals : Object.keys(BENCHMARKS);
  const settings: Settings = values.quick
    ? { reps: 1, rateSeconds: 1, bulkBytes: 1e8 }
    : { reps: Number(values.reps ?? 7), rateSeconds: 3, bulkBytes: 2e9 };
  if (!Number.isInteger(settings.reps) || settings.reps < 1 || settings.reps > 50) throw new Error('--reps must be from 1 to 50');
  const write = !values.quick && !values['no-write'];

  await sweepBench();
  const machine = await describeMachine();
  console.log(`machine: ${machine}`);
  const probe = await buildProbeImage();
  const clis = await prepareClis();
  const stop = (signal: NodeJS.Signals) => {
    console.error(`${signal}: removing what the benchmarks created`);
    void Promise.allSettled([sweepBench(), clis.remove()]).finally(() => probe.remove().finally(() => process.exit(130)));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (const name of names) {
      const { title, run } = BENCHMARKS[name];
      console.log(`== ${title}`);
      const before = os.loadavg()[0];
      const body = await run(clis, settings);
      const section = [
        `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}; ${loadNote(before)}.`,
        '',
        ...body,
      ];
      console.log(section.join('\n'));
      if (write) await writeSection(name, title, section.join('\n'));
    }
    if (write) console.log(`results written to ${RESULTS_FILE}`);
  } finally {
    await clis.remove();
    await sweepBench();
    await probe.remove();
  }
}

/** Replaces one benchmark's generated block in BENCHMARKS.md, keeping the text around it. */
async function writeSection(name: string, title: string, body: string): Promise<void> {
  const begin = `<!-- bench:${name}:begin (written by bench/run.ts) -->`;
  const end = `<!-- bench:${name}:end -->`;
  let text = await fs.readFile(RESULTS_FILE, 'utf8').catch(() => '# Benchmarks\n');
  const block = `${begin}\n${body}\n${end}`;
  const [from, to] = [text.indexOf(begin), text.indexOf(end)];
  text =
    from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n## ${title}\n\n${block}\n`;
  await fs.writeFile(RESULTS_FILE, text);
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
