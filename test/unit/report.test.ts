import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { renderRuleset } from '../../src/firewall/ruleset.js';
import { DeniedLog, deniedDestinations } from '../../src/report/evidence.js';
import { suggestEntries } from '../../src/report/suggest.js';
import { parseMarkLine, parseNflogLine, type LoggedPacket } from '../../src/report/nflog.js';
import { verdictOf } from '../../src/report/verdict.js';
import { presented } from '../../src/dns/presentation.js';
import { buildRecord, type RunFacts } from '../../src/report/record.js';
import { SUMMARY_CAP, TEXT_CAP, annotations, renderSummary, textSummary } from '../../src/report/summary.js';
import { parseAllowlist } from '../../src/policy/allowlist.js';
import type { RunSpec } from '../../src/run/spec.js';
import { listInput } from '../../src/inputs.js';
const CONTEXT = { version: '0.1.0' };

const allowItems = (value: string) => listInput(value, { commas: true, comments: true });

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('NFLOG lines', () => {
  const cases: Array<[string, Partial<LoggedPacket> | undefined]> = [
    [
      '1795785199.272203 version 0, resource ID 5, IPv4, length 112: 172.30.0.2.58670 > 172.30.0.3.9090: tcp 0',
      { enforced: true, family: 4, protocol: 'tcp', address: '172.30.0.3', port: 9090 },
    ],
    [
      '1795785199.272680 version 0, resource ID 5, IPv4, length 88: 172.30.0.2.52891 > 172.30.0.3.8080: UDP, length 5',
      { protocol: 'udp', address: '172.30.0.3', port: 8080 },
    ],
    [
      '1795785199.272710 version 0, resource ID 5, IPv4, length 136: 172.30.0.2 > 172.30.0.3: ICMP echo request, id 11, seq 0, length 64',
      { protocol: 'icmp', address: '172.30.0.3', port: undefined },
    ],
    [
      '1795785199.306341 version 0, resource ID 6, IPv6, length 136: fd00:bf77::2.53850 > fd00:bf77::3.9090: tcp 0',
      { enforced: false, family: 6, protocol: 'tcp', address: 'fd00:bf77::3', port: 9090 },
    ],
    [
      '1795785199.306499 version 0, resource ID 6, IPv6, length 160: fd00:bf77::2 > fd00:bf77::3: ICMP6, echo request, id 1, seq 0, length 64',
      { family: 6, protocol: 'icmp', address: 'fd00:bf77::3' },
    ],
    // Inbound attempts (groups 8 and 9): where they came from, and the build's port they tried.
    [
      '1795785199.4 version 0, resource ID 8, IPv4, length 60: 172.30.0.9.41000 > 172.30.0.2.8080: tcp 0',
      { enforced: true, inbound: true, family: 4, protocol: 'tcp', address: '172.30.0.9', port: 8080 },
    ],
    [
      '1795785199.4 version 0, resource ID 8, IPv6, length 88: fd00:bf77::9.41000 > fd00:bf77::2.9090: UDP, length 5',
      { enforced: true, inbound: true, family: 6, protocol: 'udp', address: 'fd00:bf77::9', port: 9090 },
    ],
    [
      '1795785199.4 version 0, resource ID 9, IPv4, length 84: 172.30.0.9 > 172.30.0.2: ICMP echo request, id 1, seq 0, length 64',
      { enforced: false, inbound: true, protocol: 'icmp', address: '172.30.0.9', port: undefined },
    ],
    ['1795785199.272203 version 0, resource ID 5, IPv4, length 112: 172.30.0.2.58670 > 172.30.0.3.9090: tcp 0', { inbound: undefined }],
    ['listening on nflog:5,6, link-type NFLOG (Linux netfilter log messages), snapshot length 262144 bytes', undefined],
    ['1795785199.3 version 0, resource ID 7, IPv4, length 88: 1.2.3.4.5 > 5.6.7.8.9: tcp 0', undefined],
    // The end-of-run mark (group 7) is never a packet of the build.
    ['1795785199.4 version 0, resource ID 7, IPv4, length 49: 172.30.0.1.41000 > 172.30.0.2.41234: UDP, length 21', undefined],
  ];
  for (const [line, expected] of cases) {
    it(line.slice(0, 70), () => {
      const p = parseNflogLine(line);
      if (expected === undefined) return assert.equal(p, undefined);
      assert.ok(p);
      for (const [k, v] of Object.entries(expected)) assert.equal(p[k as keyof LoggedPacket], v, k);
    });
  }
});

