// The TLS fast path (issue 14): the queue program's framing, the stream's reassembly from its
// segments (real ClientHellos of Node's tls, curl's and openssl's, in random segments, reordered,
// duplicated), and the decisions: which packets are held, let through with which mark, refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { WIRE_MARK } from '../../src/firewall/ruleset.js';
import { WireDecisionLog } from '../../src/wire/decision-log.js';
import { FastPath, MAX_HELD_PER_CONNECTION, type FastPathOptions } from '../../src/wire/fast-path.js';
import { ALLOW_MIN } from '../../src/wire/http-flow.js';
import { StreamAssembler } from '../../src/wire/reassembly.js';
import { WireQueue } from '../../src/wire/queue.js';
import { QueueFrameReader, TCP_FLAGS, VERDICT, encodePacket, encodeVerdict, type QueuedPacket } from '../../src/wire/queue-frames.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'client-hello');
const hellos = Object.fromEntries(
  fs
    .readdirSync(FIXTURES)
    .map((f) => [f.replace(/\.hex$/, ''), Buffer.from(fs.readFileSync(path.join(FIXTURES, f), 'utf8').replace(/\s/g, ''), 'hex')]),
);
const NODE = hellos['node20-tls']; // server_name npm.registry.test
const CURL = hellos['curl-openssl']; // npm.registry.test
const EVIL = hellos['openssl-tls13']; // www.evil.test
const NO_SNI = hellos['curl-openssl-no-sni'];

const packet = (over: Partial<QueuedPacket>): QueuedPacket => ({
  id: 0,
  family: 4,
  flags: 0x18,
  source: '172.17.0.3',
  sourcePort: 40000,
  destination: '192.0.2.7',
  destinationPort: 443,
  seq: 1000,
  payload: Buffer.alloc(0),
  ...over,
});

describe('the packet queue frames', () => {
  it('reads packets and the ready frame however the stream cuts them, IPv4 and IPv6, binary payloads whole', () => {
    const a = packet({ id: 7, seq: 0xfffffff0, payload: Buffer.from([0, 1, 2, 255, 0x0a, 0x0d]) });
    const b = packet({
      id: 0,
      family: 6,
      flags: TCP_FLAGS.syn,
      source: 'fd00::3',
      destination: '2001:db8::7',
      sourcePort: 1,
      destinationPort: 443,
    });
    const stream = Buffer.concat([Buffer.from([0, 0, 0, 1, 'R'.charCodeAt(0)]), encodePacket(a), encodePacket(b)]);
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 20 }), (cuts) => {
        const reader = new QueueFrameReader();
        const frames = [];
        let at = 0;
        for (const c of [...new Set(cuts)].sort((x, y) => x - y).concat(stream.length)) {
          frames.push(...reader.push(stream.subarray(at, c)));
          at = c;
        }
        assert.deepEqual(frames, [{ kind: 'ready' }, { kind: 'packet', ...a }, { kind: 'packet', ...b }]);
      }),
    );
  });

  it('throws on a frame it cannot read, rather than guessing', () => {
    assert.throws(() => new QueueFrameReader().push(Buffer.from([0, 0, 0, 0])), /frame of 0 bytes/);
    assert.throws(() => new QueueFrameReader().push(Buffer.from([0xff, 0, 0, 0])), /frame of/);
    assert.throws(() => new QueueFrameReader().push(Buffer.from([0, 0, 0, 1, 'X'.charCodeAt(0)])), /should not/);
  });

  it('writes verdicts as 12 big-endian bytes: id, verdict, mark', () => {
    assert.deepEqual([...encodeVerdict(0x01020304, VERDICT.repeat, WIRE_MARK.checked)], [1, 2, 3, 4, 0, 0, 0, 4, 0x20, 0, 0, 0]);
  });
});

/** `bytes` as segments: cut at `cuts`, each with its sequence number from `start`. */
function cut(bytes: Buffer, cuts: number[], start: number): Array<{ seq: number; payload: Buffer }> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push({ seq: (start + at) >>> 0, payload: bytes.subarray(at, p) });
    at = p;
  }
  return out;
}

