// The resolver under generated messages, on its real sockets (loopback): whatever a build sends,
// over UDP or TCP, one message or many on one connection, it gets one reply per message (with
// its id), every reply fits where it goes, no query is answered from an internal error, and the
// resolver stays up. The messages: random bytes, well-formed queries cut or bit-flipped, headers
// announcing huge counts, many questions, compression pointers (loops among them), records cut
// short, and the attack of issue 12 (300 questions, each a pointer to one long name).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import fc from 'fast-check';
import * as dnsPacket from 'dns-packet';
import { Resolver } from '../../src/dns/resolver.js';
import { readQuery, localReply } from '../../src/dns/query.js';
import type { Forwarder } from '../../src/dns/upstream.js';
import { parseAllowlist } from '../../src/policy/allowlist.js';
import { header, opt as optRecord, typeClass, wire } from './dns-wire.js';

/** Issue 12's message: one long name, then 299 questions pointing at it. */
function attack(): Buffer {
  return Buffer.concat([
    header(0x3300, 0x0100, [300, 0, 0, 0]),
    wire(...Array.from({ length: 4 }, () => 'a'.repeat(60))),
    typeClass(1),
    ...Array.from({ length: 299 }, () => Buffer.from([0xc0, 12, 0, 1, 0, 1])),
  ]);
}

const label = fc.oneof(
  fc.constantFrom('api', 'fuzz', 'test', 'API', 'Fuzz', 'x'.repeat(63)),
  fc.uint8Array({ minLength: 1, maxLength: 70 }).map((b) => Buffer.from(b).toString('latin1')),
);
/** A name's wire bytes: labels, then the root, a pointer (anywhere: forward, to itself, into the header) or nothing. */
const nameBytes = fc
  .tuple(
    fc.array(label, { maxLength: 6 }),
    fc.oneof(fc.constant('root'), fc.integer({ min: 0, max: 0x3fff }), fc.constant('none')),
    fc.boolean(),
  )
  .map(([labels, end, allowed]) => {
    // wire() ends in the root label: cut it off for the other endings.
    const name = wire(...(allowed ? [...labels.slice(0, 2), 'fuzz', 'test'] : labels));
    if (end === 'root') return name;
    const body = name.subarray(0, -1);
    return typeof end === 'number' ? Buffer.concat([body, Buffer.from([0xc0 | (end >> 8), end & 0xff])]) : body;
  });
const anyTypeClass = fc
  .tuple(fc.constantFrom(1, 28, 16, 65, 10, 255, 252, 65280, 0), fc.constantFrom(1, 1, 1, 3, 255))
  .map(([t, c]) => typeClass(t, c));
const record = fc
  .tuple(nameBytes, anyTypeClass, fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 40 }), fc.boolean())
  .map(([name, tc, ttl, data, lie]) => {
    const fixed = Buffer.alloc(6);
    fixed.writeUInt32BE(ttl, 0);
    fixed.writeUInt16BE(lie ? (data.length + 7) & 0xffff : data.length, 4);
    return Buffer.concat([name, tc, fixed, Buffer.from(data)]);
  });
const opt = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffff }),
    fc.constantFrom(0, 0, 1),
    fc.boolean(),
    fc.array(fc.tuple(fc.constantFrom(8, 10, 12, 65001), fc.uint8Array({ maxLength: 20 }))),
  )
  .map(([payload, version, dnssecOk, options]) => optRecord(payload, { version, dnssecOk, options }));

const count = fc.oneof(fc.constantFrom(0, 1, 1, 1, 2, 300, 65535), fc.integer({ min: 0, max: 65535 }));
/** A message built from DNS parts: counts that may lie, questions and records, an OPT, trailing bytes, cut anywhere. */
const structured = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffff }),
    fc.oneof(fc.constantFrom(0x0100, 0x0000, 0x0110, 0x8100, 0x2100, 0x0300), fc.integer({ min: 0, max: 0xffff })),
    fc.tuple(count, count, count, count),
    fc.array(fc.tuple(nameBytes, anyTypeClass), { minLength: 0, maxLength: 4 }),
    fc.array(record, { maxLength: 3 }),
    fc.option(opt),
    fc.uint8Array({ maxLength: 8 }),
    fc.option(fc.nat()),
  )
  .map(([id, flags, counts, questions, records, o, trailing, cut]) => {
    const msg = Buffer.concat([
      header(id, flags, counts),
      ...questions.flatMap(([n, tc]) => [n, tc]),
      ...records,
      ...(o ? [o] : []),
      Buffer.from(trailing),
    ]);
    return cut === null ? msg : msg.subarray(0, cut % (msg.length + 1));
  });