describe('parseMarkLine', () => {
  it("reads the mark's port from its group only, and only for UDP", () => {
    assert.equal(
      parseMarkLine('1795785199.4 version 0, resource ID 7, IPv4, length 49: 172.30.0.1.41000 > 172.30.0.2.41234: UDP, length 21'),
      41234,
    );
    assert.equal(
      parseMarkLine('1795785199.4 version 0, resource ID 5, IPv4, length 49: 172.30.0.1.41000 > 172.30.0.2.41234: UDP, length 21'),
      undefined,
    );
    assert.equal(
      parseMarkLine('1795785199.4 version 0, resource ID 7, IPv4, length 60: 172.30.0.1.41000 > 172.30.0.2.41234: tcp 0'),
      undefined,
    );
    assert.equal(parseMarkLine('listening on nflog:5,6,7'), undefined);
  });
});

/** The names answered with an address, each with the time (seconds) it was last answered. */
const answered = (address: string, ...names: Array<[string, number]>) =>
  new Map([[address, { names: new Map(names.map(([n, t]) => [n, t * 1000])), total: names.length }]]);

const packet = (
  address: string,
  port: number | undefined,
  enforced = true,
  protocol: LoggedPacket['protocol'] = 'tcp',
  time = 1795785199,
): LoggedPacket => ({
  time,
  enforced,
  family: address.includes(':') ? 6 : 4,
  protocol,
  address,
  ...(port === undefined ? {} : { port }),
});

describe('evidence', () => {
  it('counts attempts per destination, with the names they came from', () => {
    const denied = deniedDestinations(
      DeniedLog.of([
        packet('192.0.2.1', 443),
        packet('192.0.2.1', 443, true, 'tcp', 1795785200),
        packet('192.0.2.1', 80),
        packet('192.0.2.1', 443, true, 'udp'),
      ]).tallies(),
      answered('192.0.2.1', ['b.test', 1795785190], ['a.test', 1795785198], ['c.test', 1795785300]),
    );
    assert.deepEqual(
      denied.map((d) => [d.protocol, d.port, d.count, d.names, d.name]),
      [
        ['tcp', 443, 2, ['a.test', 'b.test', 'c.test'], 'a.test'],
        ['tcp', 80, 1, ['a.test', 'b.test', 'c.test'], 'a.test'],
        ['udp', 443, 1, ['a.test', 'b.test', 'c.test'], 'a.test'],
      ],
      'the name answered last before the first attempt (c.test came after it)',
    );
    assert.equal(denied[0].first, '2026-11-27T13:13:19.000Z');
    assert.equal(denied[0].last, '2026-11-27T13:13:20.000Z');
  });

  it('suggests names where a name was used, addresses where none was, only for what audit let through', () => {
    const denied = deniedDestinations(
      DeniedLog.of([
        packet('192.0.2.1', 443, false),
        packet('192.0.2.2', 8080, false),
        packet('2001:db8::1', 53, false, 'udp'),
        packet('192.0.2.3', 22, true),
        packet('192.0.2.4', undefined, false, 'icmp'),
      ]).tallies(),
      answered('192.0.2.1', ['api.test', 1795785000]),
    );
    const entries = suggestEntries([{ allowlist: [], denied, dns: [] }]).map((s) => s.entry);
    assert.deepEqual(entries, ['api.test:443', '192.0.2.2:8080', 'udp://[2001:db8::1]:53']);
    for (const entry of entries) assert.doesNotThrow(() => parseAllowlist(allowItems(entry), 'suggestion'));
  });
});

