// Ten sandboxes at once on one engine (issue 6): release builds that may reach server A only,
// release builds that may reach server B only, and dev builds, all on the same Docker network.
// Each must see only its own rules and its own resolver: its probes get its own policy's
// verdicts, its names reach its own upstream and no other, and everything is removed after.
// The builds wait for one another (files in the shared workspace), so all ten are up together
// when they probe.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { cli, dockerText, fixture, probeRunArgs, resourcesOf, truthTable, type CliResult, type TruthRow } from './harness.js';
import { TestUpstream } from './upstream.js';
import type { EvidenceRecord } from '../../src/report/record.js';

const fx = fixture({ servers: 2 });
const KINDS = ['release-A', 'release-A', 'release-A', 'release-A', 'release-B', 'release-B', 'release-B', 'dev', 'dev', 'dev'] as const;
type Kind = (typeof KINDS)[number];
const tag = randomBytes(3).toString('hex');
const barrier = `conc-${tag}`;

let upstreams: TestUpstream[] = [];

before(async () => {
  await fx.ready;
  await fs.mkdir(path.join(fx.ws, barrier));
  upstreams = await Promise.all(KINDS.map(() => new TestUpstream().start()));
});

after(async () => {
  await Promise.all(upstreams.map((u) => u.stop().catch(() => undefined)));
});

/** Run i's own name, and a name no entry allows. Only run i's upstream may ever see either. */
const own = (i: number) => `own-${i}-${tag}.test`;
const stray = (i: number) => `stray-${i}-${tag}.test`;

function policy(i: number): { args: string[]; reach: (server: 'A' | 'B', port: number) => boolean } {
  const [a, b] = fx.net.servers;
  const kind: Kind = KINDS[i];
  if (kind === 'dev') return { args: ['--grade', 'dev'], reach: () => true };
  const mine = kind === 'release-A' ? a : b;
  // Its server on 8080 by address, on 9090 through its own name.
  return {
    args: ['--grade', 'release', '--allow', `${mine.ipv4}:8080`, '--allow', `opaque://${own(i)}:9090`],
    reach: (server) => server === kind.slice(-1),
  };
}

interface Outcome {
  kind: Kind;
  result: CliResult;
  record?: EvidenceRecord;
}

async function runOne(i: number): Promise<Outcome> {
  const [a, b] = fx.net.servers;
  const mine = KINDS[i] === 'release-B' ? b : a;
  upstreams[i].zone.set(own(i), { A: [mine.ipv4] });
  const report = path.join(fx.ws, `${barrier}-report-${i}.json`);
  const script = [
    "ns=$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)",
    `touch ${barrier}/ready-${i}`,
    // Up to 90 s for the other nine (a loaded engine starts ten sandboxes slowly).
    `n=0; while [ $(ls ${barrier} | wc -l) -lt ${KINDS.length} ] && [ $n -lt 900 ]; do sleep 0.1; n=$((n+1)); done`,
    `echo "barrier $(ls ${barrier} | wc -l)"`,
    `probe tcp ${a.ipv4} 8080`,
    `probe tcp ${b.ipv4} 8080`,
    `echo "own $(probe dns "$ns" ${own(i)})"`,
    `echo "stray $(probe dns "$ns" ${stray(i)})"`,
    `probe tcp ${mine.ipv4} 9090`,
    'true',
  ].join('\n');
  const result = await cli(
    probeRunArgs(fx.net.name, '--dns-upstream', upstreams[i].address, '--report', report, ...policy(i).args, '--', script),
    fx.ws,
  );
  const record = await fs.readFile(report, 'utf8').then(
    (t) => JSON.parse(t) as EvidenceRecord,
    () => undefined,
  );
  return { kind: KINDS[i], result, record };
}