describe('the stream put together from its segments', () => {
  it('gives back the bytes in order from any segmentation, order, duplicates and retransmissions that merge segments', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(NODE, CURL, EVIL, NO_SNI),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (hello, cuts, seed, again, start) => {
          const segs = cut(hello, cuts, start);
          // Reordered (a seeded shuffle), some sent twice, and a retransmission covering two neighbours.
          const order = segs
            .map((s, i) => ({ s, k: (i * 7919 + seed) % 104729 }))
            .sort((x, y) => x.k - y.k)
            .map((x) => x.s);
          for (const i of again) if (segs.length > 0) order.push(segs[i % segs.length]);
          if (segs.length > 1) order.push({ seq: segs[0].seq, payload: Buffer.concat([segs[0].payload, segs[1].payload]) });
          const a = new StreamAssembler(start, 20 * 1024);
          const got: Buffer[] = [];
          for (const s of order) {
            const r = a.push(s.seq, s.payload);
            assert.equal(r.kind, 'ok');
            if (r.kind === 'ok') got.push(r.ready);
          }
          assert.deepEqual(Buffer.concat(got), hello);
        },
      ),
    );
  });

  it('refuses two segments that disagree about a byte, and a stream past its limit; ignores bytes before the start', () => {
    const a = new StreamAssembler(100, 16);
    assert.deepEqual(a.push(104, Buffer.from('efgh')), { kind: 'ok', ready: Buffer.alloc(0) });
    assert.equal(a.push(102, Buffer.from('cdXf')).kind, 'refused');
    const b = new StreamAssembler(100, 16);
    assert.equal(b.push(110, Buffer.alloc(7)).kind, 'refused');
    // A byte before the start (sequence numbers wrap): the part from the start counts.
    const c = new StreamAssembler(2, 16);
    assert.deepEqual(c.push(0xffffffff, Buffer.from('xyab')), { kind: 'ok', ready: Buffer.from('b') });
  });
});

interface Sent {
  id: number;
  verdict: number;
  mark: number;
}

function fastPath(over: Partial<FastPathOptions> = {}): { fp: FastPath; sent: Sent[]; log: WireDecisionLog; warnings: string[] } {
  const sent: Sent[] = [];
  const warnings: string[] = [];
  const log = new WireDecisionLog();
  const fp = new FastPath({
    mode: 'block',
    allows: (name, port) => name === 'npm.registry.test' && port === 443,
    namesOf: () => ['npm.registry.test'],
    log,
    send: (b) => {
      for (let i = 0; i < b.length; i += 12)
        sent.push({ id: b.readUInt32BE(i), verdict: b.readUInt32BE(i + 4), mark: b.readUInt32BE(i + 8) });
    },
    onWarning: (m) => warnings.push(m),
    ...over,
  });
  return { fp, sent, log, warnings };
}

/** A connection's SYN (a notice), then its bytes in `segments` (ids from `firstId`), in the order given. */
function connect(fp: FastPath, bytes: Buffer, cuts: number[], opts: { port?: number; firstId?: number; isn?: number } = {}): number[] {
  const isn = opts.isn ?? 5000;
  const sourcePort = opts.port ?? 40000;
  fp.packet(packet({ flags: TCP_FLAGS.syn, seq: isn, sourcePort }));
  const ids: number[] = [];
  cut(bytes, cuts, isn + 1).forEach((s, i) => {
    const id = (opts.firstId ?? 1) + i;
    ids.push(id);
    fp.packet(packet({ id, seq: s.seq, payload: s.payload, sourcePort }));
  });
  return ids;
}