const spec = {
  grade: 'release',
  mode: 'block',
  allow: parseAllowlist(allowItems('api.test:443, 10.0.0.0/8'), 'x'),
  deny: [],
  failOnDenied: false,
  image: 'ubuntu:24.04',
  holderImage: 'buildfence/holder:0.1.0',
} as unknown as RunSpec;
const facts = (packets: LoggedPacket[], names: Array<[string, string]> = []): RunFacts => ({
  runId: '0123456789ab',
  started: '2026-11-27T10:00:00.000Z',
  ended: '2026-11-27T10:01:00.000Z',
  exitCode: 0,
  images: { holder: { name: 'buildfence/holder:0.1.0', id: 'sha256:aa' }, build: { name: 'ubuntu:24.04', id: 'sha256:bb' } },
  rules: renderRuleset({ mode: 'block', allow: [], deny: [], gateways: ['172.18.0.1'], resolver: { address: '172.18.0.1', port: 40000 } }),
  denied: DeniedLog.of(packets).tallies(),
  dns: names.map(([name, verdict]) => ({
    name,
    type: 'A',
    verdict: verdict as 'allowed' | 'refused',
    forwarded: verdict === 'allowed',
    addresses: [],
    count: 1,
    first: '2026-11-27T10:00:01.000Z',
    last: '2026-11-27T10:00:01.000Z',
  })),
  namesOf: new Map(),
  wire: [],
});