/** One question, names of valid labels (allowed or not, any case), any type, class and opcode, with or without an OPT. */
const wellFormed = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffff }),
    fc.constantFrom(0x0100, 0x0100, 0x0000, 0x0110, 0x2100),
    fc.array(fc.constantFrom('a', 'B', 'c-d', '_srv', 'X'.repeat(40)), { maxLength: 3 }),
    fc.constantFrom(['api', 'test'], ['fuzz', 'test'], ['Fuzz', 'TEST'], ['other', 'test']),
    anyTypeClass,
    fc.option(opt),
  )
  .map(([id, flags, labels, domain, tc, o]) =>
    Buffer.concat([header(id, flags, [1, 0, 0, o ? 1 : 0]), wire(...labels, ...domain), tc, ...(o ? [o] : [])]),
  );
/** A well-formed message, then flipped bits and a cut. */
const mutated = fc.tuple(wellFormed, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.option(fc.nat())).map(([msg, flips, cut]) => {
  const q = Buffer.from(msg);
  for (const f of flips) q[f % q.length] ^= 1 << (f % 8);
  return cut === null ? q : q.subarray(0, cut % (q.length + 1));
});
const messages = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)), weight: 1 },
  { arbitrary: structured, weight: 3 },
  { arbitrary: wellFormed, weight: 4 },
  { arbitrary: mutated, weight: 2 },
  { arbitrary: fc.constant(attack()), weight: 1 },
);
/** Headers that announce every count at its largest, then fill a TCP frame with pointers. */
const huge = fc
  .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 10_000, max: 65_000 }))
  .map(([id, size]) => Buffer.concat([header(id, 0x0100, [65535, 65535, 65535, 65535]), Buffer.alloc(size - 12, Buffer.from([0xc0, 12]))]));

let resolver: Resolver;
let port: number;
/** Errors while answering: there must be none. */
const errors: unknown[] = [];
const forwarded: Buffer[] = [];

before(async () => {
  const forwarder = {
    async forward(q: Buffer) {
      forwarded.push(q);
      const asked = dnsPacket.decode(q);
      return dnsPacket.encode({
        type: 'response',
        id: asked.id,
        flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED,
        questions: asked.questions,
        answers: asked.questions![0].type === 'A' ? [{ type: 'A', name: asked.questions![0].name, ttl: 300, data: '192.0.2.7' }] : [],
      });
    },
  } as unknown as Forwarder;
  resolver = new Resolver({
    mode: 'block',
    allow: parseAllowlist(['api.test', '*.fuzz.test'], 'test'),
    deny: [],
    ttlMin: 60,
    ttlMax: 600,
    forwarder,
    onError: (err) => errors.push(err),
  });
  port = await resolver.listen('127.0.0.1');
  resolver.serve(['127.0.0.1'], { add: async () => undefined }, new Set());
});

after(() => resolver.close());

/** What a reply must be: a response with the message's id (what it has of one), no larger than the transport allows. */
function checkReply(msg: Buffer, reply: Buffer, limit: number): void {
  assert.ok(reply.length >= 12, `a reply of ${reply.length} bytes`);
  assert.ok(reply.length <= limit, `a reply of ${reply.length} bytes, over ${limit}`);
  assert.ok((reply[2] & 0x80) !== 0, 'not a response');
  const id = Buffer.alloc(2);
  msg.copy(id, 0, 0, Math.min(2, msg.length));
  assert.deepEqual(reply.subarray(0, 2), id);
}

