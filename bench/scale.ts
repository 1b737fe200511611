// Allowlist scale: 1, 100 and 10,000 entries. How long the rules take to load and verify, and
// how many new TCP connections per second pass the fence to the one server the build may reach.
import { phases, type Phases } from './setup.js';
import {
  benchNet,
  fencedSession,
  fmtDeltaMs,
  fmtMs,
  fmtPct,
  interleave,
  median,
  pairedRatio,
  runArgs,
  traced,
  unfencedSession,
  type Clis,
  type Session,
  type Trace,
} from './lib.js';

const SIZES = [1, 100, 10_000] as const;
const LOAD_GOAL_MS = 1000;
const RATE_GOAL = 0.9;

/**
 * The server's own entry first (`IP:PORT`, so its connections are matched in the port set, after
 * a miss in the address set), then, in thirds: /32 hosts (TCP and UDP sets), /24 networks (a
 * second prefix length for hash:net to try) and /32 hosts with :443 (the port set). All in
 * 10.0.0.0/8 and all rules only: the build connects to the server alone.
 */
export function scaleEntries(n: number, server: string): string[] {
  const out = [server];
  for (let i = 0; out.length < n; i++) {
    const j = Math.floor(i / 3);
    const [hi, lo] = [j >> 8, j & 255];
    out.push(i % 3 === 0 ? `10.1.${hi}.${lo}` : i % 3 === 1 ? `10.${16 + hi}.${lo}.0/24` : `10.32.${hi}.${lo}:443`);
  }
  return out;
}

interface Load {
  /** The holder's process, from its first line to the end of its read-back: the load, and the rules printed back. */
  loadMs: number;
  /** From the read-back to the build's start: parsing and comparing it (the reader and the feed start meanwhile). */
  verifyMs: number;
  /** The CLI's whole run less the build's (its start to the end of its output): setup and teardown. */
  overheadMs: number;
  phases: Phases;
}

type Size = `${(typeof SIZES)[number]}`;
const SIZE_KEYS = SIZES.map((n): Size => `${n}`);