describe('the fast path', () => {
  it('holds every payload packet until the ClientHello is whole, then lets them all through with the checked mark', () => {
    fc.assert(
      fc.property(fc.constantFrom(NODE, CURL), fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), (hello, cuts) => {
        const { fp, sent, log } = fastPath();
        const ids = connect(fp, hello, cuts);
        assert.deepEqual(
          sent,
          ids.map((id) => ({ id, verdict: VERDICT.repeat, mark: WIRE_MARK.checked })),
        );
        assert.equal(fp.heldPackets, 0);
        assert.equal(fp.pending, 0);
        assert.deepEqual(log.decisions(), []);
        fp.close();
      }),
    );
  });

  it('lets nothing out before the last byte of the ClientHello arrived', () => {
    const { fp, sent } = fastPath();
    fp.packet(packet({ flags: TCP_FLAGS.syn, seq: 0 }));
    // Every segment but the first, in order, then the first.
    const segs = cut(NODE, [1, 50, 100, 200], 1);
    segs.slice(1).forEach((s, i) => fp.packet(packet({ id: i + 2, seq: s.seq, payload: s.payload })));
    assert.equal(sent.length, 0);
    assert.equal(fp.heldPackets, segs.length - 1);
    fp.packet(packet({ id: 1, seq: segs[0].seq, payload: segs[0].payload }));
    assert.deepEqual(
      sent.map((s) => s.id),
      [2, 3, 4, 5, 1],
    );
    fp.close();
  });

  it('refuses the co-tenant, no server_name, and what is neither TLS nor HTTP: the first packet resets, the rest are dropped, each recorded', () => {
    for (const [bytes, reason, name] of [
      [EVIL, 'sni', 'www.evil.test'],
      [NO_SNI, 'no-sni', undefined],
      [Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), 'opaque', undefined],
    ] as const) {
      const { fp, sent, log } = fastPath();
      const ids = connect(fp, bytes, [3, 200]);
      assert.deepEqual(sent[0], { id: ids[0], verdict: VERDICT.reset, mark: WIRE_MARK.refused }, reason);
      // Held ones dropped; those that came after the decision refused again.
      assert.ok(sent.slice(1).every((s) => s.verdict === VERDICT.drop || (s.verdict === VERDICT.repeat && s.mark === WIRE_MARK.refused)));
      assert.equal(sent.length, ids.length);
      const [row] = log.decisions();
      assert.deepEqual(
        [row.reason, row.name, row.address, row.port, row.enforced, row.learnedFor],
        [reason, name, '192.0.2.7', 443, true, ['npm.registry.test']],
      );
      // A packet the kernel queued before it took the connection's mark: refused the same way.
      fp.packet(packet({ id: 99, seq: 5001, payload: Buffer.from('x') }));
      assert.deepEqual(sent.at(-1), { id: 99, verdict: VERDICT.repeat, mark: WIRE_MARK.refused });
      fp.close();
    }
  });

  it('audit: records what block mode would refuse and lets it through checked', () => {
    const { fp, sent, log } = fastPath({ mode: 'audit' });
    const ids = connect(fp, EVIL, [10]);
    assert.deepEqual(
      sent,
      ids.map((id) => ({ id, verdict: VERDICT.repeat, mark: WIRE_MARK.checked })),
    );
    assert.deepEqual(
      log.decisions().map((d) => [d.reason, d.name, d.enforced]),
      [['sni', 'www.evil.test', false]],
    );
    fp.close();
  });

  it('refuses a payload whose connection it never saw open, and a ClientHello in more segments than the bound', () => {
    const { fp, sent, log } = fastPath();
    fp.packet(packet({ id: 5, payload: Buffer.from([0x16]) }));
    assert.deepEqual(sent.slice(), [{ id: 5, verdict: VERDICT.repeat, mark: WIRE_MARK.refused }]);
    const ids = connect(
      fp,
      NODE,
      Array.from({ length: MAX_HELD_PER_CONNECTION + 1 }, (_, i) => i + 1),
      { port: 40001, firstId: 10 },
    );
    assert.equal(sent.find((s) => s.verdict === VERDICT.reset)?.id, ids[0]);
    assert.deepEqual(
      log
        .decisions()
        .map((d) => d.reason)
        .sort(),
      ['no-sni', 'opaque'],
    );
    assert.equal(fp.heldPackets, 0);
    fp.close();
  });

  it('bounds: past the most connections the oldest waiting one is refused (or forgotten, if it held nothing); past the most packets, the newest', () => {
    const { fp, sent, warnings } = fastPath({ maxConnections: 2, maxHeld: 3 });
    connect(fp, NODE.subarray(0, 10), [5], { port: 1, firstId: 1 }); // holds 1, 2
    connect(fp, Buffer.alloc(0), [], { port: 2 }); // holds nothing
    connect(fp, Buffer.alloc(0), [], { port: 3 }); // the oldest (port 1) makes room
    assert.deepEqual(sent, [
      { id: 1, verdict: VERDICT.reset, mark: WIRE_MARK.refused },
      { id: 2, verdict: VERDICT.drop, mark: 0 },
    ]);
    assert.equal(fp.pending, 2);
    connect(fp, NODE.subarray(0, 40), [10, 20, 30], { port: 4, firstId: 10 }); // port 2 is forgotten; the 4th packet is one too many
    assert.equal(sent.filter((s) => s.verdict === VERDICT.reset).length, 2);
    assert.equal(fp.heldPackets, 0);
    assert.match(warnings[0], /connections are read at once/);
    fp.close();
  });

  it('a connection closed before it sent a byte is forgotten unrecorded; one that is silent past the bound is refused at its first byte', async () => {
    const { fp, sent, log } = fastPath({ helloMs: 30 });
    fp.packet(packet({ flags: TCP_FLAGS.syn, seq: 1, sourcePort: 1 }));
    fp.packet(packet({ flags: TCP_FLAGS.fin | 0x10, seq: 2, sourcePort: 1 }));
    assert.equal(fp.pending, 0);
    fp.packet(packet({ flags: TCP_FLAGS.syn, seq: 1, sourcePort: 2 }));
    await new Promise((r) => setTimeout(r, 60));
    fp.packet(packet({ id: 3, seq: 2, sourcePort: 2, payload: NODE }));
    assert.deepEqual(sent, [{ id: 3, verdict: VERDICT.reset, mark: WIRE_MARK.refused }]);
    // A ClientHello begun but not finished within the bound: refused with what it held.
    fp.packet(packet({ flags: TCP_FLAGS.syn, seq: 1, sourcePort: 3 }));
    fp.packet(packet({ id: 4, seq: 2, sourcePort: 3, payload: NODE.subarray(0, 20) }));
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(sent.at(-1), { id: 4, verdict: VERDICT.reset, mark: WIRE_MARK.refused });
    assert.deepEqual(
      log.decisions().map((d) => [d.reason, d.detail.split(' (')[0]]),
      [
        ['opaque', 'the client sent nothing for 0.03 s'],
        ['no-sni', 'the ClientHello was not whole within 0.03 s'],
      ],
    );
    fp.close();
  });

  it('a TCP Fast Open SYN carries its ClientHello: held and decided like any other', () => {
    const { fp, sent } = fastPath();
    fp.packet(packet({ id: 1, flags: TCP_FLAGS.syn, seq: 77, payload: CURL }));
    assert.deepEqual(sent, [{ id: 1, verdict: VERDICT.repeat, mark: WIRE_MARK.checked }]);
    fp.close();
  });
});