describe('the evidence record', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'schema/buildfence-report.schema.json'), 'utf8')));

  it('validates against its schema', () => {
    const record = buildRecord(
      spec,
      facts(
        [packet('192.0.2.9', 22), packet('192.0.2.9', undefined, true, 'icmp')],
        [
          ['a.test', 'allowed'],
          ['x.test', 'refused'],
        ],
      ),
      CONTEXT,
    );
    assert.ok(validate(JSON.parse(JSON.stringify(record))), JSON.stringify(validate.errors));
    assert.equal(record.deniedTotal, 2);
    assert.match(record.rules.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(record.allowlist, ['tcp://api.test:443', '10.0.0.0/8']);
  });

  it("records the name check's refusals beside the packets: asked name, address, port, the name it was learned for, reason", () => {
    const wire = (name: string | undefined, reason: 'sni' | 'no-sni' | 'host' | 'opaque', enforced = true) => ({
      ...(name !== undefined ? { name } : {}),
      address: '192.0.2.20',
      port: 443,
      learnedFor: ['npm.registry.test'],
      reason,
      detail: `no entry allows ${name} on TCP port 443`,
      enforced,
      count: 2,
      first: '2026-11-27T10:00:02.000Z',
      last: '2026-11-27T10:00:03.000Z',
    });
    const record = buildRecord(
      spec,
      { ...facts([packet('192.0.2.9', 22)]), wire: [wire('evil.test', 'sni'), wire(undefined, 'no-sni')] },
      CONTEXT,
    );
    assert.ok(validate(JSON.parse(JSON.stringify(record))), JSON.stringify(validate.errors));
    assert.equal(record.format, 'buildfence-report/2');
    assert.equal(record.deniedTotal, 5);
    assert.deepEqual(
      record.denied.map((d) => [d.address, d.port, d.names, d.reason, d.asked]),
      [
        ['192.0.2.20', 443, ['npm.registry.test'], 'sni', 'evil.test'],
        ['192.0.2.20', 443, ['npm.registry.test'], 'no-sni', undefined],
        ['192.0.2.9', 22, [], undefined, undefined],
      ],
    );
    assert.match(renderSummary(record), /sni: asked for <code>evil\.test<\/code>/);
    assert.match(
      annotations(record)[0],
      /denied tcp 192\.0\.2\.20:443 \(npm\.registry\.test\) by the name check \(sni: asked for evil\.test\), 2 time/,
    );
    assert.match(textSummary(record), /denied tcp 192\.0\.2\.20:443 \(npm\.registry\.test\) \[no-sni\] x2/);
    // Audit: what the name check would refuse is suggested by the name the build asked for.
    const audit = buildRecord(
      { ...spec, mode: 'audit' },
      { ...facts([]), wire: [wire('evil.test', 'sni', false), wire(undefined, 'opaque', false)] },
      CONTEXT,
    );
    assert.deepEqual(audit.suggestedAllowlist, ['evil.test:443', 'opaque://npm.registry.test:443']);
  });

  it('fails a passing build under fail-on-denied, naming what was denied', () => {
    const record = buildRecord(spec, facts([packet('192.0.2.9', 22)]), CONTEXT);
    assert.equal(verdictOf(record, false), undefined);
    assert.match(verdictOf(record, true) ?? '', /fail-on-denied is set and 1 attempt\(s\) were denied: tcp 192\.0\.2\.9:22/);
    assert.equal(verdictOf(buildRecord(spec, facts([]), CONTEXT), true), undefined);
  });

  it('cannot be forged through names the build queried', () => {
    const evil = 'x</code></td></tr></table>\n## Approved|`[ok](https://evil)`<img src=x>';
    const record = buildRecord(
      spec,
      {
        ...facts([packet('192.0.2.9', 22)], [[evil, 'refused']]),
        namesOf: answered('192.0.2.9', [evil, 1795785000]),
      },
      CONTEXT,
    );
    const html = renderSummary(record);
    assert.ok(!html.includes('<img'), html);
    assert.ok(!html.includes('</table>\n## Approved'));
    assert.ok(!html.includes('[ok](https'));
    assert.equal(html.split('<table>').length, html.split('</table>').length);
    for (const a of annotations(record)) assert.ok(a.includes(presented(evil)) && !a.includes('\n'), a);
    assert.doesNotMatch(
      textSummary({ ...record, dns: [{ ...record.dns[0], name: 'a\u001b[2Jb' }] }),
      new RegExp(String.fromCharCode(0x1b)),
    );
  });

  it('a build that scans ports and tunnels through names cannot flood the summary: tables and lists are capped, the record keeps all', () => {
    // 5,000 denied destinations and 5,000 refused names: the kind of run DNS tunnelling makes.
    const scan = Array.from({ length: 5000 }, (_, i) => packet('192.0.2.9', 1 + i));
    const names: Array<[string, string]> = Array.from({ length: 5000 }, (_, i) => [`c${i}.x.evil.test`, 'refused']);
    const base = facts([...scan, packet('192.0.2.9', 9999), packet('192.0.2.9', 9999)], names);
    const record = buildRecord(spec, { ...base, dns: base.dns.map((d, i) => (i === 4321 ? { ...d, count: 7 } : d)) }, CONTEXT);
    assert.equal(record.denied.length, 5001);
    assert.equal(record.dns.length, 5000);
    const html = renderSummary(record);
    assert.ok(html.length < 100_000, `${html.length} characters`);
    // The run's own table (a header and 7 rows), then each capped table with its header.
    assert.equal((html.match(/<tr>/g) ?? []).length, 8 + 2 * (1 + SUMMARY_CAP));
    assert.match(
      html,
      /<p>4901 more denied destination\(s\), the least frequent, are in the JSON report \(output <code>report<\/code>\)\.<\/p>/,
    );
    assert.match(html, /4900 more refused name\(s\)/);
    // The most frequent come first: the port tried twice, the name asked seven times.
    assert.ok(html.indexOf('9999') < html.indexOf('<code>192.0.2.9</code></td><td>1</td>'));
    assert.ok(html.indexOf('c4321.x.evil.test') < html.indexOf('c0.x.evil.test'));
    const text = textSummary(record).split('\n');
    assert.ok(text.length < 2 * TEXT_CAP + 10, `${text.length} lines`);
    assert.ok(text.includes(`  ... and ${5001 - TEXT_CAP} more denied destination(s) (all in the JSON report: --report FILE)`));
    assert.ok(text.includes(`  ... and ${5000 - TEXT_CAP} more refused name(s) (all in the JSON report: --report FILE)`));
  });

  it('shows a folded row of names as one, and the record with it still validates', () => {
    const base = facts([], [['x.test', 'refused']]);
    const record = buildRecord(spec, { ...base, dns: [{ ...base.dns[0], name: '*.evil.test', count: 90000, folded: true }] }, CONTEXT);
    assert.ok(validate(JSON.parse(JSON.stringify(record))), JSON.stringify(validate.errors));
    assert.match(
      renderSummary(record),
      /<code>\*\.evil\.test<\/code> \(many names, folded: the log was full\)<\/td><td>A<\/td><td>90000<\/td>/,
    );
    assert.match(textSummary(record), /name refused: \*\.evil\.test A x90000 \(many names, folded\)/);
  });

  it("records inbound attempts apart from the build's own, and never suggests them", () => {
    const inbound = (address: string, port: number, enforced = true): LoggedPacket => ({
      ...packet(address, port, enforced),
      inbound: true,
    });
    const record = buildRecord(
      spec,
      facts([inbound('172.30.0.9', 8080), inbound('172.30.0.9', 8080), packet('172.30.0.9', 8080), inbound('fd00:bf77::9', 9090)]),
      CONTEXT,
    );
    assert.ok(validate(JSON.parse(JSON.stringify(record))), JSON.stringify(validate.errors));
    assert.deepEqual(
      record.denied.map((d) => [d.inbound ?? false, d.address, d.port, d.count]),
      [
        [true, '172.30.0.9', 8080, 2],
        [false, '172.30.0.9', 8080, 1],
        [true, 'fd00:bf77::9', 9090, 1],
      ],
    );
    assert.equal(record.deniedTotal, 4);
    assert.match(
      renderSummary(record),
      /<td><code>172\.30\.0\.9<\/code><\/td><td>8080<\/td><td>tcp<\/td><td>2<\/td><td>inbound from this address to the build's port: refused<\/td>/,
    );
    assert.match(textSummary(record), /^ {2}denied inbound tcp from 172\.30\.0\.9 to port 8080 x2$/m);
    assert.match(textSummary(record), /^ {2}denied tcp 172\.30\.0\.9:8080 x1$/m);
    assert.match(annotations(record)[0], /^buildfence denied inbound tcp from 172\.30\.0\.9 to port 8080, 2 time\(s\)\.$/);
    assert.match(
      verdictOf(record, true) ?? '',
      /were denied: inbound tcp from 172\.30\.0\.9 to port 8080; tcp 172\.30\.0\.9:8080; inbound tcp from fd00:bf77::9 to port 9090\./,
    );
    const audit = deniedDestinations(
      DeniedLog.of([inbound('172.30.0.9', 8080, false), packet('192.0.2.1', 443, false)]).tallies(),
      new Map(),
    );
    assert.deepEqual(
      suggestEntries([{ allowlist: [], denied: audit, dns: [] }]).map((x) => x.entry),
      suggestEntries([{ allowlist: [], denied: audit.filter((d) => !d.inbound), dns: [] }]).map((x) => x.entry),
    );
    assert.equal(suggestEntries([{ allowlist: [], denied: audit, dns: [] }]).length, 1);
  });

  it('caps annotations, the most frequent first', () => {
    const many = Array.from({ length: 15 }, (_, i) => Array.from({ length: i + 1 }, () => packet(`192.0.2.${i}`, 80))).flat();
    const notes = annotations(buildRecord(spec, facts(many), CONTEXT));
    assert.equal(notes.length, 11);
    assert.match(notes[0], /192\.0\.2\.14:80.*15 time/);
    assert.match(notes[10], /5 more denied destination/);
  });
});