export async function scaleBench(clis: Clis, reps: number, seconds: number): Promise<string[]> {
  const net = await benchNet();
  const sessions: Session[] = [];
  try {
    const target = `${net.server}:${net.port}`;
    const lists = new Map(SIZE_KEYS.map((k) => [k, scaleEntries(Number(k), target)]));

    // Load: whole runs of `true`, traced.
    const loads = await interleave(SIZE_KEYS, reps, async (k) =>
      load(await traced([...clis.bundle.argv, ...runArgs(lists.get(k)!, 'true', net.name)], clis.workspace)),
    );

    // Rate: one build per size and one unfenced container, all up at once, taking turns.
    const up: Partial<Record<Size | 'unfenced', Session>> = {};
    for (const k of SIZE_KEYS) sessions.push((up[k] = await fencedSession(clis.bundle, lists.get(k)!, net, clis.workspace)));
    sessions.push((up.unfenced = await unfencedSession(net)));
    const probe = ['rate', net.server, String(net.port), String(seconds)];
    const rates = await interleave(['unfenced', ...SIZE_KEYS] as const, reps, async (v) => rateOf(await up[v]!.probe(probe)));

    const stats = SIZE_KEYS.map((k) => {
      const ls = loads[k];
      const pick = (f: (r: Load) => number) => median(ls.map(f));
      return {
        k,
        n: Number(k),
        rate: median(rates[k]),
        vsOne: pairedRatio(rates[k], rates['1']),
        vsUnfenced: pairedRatio(rates[k], rates.unfenced),
        loadMs: pick((r) => r.loadMs),
        verifyMs: pick((r) => r.verifyMs),
        loadVerifyMs: pick((r) => r.loadMs + r.verifyMs),
        overheadMs: pick((r) => r.overheadMs),
        overheadDeltaMs: median(ls.map((r, i) => r.overheadMs - loads['1'][i].overheadMs)),
      };
    });
    const biggest = stats[stats.length - 1];
    for (const s of stats) {
      console.log(
        `scale ${s.n}: load ${fmtMs(s.loadMs)} + verify ${fmtMs(s.verifyMs)}, ${Math.round(s.rate)} conn/s (${fmtPct(s.vsOne)} of 1 entry)`,
      );
    }
    console.log(`scale unfenced: ${Math.round(median(rates.unfenced))} conn/s`);
    const range = (xs: number[]) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}`;
    return [
      `${reps} rounds of each measurement; each round runs every variant once, in an order that rotates. Values are ` +
        "medians; ratios and differences are medians of the per-round ones. Entries: the server's `IP:PORT` plus, in " +
        'thirds, /32 hosts, /24 networks and /32 hosts with `:443`, all in 10.0.0.0/8 (rules only).',
      '',
      'Load: release runs of `true` through the bundled CLI with `--network` set to an internal network, traced ' +
        "(bench/lib.ts `traced`): the holder's process restores the rules and prints them back between two marks on " +
        "its output, then node compares them up to the build's start.",
      '',
      `Rate: one fenced build per size and one unfenced container (the probe image on the same network) stay up ` +
        `together; in turn, \`probe rate\` runs in each with \`docker exec\` for ${seconds} s against one \`probe source\` ` +
        '(sequential connect, "ping", reply, close with a reset).',
      '',
      '| allowlist entries | load + read-back (in the holder) | read-back to build start (compare) | load and verify | CLI time less the build (vs 1 entry) | new TCP conn/s (range) | vs 1 entry | vs unfenced |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...stats.map(
        (s) =>
          `| ${s.n.toLocaleString('en')} | ${fmtMs(s.loadMs)} | ${fmtMs(s.verifyMs)} | ${fmtMs(s.loadVerifyMs)} | ${fmtMs(s.overheadMs)}${s.n === 1 ? '' : ` (${fmtDeltaMs(s.overheadDeltaMs)})`} | ` +
          `${Math.round(s.rate)} (${range(rates[s.k])}) | ${fmtPct(s.vsOne)} | ${fmtPct(s.vsUnfenced)} |`,
      ),
      `| unfenced | | | | | ${Math.round(median(rates.unfenced))} (${range(rates.unfenced)}) | | 100.0 % |`,
      '',
      `Goals: load under ${fmtMs(LOAD_GOAL_MS)}: ${biggest.loadVerifyMs < LOAD_GOAL_MS ? 'met' : 'missed'} ` +
        `(${fmtMs(biggest.loadVerifyMs)} for ${biggest.n.toLocaleString('en')} entries, load and verify). ` +
        `${biggest.n.toLocaleString('en')} entries at ${fmtPct(RATE_GOAL)} or more of the 1-entry rate: ` +
        `${biggest.vsOne >= RATE_GOAL ? 'met' : 'missed'} (${fmtPct(biggest.vsOne)}).`,
      '',
      'Where the CLI spends the time, by allowlist size (medians of the traced runs of `true`):',
      '',
      `| phase | ${SIZES.map((n) => n.toLocaleString('en')).join(' | ')} |`,
      `| --- | ${SIZES.map(() => '---:').join(' | ')} |`,
      ...[...loads['1'][0].phases.keys()].map(
        (label) => `| ${label} | ${SIZE_KEYS.map((k) => fmtMs(median(loads[k].map((r) => r.phases.get(label)?.ms ?? NaN)))).join(' | ')} |`,
      ),
    ];
  } finally {
    for (const s of sessions) await s.stop().catch(() => undefined);
    await net.remove();
  }
}

function load(t: Trace): Load {
  const api = (method: string, p: string) => t.docker.find((x) => x.argv[0] === 'api' && x.argv[1] === method && x.argv[2] === p);
  const buildStart = api('POST', '/containers/{build}/start');
  const build = api('POST', '/containers/{build}/attach');
  if (!buildStart || !build || t.loadingAt === undefined || t.loadedAt === undefined)
    throw new Error('the traced run has no rule load or no build');
  return {
    loadMs: t.loadedAt - t.loadingAt,
    verifyMs: buildStart.start - t.loadedAt,
    overheadMs: t.totalMs - (build.end - buildStart.start),
    phases: phases(t),
  };
}

function rateOf(stdout: string): number {
  const m = /^rate (\d+) conn\/s/m.exec(stdout);
  if (!m) throw new Error(`no "rate" line in the probe's output:\n${stdout.slice(-1000)}`);
  return Number(m[1]);
}
