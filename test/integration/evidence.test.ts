// What was denied and what was asked, as the record and the CLI's summary tell it.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ROOT, cli, fixture, probeRunArgs } from './harness.js';
import type { EvidenceRecord } from '../../src/report/record.js';

// The probe speaks neither TLS nor HTTP, so the names it connects to are opaque:// entries, which
// open their addresses as before; wire.test.ts tests the name check with real clients.
const fx = fixture({ servers: 2, upstream: true });

before(async () => {
  await fx.ready;
  fx.upstream.zone.set('api.test', { A: [fx.net.servers[0].ipv4] });
});

/** The same build in every test: allowed and denied destinations, by address and by name. */
function script(): string {
  const [s0, s1] = fx.net.servers;
  return [
    // The very first thing the build does is denied: the reader is already running.
    `probe tcp ${s1.ipv4} 8080`,
    `probe tcp ${s1.ipv4} 8080`,
    "ns=$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)",
    'a=$(probe dns "$ns" api.test | sed -n \'s/^rcode=0 answers=\\([^,]*\\).*/\\1/p\')',
    'probe tcp "$a" 8080',
    'probe tcp "$a" 8080',
    'probe tcp "$a" 9090',
    `probe udp ${s0.ipv4} 8080`,
    'probe dns "$ns" refused.test',
    'true',
  ].join('\n');
}

async function run(grade: string, extra: string[] = []): Promise<{ code: number | null; stderr: string; record: EvidenceRecord }> {
  const report = path.join(fx.ws, `report-${grade}-${Date.now()}.json`);
  const r = await cli(
    probeRunArgs(
      fx.net.name,
      '--grade',
      grade,
      '--dns-upstream',
      fx.upstream.address,
      '--allow',
      'opaque://api.test:8080',
      '--report',
      report,
      ...extra,
      '--',
      script(),
    ),
    fx.ws,
  );
  return { code: r.code, stderr: r.stderr, record: JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord };
}

const rows = (r: EvidenceRecord) =>
  r.denied.map((d) => `${d.enforced ? 'denied' : 'audit'} ${d.protocol} ${d.address}:${d.port} x${d.count} ${d.names.join(',')}`).sort();

describe('evidence', () => {
  it('release: records exactly the denied attempts with their counts and names, and the refused name', async () => {
    const [s0, s1] = fx.net.servers;
    const { code, stderr, record } = await run('release');
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      rows(record),
      [`denied tcp ${s0.ipv4}:9090 x1 api.test`, `denied tcp ${s1.ipv4}:8080 x2 `, `denied udp ${s0.ipv4}:8080 x1 api.test`].sort(),
    );
    assert.equal(record.deniedTotal, 4);
    assert.deepEqual(record.dns.map((d) => [d.name, d.verdict, d.forwarded]).sort(), [
      ['api.test', 'allowed', true],
      ['refused.test', 'refused', false],
    ]);
    assert.deepEqual(record.suggestedAllowlist, []);
    assert.match(stderr, /4 denied attempt\(s\)/);
    assert.match(stderr, new RegExp(`denied +tcp ${s1.ipv4.replaceAll('.', '\\.')}:8080 x2`));
    assert.match(stderr, /name refused: refused\.test A x1/);

    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const schema = JSON.parse(await fs.readFile(path.join(ROOT, 'schema/buildfence-report.schema.json'), 'utf8')) as object;
    assert.ok(ajv.validate(schema, record), JSON.stringify(ajv.errors));
    assert.match(record.images.build.id, /^sha256:[0-9a-f]{64}$/);
    assert.match(record.images.holder.id, /^sha256:[0-9a-f]{64}$/);
  });

  it('audit: lets everything through, records what block mode would deny, and suggests the allowlist', async () => {
    const [s0, s1] = fx.net.servers;
    const { code, stderr, record } = await run('dev');
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      rows(record),
      [`audit tcp ${s0.ipv4}:9090 x1 api.test`, `audit tcp ${s1.ipv4}:8080 x2 `, `audit udp ${s0.ipv4}:8080 x1 api.test`].sort(),
    );
    // The audited grade's own entry the build used first, then names, then the address no name led to.
    assert.deepEqual(record.suggestedAllowlist, ['opaque://api.test:8080', 'api.test:9090', 'udp://api.test:8080', `${s1.ipv4}:8080`]);
    assert.deepEqual(record.dns.find((d) => d.name === 'refused.test')?.forwarded, true);
  });

  it('fail-on-denied fails a build that passed, and says what was denied', async () => {
    const { code, stderr } = await run('release', ['--fail-on-denied']);
    assert.equal(code, 1);
    assert.match(stderr, /fail-on-denied is set and 4 attempt\(s\) were denied: tcp /);
  });

  it("records every attempt up to the build's very last", async () => {
    // The build's last act: 30 denied datagrams (to 30 ports, each within the log's limit per
    // destination), then it exits. The reader must see each one: the holder logs the end-of-run
    // mark after them, and the reader stops on its line.
    const s1 = fx.net.servers[1];
    const report = path.join(fx.ws, `report-last-${Date.now()}.json`);
    const r = await cli(
      probeRunArgs(
        fx.net.name,
        '--grade',
        'release',
        '--dns-upstream',
        fx.upstream.address,
        '--allow',
        'opaque://api.test:8080',
        '--report',
        report,
        '--',
        `i=0; while [ $i -lt 30 ]; do probe udp ${s1.ipv4} $((9000+i)) 100 >/dev/null; i=$((i+1)); done`,
      ),
      fx.ws,
    );
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord;
    assert.deepEqual(rows(record), Array.from({ length: 30 }, (_, i) => `denied udp ${s1.ipv4}:${9000 + i} x1 `).sort());
    assert.deepEqual(record.counts, {
      source: 'kernel',
      refused: 30,
      audited: 0,
      logged: 30,
      read: 30,
      lost: 0,
      nameCheck: { refused: 0, audited: 0 },
    });
    // The reader stopped on the mark, not on its fixed wait.
    assert.doesNotMatch(r.stderr + r.stdout, /end-of-run mark did not reach the holder/);
  });
});
