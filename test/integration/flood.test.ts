// Issue 12, hole 4: a flood of denied datagrams hid other denials (54 % of them, two of twenty
// probed destinations among them) and nothing said the log was incomplete. Now the totals are
// the kernel's own count, the log is limited per destination, and lost entries are counted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { LOOPBACK_UPSTREAM, cli, fixture, probeRunArgs } from './harness.js';
import type { EvidenceRecord } from '../../src/report/record.js';

const fx = fixture({ servers: 2 });

describe('a flood of denied datagrams', () => {
  it('hides none of twenty other destinations, and deniedTotal is what the kernel counted', async () => {
    await fx.ready;
    const [s0, s1] = fx.net.servers;
    const ports = Array.from({ length: 20 }, (_, i) => 10_000 + i);
    const report = path.join(fx.ws, `report-flood-${Date.now()}.json`);
    const script = [
      // Eight processes flood one denied destination while twenty probes go to another server.
      ...Array.from({ length: 8 }, () => `./probe flood ${s0.ipv4} 7000 4 &`),
      'sleep 1',
      ...ports.map((p) => `./probe udp ${s1.ipv4} ${p} 200`),
      'wait',
    ].join('\n');
    const r = await cli(
      probeRunArgs(fx.net.name, '--grade', 'release', '--dns-upstream', LOOPBACK_UPSTREAM, '--report', report, '--', script),
      fx.ws,
    );
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord;

    const probed = record.denied.filter((d) => d.address === s1.ipv4).map((d) => d.port);
    assert.deepEqual(probed.sort(), ports, 'every probed destination is in the record');
    const flooded = [...r.stdout.matchAll(/^flood \S+ sent (\d+) refused (\d+) failed \d+$/gm)];
    assert.equal(flooded.length, 8, r.stdout);
    assert.ok(
      flooded.every((m) => m[1] === '0'),
      'the fence refused every datagram',
    );
    // Each refused send passed the rules once: the floods' and the probes' are every denied attempt.
    const attempts = flooded.reduce((n, m) => n + Number(m[2]), 0) + ports.length;
    assert.ok(attempts > 50_000, `a flood: ${attempts} datagrams`);
    assert.equal(record.counts.source, 'kernel');
    assert.equal(record.deniedTotal, attempts);
    assert.equal(record.counts.refused, attempts);
    // Nothing is lost silently: what the kernel logged was read, or the loss is counted and warned about.
    assert.equal(
      record.counts.read,
      record.denied.reduce((n, d) => n + d.count, 0),
    );
    assert.equal(record.counts.logged, record.counts.read + record.counts.lost);
    if (record.counts.lost > 0) assert.match(r.stderr, /log entr(y was|ies were) lost/);
    assert.match(r.stderr, new RegExp(`${attempts} denied attempt\\(s\\)`));
    assert.match(r.stderr, /past the log's limit per destination/);
  });
});