describe('ten sandboxes at once', () => {
  // On the test itself: a suite's timeout did not end it when it hung once.
  it('each sees only its own rules and its own resolver, and all are removed afterwards', { timeout: 180_000 }, async (t) => {
    const t0 = Date.now();
    let allUp = NaN;
    const watch = setInterval(() => {
      void fs.readdir(path.join(fx.ws, barrier)).then((f) => {
        if (f.length >= KINDS.length && Number.isNaN(allUp)) allUp = (Date.now() - t0) / 1000;
      });
    }, 200);
    const outcomes = await Promise.all(KINDS.map((_, i) => runOne(i))).finally(() => clearInterval(watch));
    const seconds = (Date.now() - t0) / 1000;
    const [a, b] = fx.net.servers;
    const rows: TruthRow[] = [];
    const row = (i: number, probe: string, expect: string, observed: string) =>
      rows.push({ case: `#${i} ${KINDS[i]}`, probe, expect, observed });
    const natPorts = new Set<string>();
    for (const [i, o] of outcomes.entries()) {
      const out = o.result.stdout;
      const p = policy(i);
      const mine = KINDS[i] === 'release-B' ? b : a;
      const verdict = (host: string, port: number) =>
        new RegExp(`^tcp ${host.replaceAll('.', '\\.')}:${port} (\\w+)`, 'm').exec(out)?.[1] ?? 'missing';
      const word = (w: string) => (['refused', 'reset', 'unreachable', 'denied'].includes(w) ? 'refused' : w);
      row(i, 'exit code', '0', String(o.result.code));
      row(i, 'all ten up together', `barrier ${KINDS.length}`, /^barrier \d+$/m.exec(out)?.[0] ?? 'missing');
      row(i, 'tcp A:8080', p.reach('A', 8080) ? 'ok' : 'refused', word(verdict(a.ipv4, 8080)));
      row(i, 'tcp B:8080', p.reach('B', 8080) ? 'ok' : 'refused', word(verdict(b.ipv4, 8080)));
      row(i, 'own name', `rcode=0 answers=${mine.ipv4}`, /^own (.*)$/m.exec(out)?.[1] ?? 'missing');
      row(i, 'unlisted name', 'rcode=3 answers=', /^stray (.*)$/m.exec(out)?.[1] ?? 'missing');
      row(i, 'own server :9090 after its name', 'ok', word(verdict(mine.ipv4, 9090)));
      // Its resolver: its own upstream got exactly what it should have, and only from it.
      const expected = KINDS[i] === 'dev' ? [own(i), stray(i)] : [own(i)];
      const got = [...new Set(upstreams[i].log.map((q) => q.name))].sort();
      row(i, 'names its upstream received', expected.sort().join(' '), got.join(' ') || 'none');
      const elsewhere = upstreams.filter((_, k) => k !== i && upstreams[k].log.some((q) => q.name.includes(`-${i}-${tag}`))).length;
      row(i, 'its names at other upstreams', '0', String(elsewhere));
      const decided = [...new Set(o.record?.dns.map((d) => d.name) ?? [])].sort().join(' ');
      row(i, 'names in its record', [own(i), stray(i)].sort().join(' '), decided || 'none');
      // Its rules: the allow sets hold its own server only, and DNS goes to its own resolver port.
      const sets = o.record?.rules.ipset ?? '';
      const has = (s: { ipv4: string }) => new RegExp(`^add bf4-port ${s.ipv4.replaceAll('.', '\\.')}(/32)?,tcp:8080 `, 'm').test(sets);
      row(
        i,
        'allow sets',
        KINDS[i] === 'dev' ? 'none' : `${KINDS[i].slice(-1)} only`,
        has(a) && !has(b) ? 'A only' : has(b) && !has(a) ? 'B only' : has(a) ? 'both' : 'none',
      );
      const port = / --to-destination (\S+)/.exec(o.record?.rules.iptablesNat ?? '')?.[1] ?? 'missing';
      natPorts.add(port);
      const left = [
        ...(await resourcesOf(o.result.pid)),
        ...(o.record
          ? (await dockerText(['ps', '--all', '--filter', `label=buildfence.run=${o.record.runId}`, '--format', '{{.Names}}']))
              .split('\n')
              .filter(Boolean)
          : []),
      ];
      row(i, 'containers and networks left', 'none', left.join(' ') || 'none');
    }
    rows.push({
      case: 'all',
      probe: 'distinct resolver addresses in the nat rules',
      expect: String(KINDS.length),
      observed: String(natPorts.size),
    });
    const text = `${KINDS.length} runs at once: all ten building after ${allUp.toFixed(1)} s, all done after ${seconds.toFixed(1)} s\n${truthTable(rows)}`;
    const wrong = rows.filter((r) => r.expect !== r.observed);
    if (wrong.length === 0) t.diagnostic(text);
    else {
      const stderr = outcomes.map((o, i) => `#${i}: ${o.result.stderr.trim().split('\n').slice(-3).join(' | ')}`).join('\n');
      assert.fail(`${wrong.length} of ${rows.length} rows differ (✗):\n${text}\n\nCLI stderr (last lines):\n${stderr}`);
    }
  });
});
