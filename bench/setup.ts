// Setup overhead: a release build of `true` with 20 allowlist entries, against a plain
// `docker run --rm` of the same image and against the same fence made by hand; then where
// buildfence's time goes, process by process and request by request.
import { randomBytes } from 'node:crypto';
import {
  BENCH_LABEL,
  HOLDER_IMAGE,
  PROBE_IMAGE,
  dockerVerb,
  fmtMs,
  fmtRatio,
  interleave,
  median,
  must,
  pairedRatio,
  runArgs,
  timed,
  traced,
  type Cli,
  type Clis,
  type Trace,
} from './lib.js';

/** TEST-NET-2 addresses, half of them with a port: rules only, no packet is sent to them. */
export const ENTRIES = Array.from({ length: 20 }, (_, i) => (i % 2 ? `198.51.100.${i + 1}:443` : `198.51.100.${i + 1}`));
const GOAL = 2.5;

/** What a docker process or Engine API call of a run is for. */
function purpose(argv: string[]): string {
  const a = argv.slice(1).join(' ');
  const rules: Array<[RegExp, string]> = [
    [/^GET \/_ping$/, 'the engine answers'],
    [/^GET \/containers\/json$/, 'sweep: containers of killed runs'],
    [/^GET \/info$/, "host runtime: the engine's seccomp, rootless or remapped, its root directory"],
    [/^GET \/images\//, 'an image present? its id (the holder; for the host runtime also its root image)'],
    [/^GET \/networks\//, 'the sandbox network: gateways (the Docker host) and subnets'],
    [/^POST \/containers\/create \(holder\)$/, 'holder created'],
    [/^POST \/containers\/create \(build\)$/, "build created, the CLI's request"],
    [/^HEAD \/_ping$/, "the CLI's own check of the engine"],
    [/^POST \/containers\/\{holder\}\/attach$/, "holder's output: the read-back, then the reader's packets (open while the build runs)"],
    [/^POST \/containers\/\{holder\}\/start$/, 'holder started; it loads the rules and prints them back'],
    [/^GET \/containers\/\{holder\}\/json$/, "holder's addresses"],
    [/^POST \/containers\/\{holder\}\/exec$/, "exec created: the set feed, or after the build the kernel's counters"],
    [/^POST \/exec\/\{id\}\/start$/, "the set feed (`ipset -`, open while the build runs), or the counters' read"],
    [/^create /, 'build container created: the CLI, as it takes the docker options'],
    [/^GET \/containers\/\{build\}\/json$/, "build's tty and image"],
    [/^POST \/containers\/\{build\}\/attach$/, 'build output, to its end: the build runs `true`'],
    [/^POST \/containers\/\{build\}\/start$/, 'build started'],
    [/^POST \/containers\/\{build\}\/wait$/, "build's exit code"],
    [/^DELETE \/containers\/\{build\}$/, 'teardown: build removed (beside the holder)'],
    [/^DELETE \/containers\/\{holder\}$/, 'teardown: holder removed'],
  ];
  return rules.find(([re]) => re.test(a))?.[1] ?? '';
}

type Variant = 'plain' | 'manual' | 'bundle' | 'bundleNet' | 'tsx' | 'dockerCall' | 'node' | 'bundleHelp' | 'tsxHelp';

export async function setupBench(clis: Clis, reps: number): Promise<string[]> {
  // A user-defined network made once, as a job would for all its fenced steps (the `network` input).
  const network = `bfbench-setup-${randomBytes(4).toString('hex')}`;
  await must('docker', ['network', 'create', '--internal', '--label', BENCH_LABEL, network]);
  try {
    return await measure(clis, reps, network);
  } finally {
    await timed('docker', ['network', 'rm', network]);
  }
}

async function measure(clis: Clis, reps: number, network: string): Promise<string[]> {
  const bf = (cli: Cli, net?: string) => () =>
    must(cli.argv[0], [...cli.argv.slice(1), ...runArgs(ENTRIES, 'true', net)], { cwd: clis.workspace });
  const run: Record<Variant, () => Promise<{ ms: number }>> = {
    plain: () => must('docker', ['run', '--rm', '--label', BENCH_LABEL, PROBE_IMAGE, 'true']),
    manual: handMade,
    bundle: bf(clis.bundle),
    bundleNet: bf(clis.bundle, network),
    tsx: bf(clis.tsx),
    dockerCall: () => must('docker', ['version', '--format', '{{.Server.Version}}']),
    node: () => must(process.execPath, ['-e', '0']),
    bundleHelp: () => must(clis.bundle.argv[0], [...clis.bundle.argv.slice(1), '--help']),
    tsxHelp: () => must(clis.tsx.argv[0], [...clis.tsx.argv.slice(1), '--help']),
  };
  const variants = Object.keys(run) as Variant[];
  // One unmeasured round warms the page cache and the engine.
  for (const v of variants) await run[v]();
  const times = await interleave(variants, reps, async (v) => (await run[v]()).ms);
  const med = Object.fromEntries(variants.map((v) => [v, median(times[v])])) as Record<Variant, number>;
  const vsPlain = (v: Variant) => pairedRatio(times[v], times.plain);
  console.log(
    `setup: plain ${fmtMs(med.plain)}, hand-made ${fmtMs(med.manual)}, buildfence bundled ${fmtMs(med.bundle)} (${fmtRatio(vsPlain('bundle'))}), ` +
      `on a given network ${fmtMs(med.bundleNet)} (${fmtRatio(vsPlain('bundleNet'))}), via tsx ${fmtMs(med.tsx)} (${fmtRatio(vsPlain('tsx'))})`,
  );

  const traces: Record<'bundle' | 'tsx', Trace[]> = { bundle: [], tsx: [] };
  for (let i = 0; i < reps; i++) {
    for (const k of ['bundle', 'tsx'] as const) {
      traces[k].push(await traced([...clis[k].argv, ...runArgs(ENTRIES, 'true')], clis.workspace));
    }
  }
  const rows = breakdown(traces.bundle, traces.tsx);

  const verdict = (v: Variant) => (vsPlain(v) <= GOAL ? 'met' : 'missed');
  return [
    `${reps} rounds after one warm-up round; each round runs every variant once, in an order that rotates. ` +
      'Times are medians; ratios are medians of the per-round ratios.',
    `The buildfence run is \`run --grade release\` with ${ENTRIES.length} allowlist entries in 198.51.100.0/24 ` +
      "(rules only; no packet is sent) on Docker's default bridge, the default; the build runs `true` in " +
      `\`${PROBE_IMAGE}\`. The bundled CLI is a fresh bundle of src/ (scripts/bundle.mjs), ` +
      `${clis.distCurrent ? 'identical to dist/ (dist/ is current)' : 'which differs from dist/ (dist/ is stale)'}.`,
    '',
    '| run | median | vs plain |',
    '| --- | ---: | ---: |',
    `| plain \`docker run --rm\` of the image, running \`true\` | ${fmtMs(med.plain)} | 1.00x |`,
    `| by hand: \`docker run -d\` holder with NET_ADMIN, one \`iptables\` rule via \`docker exec\`, \`docker run --rm --network container:\`, \`docker rm -f\` | ${fmtMs(med.manual)} | ${fmtRatio(vsPlain('manual'))} |`,
    `| **buildfence, bundled cli.js** | ${fmtMs(med.bundle)} | **${fmtRatio(vsPlain('bundle'))}** |`,
    `| buildfence, bundled cli.js, on a user-defined network made once (\`--network\`) | ${fmtMs(med.bundleNet)} | ${fmtRatio(vsPlain('bundleNet'))} |`,
    `| buildfence, src/cli.ts via tsx | ${fmtMs(med.tsx)} | ${fmtRatio(vsPlain('tsx'))} |`,
    `| one docker CLI call (\`docker version\`), for scale | ${fmtMs(med.dockerCall)} | |`,
    `| node start, \`node -e 0\` | ${fmtMs(med.node)} | |`,
    `| node start, bundled \`cli.js --help\` | ${fmtMs(med.bundleHelp)} | |`,
    `| node start, \`src/cli.ts --help\` via tsx | ${fmtMs(med.tsxHelp)} | |`,
    '',
    `Goal: at most ${GOAL}x the plain run. Bundled: ${fmtRatio(vsPlain('bundle'))}, ${verdict('bundle')}; ` +
      `on a user-defined network: ${fmtRatio(vsPlain('bundleNet'))}, ${verdict('bundleNet')}; ` +
      `via tsx: ${fmtRatio(vsPlain('tsx'))}, ${verdict('tsx')}. buildfence vs the hand-made sequence: ` +
      `${fmtRatio(pairedRatio(times.bundle, times.manual))} bundled, ${fmtRatio(pairedRatio(times.tsx, times.manual))} via tsx.`,
    '',
    `Where the time goes: ${reps} runs of each CLI under \`strace -f -e trace=execve\` (start and exit of every ` +
      'process, nothing else is stopped) with DOCKER_HOST pointing at a proxy in front of the engine that notes when ' +
      "each API request starts and when its last answer byte passes (for attach and exec: the stream's end), medians " +
      'per phase. "node" rows are the CLI\'s own time: start-up, rendering and comparing rules, waiting on nothing.',
    '',
    '| phase | for | bundled | tsx |',
    '| --- | --- | ---: | ---: |',
    ...rows,
  ];
}

/** The same fence made by hand, timed as one sequence. */
async function handMade(): Promise<{ ms: number }> {
  const name = `bfbench-hand-${randomBytes(4).toString('hex')}`;
  const start = performance.now();
  try {
    await must('docker', ['run', '--detach', '--name', name, '--label', BENCH_LABEL, '--cap-add', 'NET_ADMIN', HOLDER_IMAGE]);
    await must('docker', ['exec', name, 'iptables', '-A', 'OUTPUT', '!', '-d', '198.51.100.1', '-j', 'REJECT']);
    await must('docker', ['run', '--rm', '--network', `container:${name}`, '--label', BENCH_LABEL, PROBE_IMAGE, 'true']);
  } finally {
    await timed('docker', ['rm', '--force', name]);
  }
  return { ms: performance.now() - start };
}

/** Per-phase medians of traced runs, one column per CLI, as table rows. */
export function breakdown(...columns: Trace[][]): string[] {
  const phaseMaps = columns.map((traces) => traces.map(phases));
  const labels: string[] = [];
  const purposes = new Map<string, string>();
  for (const maps of phaseMaps) {
    for (const m of maps) {
      for (const [k, v] of m) {
        if (!labels.includes(k)) labels.push(k);
        if (v.argv && !purposes.has(k)) purposes.set(k, purpose(v.argv));
      }
    }
  }
  const cell = (maps: Phases[], label: string) => {
    const xs = maps.map((m) => m.get(label)?.ms).filter((x): x is number => x !== undefined);
    return xs.length ? fmtMs(median(xs)) : '';
  };
  return labels.map((label) => {
    const bold = label.startsWith('total') ? '**' : '';
    return `| ${bold}${label}${bold} | ${purposes.get(label) ?? ''} | ${phaseMaps.map((maps) => `${bold}${cell(maps, label)}${bold}`).join(' | ')} |`;
  });
}

export type Phases = Map<string, { ms: number; argv?: string[] }>;

/**
 * One run's phases: node's start, each docker call (some run alongside others), node's time
 * while no docker call runs, and the wall time during which at least one does. The four
 * "node" and "docker calls running" rows add up to the total.
 */
export function phases(t: Trace): Phases {
  const out: Phases = new Map();
  const seen = new Map<string, number>();
  out.set('node: start to first docker call or request', { ms: t.docker[0]?.start ?? t.totalMs });
  for (const p of t.docker) {
    const verb = dockerVerb(p.argv);
    const n = (seen.get(verb) ?? 0) + 1;
    seen.set(verb, n);
    out.set(n > 1 ? `${verb} #${n}` : verb, { ms: p.end - p.start, argv: p.argv });
  }
  let busy = 0;
  let reach = -Infinity;
  for (const p of t.docker) {
    busy += Math.max(0, p.end - Math.max(p.start, reach));
    reach = Math.max(reach, p.end);
  }
  const first = t.docker[0]?.start ?? t.totalMs;
  const last = t.docker.length ? reach : t.totalMs;
  const call = (method: string, p: string) => t.docker.find((x) => x.argv[0] === 'api' && x.argv[1] === method && x.argv[2] === p);
  const holderStart = call('POST', '/containers/{holder}/start');
  const buildStart = call('POST', '/containers/{build}/start');
  if (holderStart && t.loadingAt !== undefined && t.loadedAt !== undefined) {
    out.set("holder start asked to its process's first line", { ms: t.loadingAt - holderStart.start });
    out.set("holder's process: rules loaded and printed back", { ms: t.loadedAt - t.loadingAt });
    // Between the read-back and the build: the comparison, and the reader and the feed if they are not up yet.
    if (buildStart) out.set('rules printed back to build start (critical path)', { ms: buildStart.start - t.loadedAt });
  }
  out.set('node alone, between docker calls and requests', { ms: last - first - busy });
  out.set('node: last docker call or request to exit', { ms: t.totalMs - last });
  out.set('docker calls and requests running (wall time)', { ms: busy });
  out.set('total (traced)', { ms: t.totalMs });
  return out;
}
