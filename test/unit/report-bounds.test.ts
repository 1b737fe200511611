// The summary stays under GitHub's 1 MiB and the record under its documented bound, whatever the
// build does (issue 12, hole 6).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import { DECISION_LIMIT, FOLDED_LIMIT, type DnsDecision } from '../../src/dns/decision-log.js';
import { Resolver } from '../../src/dns/resolver.js';
import type { Forwarder } from '../../src/dns/upstream.js';
import { renderRuleset } from '../../src/firewall/ruleset.js';
import { parseAllowlist } from '../../src/policy/allowlist.js';
import { DESTINATION_LIMIT, DeniedLog, FOLDED_DESTINATION_LIMIT, NAMES_PER_ROW } from '../../src/report/evidence.js';
import type { LoggedPacket } from '../../src/report/nflog.js';
import { buildRecord, type RunFacts } from '../../src/report/record.js';
import { renderSummary } from '../../src/report/summary.js';
import type { RunSpec } from '../../src/run/spec.js';

/** GitHub drops a step summary over 1 MiB. */
const SUMMARY_LIMIT = 1024 * 1024;
/** The record's bound beyond its rules, as README (Evidence) states it. */
const RECORD_BOUND = 32 * 1024 * 1024;

const spec = (mode: 'block' | 'audit', allow: string) =>
  ({
    grade: 'release',
    mode,
    allow: parseAllowlist([allow], 'allowlist'),
    deny: [],
    failOnDenied: false,
    image: 'ubuntu:24.04',
    holderImage: 'buildfence/holder:0.1.0',
  }) as unknown as RunSpec;

function facts(s: RunSpec, over: Partial<RunFacts>): RunFacts {
  return {
    runId: '0123456789ab',
    started: '2026-11-27T10:00:00.000Z',
    ended: '2026-11-27T10:01:00.000Z',
    exitCode: 0,
    images: { holder: { name: 'buildfence/holder:0.1.0', id: 'sha256:aa' }, build: { name: 'ubuntu:24.04', id: 'sha256:bb' } },
    rules: renderRuleset({ mode: s.mode, allow: s.allow, deny: [], gateways: [], resolver: { address: '172.18.0.1', port: 1 } }),
    denied: [],
    dns: [],
    namesOf: new Map(),
    ...over,
  };
}

const bytes = (text: string) => Buffer.byteLength(text);
const recordSize = (r: unknown) => bytes(`${JSON.stringify(r, null, 2)}\n`);
const rulesSize = (f: RunFacts) =>
  Object.values(f.rules as unknown as Record<string, string>).reduce((n, t) => n + bytes(JSON.stringify(t)), 0);

describe('bounds', () => {
  it("the issue's case: a wildcard, 20,000 subdomains answered with one address, denied on 20 ports of it", async () => {
    const s = spec('block', '*.wild.test:443');
    const forwarder = {
      async forward(q: Buffer) {
        const question = dnsPacket.decode(q).questions!;
        return dnsPacket.encode({
          type: 'response',
          id: q.readUInt16BE(0),
          questions: question,
          answers: [{ type: 'A', name: question[0].name, ttl: 60, data: '192.0.2.50' }],
        });
      },
    } as unknown as Forwarder;
    const resolver = new Resolver({ mode: 'block', allow: s.allow, deny: [], ttlMin: 60, ttlMax: 3600, forwarder });
    resolver.serve([], { add: async () => undefined }, new Set());
    for (let i = 0; i < 20_000; i++) {
      const q = dnsPacket.encode({ type: 'query', id: i, questions: [{ type: 'A', name: `n${i}.wild.test` }] });
      await resolver.answer(q, 'udp');
    }
    const packets: LoggedPacket[] = Array.from({ length: 20 * 5 }, (_, i) => ({
      time: 1_800_000_000 + i,
      enforced: true,
      family: 4,
      protocol: 'tcp',
      address: '192.0.2.50',
      port: 8000 + (i % 20),
    }));
    const f = facts(s, { denied: DeniedLog.of(packets).tallies(), dns: resolver.decisionLog(), namesOf: resolver.namesOf });
    assert.equal(f.namesOf.get('192.0.2.50')?.total, 20_000);
    const record = buildRecord(s, f, { version: '0.1.0' });
    assert.equal(record.denied.length, 20);
    for (const d of record.denied) {
      assert.equal(d.names.length, NAMES_PER_ROW);
      assert.equal(d.moreNames, 20_000 - NAMES_PER_ROW);
    }
    const summary = renderSummary(record);
    // Was 21 MB: every row listed all the names.
    assert.ok(bytes(summary) < 64 * 1024, `${bytes(summary)} bytes of summary`);
    assert.match(summary, /and 19990 more/);
    // Was 24 MB; now the decision log (10,000 names, then folded) is most of it.
    assert.ok(recordSize(record) < 4 * 1024 * 1024, `${recordSize(record)} bytes of record`);
    assert.equal(record.dns.length, DECISION_LIMIT + 1);
  });

  it('the worst a build can do: every list full, every name as long and as escaped as a name can be', () => {
    const s = spec('audit', '*.wild.test:443');
    // A name of 253 characters that JSON and presented() both write at their longest.
    const name = (i: number) =>
      `${String(i).padStart(6, '0')}${'\u0001'.repeat(57)}.${'\u0001'.repeat(63)}.${'\u0001'.repeat(63)}.${'\u0001'.repeat(61)}`;
    const v6 = (i: number) =>
      `2001:db8:ffff:ffff:ffff:ffff:${(i >> 16).toString(16).padStart(4, 'f')}:${(i & 0xffff).toString(16).padStart(4, 'f')}`;
    const log = new DeniedLog();
    const total = DESTINATION_LIMIT + FOLDED_DESTINATION_LIMIT + 10;
    for (let i = 0; i < total; i++) {
      log.add({ time: 1_800_000_000, enforced: false, family: 6, protocol: 'udp', address: v6(i), port: 65535 });
      log.add({ time: 1_800_000_000, enforced: true, family: 6, protocol: 'tcp', address: v6(i), port: 65535 });
    }
    const names = new Map(Array.from({ length: 50 }, (_, i) => [name(i), 1_799_999_999_000]));
    const namesOf = new Map(log.tallies().map((t) => [t.address, { names, total: names.size }]));
    const addresses = Array.from({ length: 500 }, (_, i) => v6(i));
    const dns: DnsDecision[] = Array.from({ length: DECISION_LIMIT + FOLDED_LIMIT + 2 }, (_, i) => ({
      name: name(i),
      type: 'TYPE65535',
      verdict: i % 2 ? 'allowed' : 'refused',
      forwarded: true,
      addresses,
      count: 4_294_967_295,
      first: '2026-11-27T10:00:00.000Z',
      last: '2026-11-27T10:00:00.000Z',
      folded: true,
    }));
    const f = facts(s, { denied: log.tallies(), dns, namesOf });
    const record = buildRecord(s, f, { version: '0.1.0' });
    const size = recordSize(record) - rulesSize(f);
    assert.ok(size <= RECORD_BOUND, `${(size / 1024 / 1024).toFixed(1)} MiB beyond the rules`);
    const summary = renderSummary(record);
    assert.ok(bytes(summary) < SUMMARY_LIMIT, `${bytes(summary)} bytes of summary`);
  });
});
