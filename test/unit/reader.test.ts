import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { DRAIN_MS, DeniedReader } from '../../src/report/reader.js';

function output() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  return { stdout, stderr, close: () => stdout.end() };
}

const LINE = '1700000000.5 version 0, resource ID 5, IPv4, length 60: 10.0.0.9.40000 > 192.0.2.7.80: tcp 0\n';

describe('DeniedReader', () => {
  it('sees "listening on" printed before anyone waits for it, and counts packets split across chunks', async () => {
    const out = output();
    const reader = DeniedReader.watch(out);
    out.stderr.write('tcpdump: verbose output suppressed\nlistening on nflog:5,6, link-type NFLOG\n');
    await new Promise((r) => setImmediate(r));
    await reader.listening();
    out.stdout.write(LINE.slice(0, 20));
    out.stdout.write(LINE.slice(20) + LINE);
    const denied = await reader.stop();
    assert.deepEqual(
      denied.map((d) => [d.address, d.port, d.enforced, d.count]),
      [['192.0.2.7', 80, true, 2]],
    );
  });

  it('waits for "listening on" that comes later', async () => {
    const out = output();
    const reader = DeniedReader.watch(out);
    const ready = reader.listening();
    setTimeout(() => out.stderr.write('listening on nflog:5,6\n'), 20);
    await ready;
  });

  it('a reader that ends before listening fails with what it said last', async () => {
    const out = output();
    const reader = DeniedReader.watch(out);
    out.stderr.end('sh: tcpdump: not found\n');
    await assert.rejects(
      reader.listening(),
      /Cannot start the denied-attempt reader in the holder: sh: tcpdump: not found\. The build was not started\./,
    );
  });

  it('output that ends before stop() means the holder is gone', async () => {
    const out = output();
    const reader = DeniedReader.watch(out);
    let lost = false;
    void reader.lost.then(() => (lost = true));
    out.stdout.end();
    await new Promise((r) => setImmediate(r));
    assert.ok(lost);
  });

  const markLine = (port: number) =>
    `1700000001.5 version 0, resource ID 7, IPv4, length 49: 172.30.0.1.41000 > 172.30.0.2.${port}: UDP, length 21\n`;

  it("stops as soon as its mark's line is through, with every packet logged before it", async () => {
    const out = output();
    const reader = DeniedReader.watch(out);
    // A mark seen before stop() (or with another port) does not end the drain.
    out.stdout.write(markLine(41234));
    const begun = Date.now();
    const denied = await reader.stop({
      port: 41234,
      send: async () => {
        setTimeout(() => out.stdout.write(LINE + markLine(40000) + LINE), 5);
        setTimeout(() => out.stdout.write(markLine(41234)), 30);
      },
    });
    const took = Date.now() - begun;
    assert.ok(took >= 25 && took < DRAIN_MS - 50, `took ${took} ms`);
    assert.equal(denied[0].count, 2);
    assert.equal(reader.markSeen, true);
  });

  it('waits the fixed drain when the mark cannot be sent or never comes back', async () => {
    for (const send of [async () => Promise.reject(new Error('EHOSTUNREACH')), async () => undefined]) {
      const out = output();
      const reader = DeniedReader.watch(out);
      const begun = Date.now();
      setTimeout(() => out.stdout.write(LINE), DRAIN_MS - 60);
      const denied = await reader.stop({ port: 41234, send });
      assert.ok(Date.now() - begun >= DRAIN_MS - 5);
      assert.equal(denied[0].count, 1);
      assert.equal(reader.markSeen, false);
    }
  });
});