/** Bytes the way a client sends them: requests on one kept-alive connection. */
const request = (host: string, body = '') => `POST /p HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const chunked = (host: string, chunks: string[]) =>
  `PUT /c HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n` +
  chunks
    .filter((c) => c.length > 0)
    .map((c) => `${c.length.toString(16)}\r\n${c}\r\n`)
    .join('') +
  '0\r\n\r\n';

describe('plain HTTP on the fast path', () => {
  const passed = (sent: Sent[]) => sent.filter((s) => s.verdict === VERDICT.accept).map((s) => s.id);

  it('lets every packet through once the request heads it carries are whole and allowed, never a byte of a head before', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 40 })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { minLength: 0, maxLength: 30 }),
        fc.nat(),
        (requests, cuts, isn) => {
          // Where each head starts and ends in the stream: no packet holding a byte of one may pass before it has come.
          const heads: Array<[number, number]> = [];
          let text = '';
          for (const [isChunked, body] of requests) {
            const one = isChunked ? chunked('npm.registry.test', [body, body]) : request('npm.registry.test', body);
            heads.push([text.length, text.length + one.indexOf('\r\n\r\n') + 4]);
            text += one;
          }
          const bytes = Buffer.from(text, 'latin1');
          const { fp, sent, log } = fastPath();
          fp.packet(packet({ flags: TCP_FLAGS.syn, seq: isn }));
          const segs = cut(bytes, cuts, (isn + 1) >>> 0);
          let received = 0;
          const ends = new Map<number, [number, number]>();
          segs.forEach((s, i) => {
            const from = received;
            received += s.payload.length;
            ends.set(i + 1, [from, received]);
            fp.packet(packet({ id: i + 1, seq: s.seq, payload: s.payload }));
            for (const v of sent.splice(0)) {
              assert.equal(v.verdict, VERDICT.accept);
              const [a, b] = ends.get(v.id)!;
              for (const [hs, he] of heads)
                if (a < he && b > hs) assert.ok(received >= he, `packet ${v.id} passed before head ${hs}-${he} was whole`);
              ends.delete(v.id);
            }
          });
          assert.equal(ends.size, 0);
          assert.equal(fp.heldPackets, 0);
          assert.equal(fp.httpConnections, 1);
          assert.deepEqual(log.decisions(), []);
          fp.close();
        },
      ),
    );
  });

  it('refuses the co-tenant in the second request of a kept-alive connection, before any byte of it leaves', () => {
    const { fp, sent, log } = fastPath();
    const first = Buffer.from(request('npm.registry.test', 'abc'));
    const second = Buffer.from(request('evil.test', 'secret'));
    const ids = connect(fp, Buffer.concat([first, second]), [first.length, first.length + 10]);
    assert.deepEqual(sent, [
      { id: ids[0], verdict: VERDICT.accept, mark: 0 },
      { id: ids[1], verdict: VERDICT.reset, mark: WIRE_MARK.refused },
      { id: ids[2], verdict: VERDICT.drop, mark: 0 },
    ]);
    const [row] = log.decisions();
    assert.deepEqual([row.reason, row.name, row.port, row.enforced], ['host', 'evil.test', 443, true]);
    assert.equal(fp.httpConnections, 0);
    fp.close();
  });

  it('passes a retransmission as it passed the first time, drops a packet past a gap (TCP sends it again), and lets through what a closed connection sent before its FIN', () => {
    const { fp, sent, log } = fastPath();
    const bytes = Buffer.from(request('npm.registry.test', 'x'.repeat(50)));
    fp.packet(packet({ flags: TCP_FLAGS.syn, seq: 0xfffffff0 }));
    const [a, b, c] = cut(bytes, [40, 60], 0xfffffff1);
    fp.packet(packet({ id: 1, seq: a.seq, payload: a.payload }));
    fp.packet(packet({ id: 3, seq: c.seq, payload: c.payload })); // b never came: past the gap
    fp.packet(packet({ id: 2, seq: b.seq, payload: b.payload }));
    fp.packet(packet({ id: 4, seq: c.seq, payload: c.payload }));
    fp.packet(packet({ id: 5, seq: a.seq, payload: Buffer.concat([a.payload, b.payload]) })); // a retransmission of two
    assert.deepEqual(
      sent.map((s) => [s.id, s.verdict]),
      [
        [3, VERDICT.drop],
        [1, VERDICT.accept],
        [2, VERDICT.accept],
        [4, VERDICT.accept],
        [5, VERDICT.accept],
      ],
    );
    sent.length = 0;
    fp.packet(packet({ flags: TCP_FLAGS.fin | 0x10, seq: (0xfffffff1 + bytes.length) >>> 0 }));
    assert.equal(fp.httpConnections, 0);
    fp.packet(packet({ id: 6, seq: c.seq, payload: c.payload }));
    fp.packet(packet({ id: 7, seq: (0xfffffff1 + bytes.length) >>> 0, payload: Buffer.from('GET / HTTP/1.1\r\n') }));
    assert.deepEqual(sent, [
      { id: 6, verdict: VERDICT.accept, mark: 0 },
      { id: 7, verdict: VERDICT.repeat, mark: WIRE_MARK.refused },
    ]);
    assert.equal(log.decisions()[0].detail, 'the client sent bytes after it closed the connection');
    fp.close();
  });

  it('refuses a head that is not whole within the bound, one closed before it was whole, and what HTTP cannot frame', async () => {
    const partial = Buffer.from('GET / HTTP/1.1\r\nHost: npm.reg');
    const late = fastPath({ helloMs: 30 });
    connect(late.fp, partial, []);
    await new Promise((r) => setTimeout(r, 60));
    const closed = fastPath();
    connect(closed.fp, partial, []);
    closed.fp.packet(packet({ flags: TCP_FLAGS.fin | 0x10, seq: 5001 + partial.length }));
    const unframed = fastPath();
    connect(
      unframed.fp,
      Buffer.from('GET / HTTP/1.1\r\nHost: npm.registry.test\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'),
      [],
    );
    for (const [{ fp, sent, log }, detail] of [
      [late, 'a request head was not whole within 0.03 s'],
      [closed, 'the client closed before its request head was whole'],
      [unframed, 'both Transfer-Encoding and Content-Length'],
    ] as const) {
      assert.deepEqual(sent, [{ id: 1, verdict: VERDICT.reset, mark: WIRE_MARK.refused }], detail);
      assert.deepEqual(
        log.decisions().map((d) => [d.reason, d.detail.split(':')[0]]),
        [['host', detail]],
      );
      assert.equal(fp.heldPackets, 0);
      assert.equal(fp.httpConnections, 0);
      fp.close();
    }
  });

  it("a large body's rest is allowed unread: the program lets it through, the heads after it are still read", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), fc.nat(), (cuts, evil, isn) => {
        const big = Buffer.alloc(ALLOW_MIN * 2, 0x61);
        const first = Buffer.concat([
          Buffer.from(`PUT /up HTTP/1.1\r\nHost: npm.registry.test\r\nContent-Length: ${big.length}\r\n\r\n`),
          big,
        ]);
        const second = Buffer.from(request(evil ? 'evil.test' : 'npm.registry.test', 'done'));
        const bytes = Buffer.concat([first, second]);
        const { fp, sent, log } = fastPath();
        fp.packet(packet({ flags: TCP_FLAGS.syn, seq: isn }));
        // The queue program as wire-queue.c is: a packet that ends by the allowed sequence number never reaches buildfence.
        let allowed: number | undefined;
        const unasked: number[] = [];
        // Packets of at most 64 KiB, as the queue takes a socket's writes, cut further anywhere.
        const writes = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, k) => k * 65536);
        const segs = cut(bytes, [...cuts, ...writes, 60, first.length - 10, first.length + 5], (isn + 1) >>> 0);
        segs.forEach((s, i) => {
          if (allowed !== undefined && ((s.seq + s.payload.length - allowed) | 0) <= 0) return void unasked.push(i + 1);
          fp.packet(packet({ id: i + 1, seq: s.seq, payload: s.payload }));
          for (const v of sent) if (v.verdict === VERDICT.allow) allowed = v.mark;
        });
        assert.ok(allowed !== undefined, 'the body was allowed');
        assert.equal(allowed, (isn + 1 + first.length) >>> 0, 'up to the end of the body, and no further');
        const answered = new Set(sent.filter((v) => v.verdict !== VERDICT.allow).map((v) => v.id));
        // Every packet is answered once: by the program (inside the body) or by buildfence.
        assert.deepEqual(
          segs.map((_, i) => i + 1).filter((id) => !answered.has(id) && !unasked.includes(id)),
          [],
        );
        // The request after the body is read: the co-tenant's refused, the allowed name's let through.
        const reset = sent.findIndex((v) => v.verdict === VERDICT.reset);
        if (evil) {
          assert.ok(reset >= 0);
          assert.equal(log.decisions()[0]?.name, 'evil.test');
          assert.ok(sent.slice(reset + 1).every((v) => v.verdict === VERDICT.drop));
        } else {
          assert.equal(reset, -1);
          assert.ok(sent.every((v) => v.verdict === VERDICT.accept || v.verdict === VERDICT.allow));
          assert.deepEqual(log.decisions(), []);
        }
        fp.close();
      }),
      { numRuns: 50 },
    );
  });

  it('a reset ends an HTTP connection: what it held is dropped, and nothing is recorded', () => {
    const { fp, sent, log } = fastPath();
    connect(fp, Buffer.from('GET / HTTP/1.1\r\nHost: npm.reg'), []);
    fp.packet(packet({ flags: TCP_FLAGS.rst, seq: 5030 }));
    assert.deepEqual(sent, [{ id: 1, verdict: VERDICT.drop, mark: 0 }]);
    assert.equal(fp.heldPackets, 0);
    assert.equal(fp.httpConnections, 0);
    assert.deepEqual(log.decisions(), []);
    fp.close();
  });

  it('audit: records the co-tenant and lets the connection through checked', () => {
    const { fp, sent, log } = fastPath({ mode: 'audit' });
    const ids = connect(fp, Buffer.from(request('evil.test')), [5]);
    assert.deepEqual(
      sent,
      [
        { id: ids[1], verdict: VERDICT.repeat, mark: WIRE_MARK.checked },
        { id: ids[0], verdict: VERDICT.repeat, mark: WIRE_MARK.checked },
      ].sort((x, y) => x.id - y.id),
    );
    assert.deepEqual(
      log.decisions().map((d) => [d.reason, d.name, d.enforced]),
      [['host', 'evil.test', false]],
    );
    fp.close();
  });

  it('reads only from the first byte: packets held before it are dropped and sent again; past the most HTTP connections a new one is refused', () => {
    const { fp, sent, warnings } = fastPath({ maxHttpConnections: 1 });
    const bytes = Buffer.from(request('npm.registry.test'));
    fp.packet(packet({ flags: TCP_FLAGS.syn, seq: 0, sourcePort: 1 }));
    fp.packet(packet({ id: 2, seq: 11, payload: bytes.subarray(10), sourcePort: 1 }));
    fp.packet(packet({ id: 1, seq: 1, payload: bytes.subarray(0, 10), sourcePort: 1 }));
    fp.packet(packet({ id: 3, seq: 11, payload: bytes.subarray(10), sourcePort: 1 }));
    assert.deepEqual(passed(sent), [1, 3]);
    assert.deepEqual(sent.find((s) => s.id === 2)?.verdict, VERDICT.drop);
    connect(fp, bytes, [], { port: 2, firstId: 9 });
    assert.deepEqual(sent.at(-1), { id: 9, verdict: VERDICT.reset, mark: WIRE_MARK.refused });
    assert.match(warnings[0], /1 HTTP connections are open at once/);
    fp.close();
  });
});

describe('the channel to the queue program', () => {
  const channel = () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const errors = new PassThrough();
    return { input, output, errors, close: () => output.destroy() };
  };
  const options = { mode: 'block' as const, allows: () => true, namesOf: () => [], log: new WireDecisionLog() };

  it('is ready at its ready frame, passes packets on and writes their verdicts back', async () => {
    const ch = channel();
    const q = new WireQueue(ch, options);
    const written: Buffer[] = [];
    ch.input.on('data', (d: Buffer) => written.push(d));
    ch.output.write(Buffer.from([0, 0, 0, 1, 'R'.charCodeAt(0)]));
    await q.ready;
    ch.output.write(encodePacket(packet({ flags: TCP_FLAGS.syn, seq: 1 })));
    ch.output.write(encodePacket(packet({ id: 9, seq: 2, payload: CURL })));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(Buffer.concat(written), encodeVerdict(9, VERDICT.repeat, WIRE_MARK.checked));
    q.close();
  });

  it('says why when the program ends, with its last words; not when the run closes it', async () => {
    const ch = channel();
    const q = new WireQueue(ch, options);
    ch.errors.write('wire-queue: binding the queue (is another reader bound to it?): Operation not permitted\n');
    ch.output.end();
    await assert.rejects(q.ready, /packet queue in the holder ended: wire-queue: binding the queue .*Operation not permitted/);
    assert.match(await q.ended, /ended: wire-queue: binding/);
    const quiet = channel();
    const closed = new WireQueue(quiet, options);
    closed.close();
    const outcome = await Promise.race([closed.ended, new Promise((r) => setTimeout(() => r('none'), 200))]);
    assert.equal(outcome, 'none');
  });

  it('a frame it cannot read ends it too', async () => {
    const ch = channel();
    const q = new WireQueue(ch, options);
    ch.output.write(Buffer.from([0, 0, 0, 0]));
    assert.match(await q.ended, /sent what cannot be read \(the packet queue sent a frame of 0 bytes\)/);
  });
});