async function udpExchange(sock: dgram.Socket, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no UDP reply to ${msg.toString('hex').slice(0, 120)}`)), 2000);
    sock.once('message', (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    sock.send(msg, port, '127.0.0.1');
  });
}

/** Sends every message on one connection at once; resolves with the replies in the order they came. */
async function tcpExchange(msgs: Buffer[]): Promise<Buffer[]> {
  const sock = net.connect(port, '127.0.0.1');
  const replies: Buffer[] = [];
  let buf = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${replies.length} TCP replies of ${msgs.length}`));
    }, 5000);
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length === msgs.length) {
        clearTimeout(timer);
        sock.destroy();
        resolve(replies);
      }
    });
    // Frames written in pieces of random-ish size, to cross chunk boundaries.
    const all = Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 255]), m])));
    for (let i = 0; i < all.length; i += 1 + (i % 977)) sock.write(all.subarray(i, i + 1 + (i % 977)));
  });
}

async function stillUp(): Promise<void> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const reply = await udpExchange(
    sock,
    dnsPacket.encode({ type: 'query', id: 99, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'api.test' }] }),
  );
  sock.close();
  assert.deepEqual(
    dnsPacket.decode(reply).answers?.map((a) => (a as { data?: unknown }).data),
    ['192.0.2.7'],
  );
}

describe('the resolver under generated messages', () => {
  it("answers every one over UDP, within the client's size, with its id", async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const seen = new Map<string, number>();
    try {
      await fc.assert(
        fc.asyncProperty(messages, async (msg) => {
          const reply = await udpExchange(sock, msg);
          const q = readQuery(msg);
          checkReply(msg, reply, q.edns?.payload ?? 512);
          const outcome = `${['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'][reply[3] & 0x0f]}${q.local ? ` ${q.local.reason}` : ''}`;
          seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
        }),
        { numRuns: 600 },
      );
    } finally {
      sock.close();
    }
    // The messages reach every branch: forwarded, refused by name, and each local answer.
    const outcomes = ['NOERROR', 'NXDOMAIN', 'FORMERR malformed', 'NOTIMP opcode', 'REFUSED class', 'REFUSED type'];
    for (const o of outcomes) assert.ok((seen.get(o) ?? 0) >= 3, `${o}: ${JSON.stringify([...seen])}`);
    await stillUp();
    assert.deepEqual(errors, []);
  });

  it('answers every one over TCP, many on one connection and huge ones too, each reply one frame', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ arbitrary: messages, weight: 9 }, { arbitrary: huge, weight: 1 }), { minLength: 1, maxLength: 12 }),
        async (msgs) => {
          const replies = await tcpExchange(msgs);
          // Replies may come in any order (RFC 7766 7): matched by id, then checked.
          const ids = (b: Buffer) => b.subarray(0, 2).toString('hex').padEnd(4, '0');
          assert.deepEqual(replies.map(ids).sort(), msgs.map(ids).sort());
          for (const reply of replies) {
            const msg = msgs.find((m) => ids(m) === ids(reply))!;
            checkReply(msg, reply, 0xffff);
          }
        },
      ),
      { numRuns: 150 },
    );
    await stillUp();
    assert.deepEqual(errors, []);
  });

  it('forwards nothing but rebuilt queries: one question of a listed type, class IN, its own OPT, lower case', () => {
    assert.ok(forwarded.length > 0, 'something was forwarded');
    for (const q of forwarded) {
      const read = readQuery(q);
      assert.equal(read.local, undefined);
      assert.equal(q.readUInt16BE(10), 1);
      assert.deepEqual(read.edns?.payload, 1232);
      assert.match(read.question!.name, /(^|\.)fuzz\.test$|^api\.test$/);
      assert.equal(
        Buffer.from(read.question!.wireName, 'latin1').toString('latin1'),
        read.question!.wireName.replace(/[A-Z]/g, (c) => c.toLowerCase()),
      );
      assert.equal(q.length, 12 + read.question!.wireName.length + 4 + 11);
    }
  });

  it('replies made here hold at most 282 bytes, whatever the message', () => {
    fc.assert(
      fc.property(
        fc.oneof(messages, huge),
        fc.constantFrom('FORMERR', 'SERVFAIL', 'NXDOMAIN', 'REFUSED') as fc.Arbitrary<'FORMERR'>,
        (msg, rcode) => {
          const reply = localReply(msg, readQuery(msg), rcode);
          assert.ok(reply.length <= 282, `${reply.length} bytes`);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
