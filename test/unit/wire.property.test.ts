// Property tests of the name check's readers (src/wire/). The ClientHello reader against real
// ClientHellos (Node 20's and 24's tls, curl's and openssl's, captured on loopback into
// test/unit/fixtures/client-hello), split into any TCP segments and TLS records, generated ones
// and fuzzed ones, with OpenSSL (Node's tls server) as the judge of what a server would read. The
// HTTP reader against generated request streams, with Node's own HTTP parser as the judge.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import { CLIENT_HELLO_LIMIT, ClientHelloReader, type HelloVerdict } from '../../src/wire/client-hello.js';
import { HttpRequestReader, type RequestHead } from '../../src/wire/http-request.js';
import { readHostName } from '../../src/wire/host-name.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'client-hello');
const TLS_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'tls');
const serverContext = tls.createSecureContext({
  key: fs.readFileSync(path.join(TLS_DIR, 'server.key')),
  cert: fs.readFileSync(path.join(TLS_DIR, 'server.pem')),
});
const captured = Object.fromEntries(
  fs
    .readdirSync(FIXTURES)
    .map((f) => [f.replace(/\.hex$/, ''), Buffer.from(fs.readFileSync(path.join(FIXTURES, f), 'utf8').replace(/\s/g, ''), 'hex')]),
);
const EXPECTED: Record<string, string | undefined> = {
  'node20-tls': 'npm.registry.test',
  'node24-tls': 'npm.registry.test',
  'curl-openssl': 'npm.registry.test',
  'curl-openssl-no-sni': undefined,
  'openssl-tls12': 'evil.test',
  'openssl-tls13': 'www.evil.test',
};

/** `bytes` cut at the given points (sorted, deduplicated), in order. */
function segments(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

function readAll(parts: Buffer[]): HelloVerdict {
  const r = new ClientHelloReader();
  let v: HelloVerdict = { kind: 'more' };
  for (const p of parts) {
    v = r.push(p);
    if (v.kind !== 'more') break;
  }
  return v;
}

/** The handshake message of a single-record ClientHello, cut again into records at `cuts`. */
function rerecord(hello: Buffer, cuts: number[]): Buffer {
  const message = hello.subarray(5, 5 + hello.readUInt16BE(3));
  return Buffer.concat(
    segments(message, cuts)
      .filter((s) => s.length > 0)
      .map((s) => Buffer.concat([Buffer.from([0x16, 3, 1, s.length >> 8, s.length & 255]), s])),
  );
}

// ---- a ClientHello builder, for generated ones ----

const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const vec = (lengthBytes: 1 | 2 | 3, data: Buffer) =>
  Buffer.concat([
    lengthBytes === 1
      ? Buffer.from([data.length])
      : lengthBytes === 2
        ? u16(data.length)
        : Buffer.from([0, data.length >> 8, data.length & 255]),
    data,
  ]);
const sniExtension = (names: string[]) =>
  Buffer.concat([
    u16(0),
    vec(2, vec(2, Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([0]), vec(2, Buffer.from(n, 'latin1'))]))))),
  ]);
const extension = (type: number, data: Buffer) => Buffer.concat([u16(type), vec(2, data)]);

function clientHello(extensions: Buffer[], sessionId = Buffer.alloc(32, 7)): Buffer {
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 1),
    vec(1, sessionId),
    vec(2, Buffer.from([0x13, 0x01, 0x13, 0x02])),
    vec(1, Buffer.from([0])),
    vec(2, Buffer.concat(extensions)),
  ]);
  const message = Buffer.concat([Buffer.from([1]), vec(3, body)]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(message.length), message]);
}

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const hostName = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 4 }), fc.stringMatching(/^[a-z]{2,6}$/))
  .map(([labels, tld]) => [...labels, tld].join('.'));
/** Extension types other than server_name and ECH, distinct. */
const otherExtensions = fc.uniqueArray(
  fc.tuple(fc.integer({ min: 1, max: 0xfe00 }), fc.uint8Array({ maxLength: 40 })).map(([t, d]) => extension(t, Buffer.from(d))),
  { maxLength: 8, selector: (e) => e.readUInt16BE(0) },
);

// ---- OpenSSL as the judge: the name Node's tls server hands to SNICallback ----

/** What OpenSSL reads as the server name of `bytes`: a name, null for none, or 'rejected' when it refuses the handshake. */
type Judged = { name: string | null } | 'rejected';

function opensslServerName(bytes: Buffer): Promise<Judged> {
  return new Promise((resolve) => {
    let seen: string | undefined;
    const raw = new Duplex({
      read() {},
      write(_c, _e, cb) {
        cb();
      },
    });
    const named = (): Judged => ({ name: seen ?? null });
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: serverContext,
      SNICallback: (name, cb) => {
        seen = name;
        cb(null, undefined);
      },
    });
    let settled = false;
    const done = (v: Judged) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(v);
    };
    socket.on('error', () => done(seen === undefined ? 'rejected' : named()));
    // OpenSSL has read the ClientHello once it answers: a ServerHello (a handshake record) or an alert.
    raw._write = (chunk: Buffer, _e, cb) => {
      cb();
      done(seen !== undefined || chunk[0] === 0x16 ? named() : 'rejected');
    };
    raw.push(bytes);
    setTimeout(() => done(seen === undefined ? 'rejected' : named()), 200);
  });
}

describe('ClientHello reader', () => {
  it('reads the name of every captured ClientHello, in any TCP segments', () => {
    for (const [client, bytes] of Object.entries(captured)) {
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 30 }), (cuts) => {
          const v = readAll(segments(bytes, cuts));
          if (EXPECTED[client] === undefined) assert.equal(v.kind, 'refused', client);
          else assert.deepEqual(v, { kind: 'name', name: EXPECTED[client] }, client);
        }),
        { numRuns: 60 },
      );
    }
  });

  it('reads them one byte at a time, and in TLS records of any size, down to one byte each', () => {
    for (const [client, bytes] of Object.entries(captured)) {
      const expected = EXPECTED[client] === undefined ? 'refused' : EXPECTED[client];
      const byByte = readAll([...bytes].map((b) => Buffer.from([b])));
      assert.equal(byByte.kind === 'name' ? byByte.name : byByte.kind, expected, client);
      const oneByteRecords = rerecord(bytes, [...Array(bytes.length).keys()]);
      const v = readAll([oneByteRecords]);
      assert.equal(v.kind === 'name' ? v.name : v.kind, expected, client);
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 20 }), (recordCuts, tcpCuts) => {
          const w = readAll(segments(rerecord(bytes, recordCuts), tcpCuts));
          assert.equal(w.kind === 'name' ? w.name : w.kind, expected, client);
        }),
        { numRuns: 40 },
      );
    }
  });

  it('never answers before the whole ClientHello has arrived', () => {
    for (const bytes of Object.values(captured)) {
      for (let n = 0; n < bytes.length; n++) assert.equal(new ClientHelloReader().push(bytes.subarray(0, n)).kind, 'more');
    }
  });

  it('reads a generated ClientHello with one host_name among any other extensions', () => {
    fc.assert(
      fc.property(hostName, otherExtensions, fc.nat(), (name, others, at) => {
        const exts = [...others];
        exts.splice(at % (exts.length + 1), 0, sniExtension([name]));
        assert.deepEqual(readAll([clientHello(exts)]), { kind: 'name', name });
      }),
    );
  });

  it('refuses no name, two names, a repeated server_name, ECH, a name that is not a host name, and an oversized ClientHello', () => {
    fc.assert(
      fc.property(hostName, hostName, otherExtensions, (a, b, others) => {
        for (const exts of [
          others,
          [...others, sniExtension([a, b])],
          [sniExtension([a]), ...others, sniExtension([a])],
          [sniExtension([a]), extension(0xfe0d, Buffer.alloc(8)), ...others],
          [sniExtension([`${a}.`])],
          [sniExtension([`${a}\u0000.${b}`])],
          [sniExtension(['192.0.2.1'])],
        ]) {
          const v = readAll([clientHello(exts)]);
          assert.equal(v.kind, 'refused', JSON.stringify(v));
        }
      }),
      { numRuns: 50 },
    );
    const big = rerecord(clientHello([sniExtension(['a.test']), extension(21, Buffer.alloc(CLIENT_HELLO_LIMIT))]), [8000]);
    const v = readAll([big.subarray(0, 5 + 8000)]);
    assert.equal(v.kind === 'refused' && /at most/.test(v.detail), true, JSON.stringify(v));
  });

  it('never throws on fuzzed ClientHellos, and any name it reads is the name OpenSSL reads', async () => {
    const samples = Object.values(captured);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        async (which, flips) => {
          const bytes = Buffer.from(samples[which]);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          const v = readAll([bytes]);
          if (v.kind !== 'name') return;
          assert.equal(readHostName(v.name), v.name);
          const judged = await opensslServerName(bytes);
          // OpenSSL may refuse what this reader reads (it checks more), never read another name (it keeps the case).
          if (judged !== 'rejected') assert.equal(judged.name?.toLowerCase(), v.name);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('agrees with OpenSSL on every captured and generated ClientHello', async () => {
    for (const [client, bytes] of Object.entries(captured))
      assert.deepEqual(await opensslServerName(bytes), { name: EXPECTED[client] ?? null }, client);
    await fc.assert(
      fc.asyncProperty(hostName, otherExtensions, async (name, others) => {
        const hello = clientHello([sniExtension([name]), ...others]);
        const judged = await opensslServerName(hello);
        if (judged !== 'rejected') assert.equal(judged.name, name);
      }),
      { numRuns: 50 },
    );
  });
});

// ---- HTTP ----

interface GenRequest {
  method: string;
  target: string;
  host: string;
  fields: Array<[string, string]>;
  body: { kind: 'none' } | { kind: 'length'; data: string } | { kind: 'chunked'; chunks: string[]; trailers: Array<[string, string]> };
}

const fieldName = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/)
  .filter((n) => !/^(host|content-length|transfer-encoding|upgrade)$/i.test(n));
const fieldValue = fc.stringMatching(/^[!-~](?:[ !-~]{0,20}[!-~])?$/);
const bodyText = fc.string({ unit: fc.constantFrom('a', 'b', '\r', '\n', 'G', 'E', 'T', ' ', '/', 'H', ':', '0'), maxLength: 60 });
const request: fc.Arbitrary<GenRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH'),
  target: fc.stringMatching(/^\/[A-Za-z0-9/._~%?=&-]{0,30}$/),
  host: hostName,
  fields: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 5 }),
  body: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.record({ kind: fc.constant('length' as const), data: bodyText }),
    fc.record({
      kind: fc.constant('chunked' as const),
      chunks: fc.array(
        bodyText.filter((c) => c.length > 0),
        { maxLength: 4 },
      ),
      trailers: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 2 }),
    }),
  ),
});

function serialize(r: GenRequest): string {
  const head = [`${r.method} ${r.target} HTTP/1.1`, `Host: ${r.host}`, ...r.fields.map(([n, v]) => `${n}: ${v}`)];
  if (r.body.kind === 'length') return `${[...head, `Content-Length: ${r.body.data.length}`].join('\r\n')}\r\n\r\n${r.body.data}`;
  if (r.body.kind === 'none') return `${head.join('\r\n')}\r\n\r\n`;
  const chunks = r.body.chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('');
  const trailers = r.body.trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  return `${[...head, 'Transfer-Encoding: chunked'].join('\r\n')}\r\n\r\n${chunks}0\r\n${trailers}\r\n`;
}

function readRequests(parts: Buffer[]): { heads: RequestHead[]; ready: Buffer; refused?: string } {
  const r = new HttpRequestReader();
  const heads: RequestHead[] = [];
  const ready: Buffer[] = [];
  for (const p of parts) {
    const step = r.push(p);
    if (step.kind === 'refused') return { heads, ready: Buffer.concat(ready), refused: `${step.reason}: ${step.detail}` };
    heads.push(...step.heads);
    ready.push(step.ready);
  }
  return { heads, ready: Buffer.concat(ready) };
}

/** The Host of every request Node's HTTP server reads from `bytes`, and whether it refused the rest. */
function nodeHosts(bytes: Buffer): Promise<{ hosts: string[]; error: boolean }> {
  return new Promise((resolve) => {
    const hosts: string[] = [];
    let error = false;
    const server = http.createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      req.resume();
      req.on('end', () => res.end());
    });
    server.on('clientError', (_err, socket) => {
      error = true;
      socket.destroy();
    });
    const socket = new Duplex({
      read() {},
      write(_c, _e, cb) {
        cb();
      },
    });
    Object.assign(socket, { remoteAddress: '127.0.0.1', setTimeout: () => socket, setNoDelay: () => socket, setKeepAlive: () => socket });
    server.emit('connection', socket);
    socket.push(bytes);
    socket.push(null);
    setTimeout(() => resolve({ hosts, error }), 20);
  });
}

describe('HTTP request reader', () => {
  it('finds the Host of every request on a connection, in any segments, and passes every byte on', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 25 }), (requests, cuts) => {
        const bytes = Buffer.from(requests.map(serialize).join(''), 'latin1');
        const got = readRequests(segments(bytes, cuts));
        assert.equal(got.refused, undefined);
        assert.deepEqual(
          got.heads.map((h) => h.host),
          requests.map((r) => r.host),
        );
        assert.ok(got.ready.equals(bytes));
      }),
    );
  });

  it('holds back a request head until it is complete', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 25 }), (requests, cuts) => {
        const texts = requests.map(serialize);
        const bytes = Buffer.from(texts.join(''), 'latin1');
        // Where each head starts and ends in the stream.
        const heads: Array<[number, number]> = [];
        let at = 0;
        for (const t of texts) {
          heads.push([at, at + t.indexOf('\r\n\r\n') + 4]);
          at += t.length;
        }
        const r = new HttpRequestReader();
        let released = 0;
        let seen = 0;
        for (const part of segments(bytes, cuts)) {
          const step = r.push(part);
          assert.equal(step.kind, 'ok');
          if (step.kind !== 'ok') return;
          seen += step.heads.length;
          released += step.ready.length;
          // Released bytes never reach into a head that has not been returned.
          for (const [i, [start]] of heads.entries())
            if (i >= seen) assert.ok(released <= start, `released ${released}, head ${i} starts at ${start}`);
        }
      }),
    );
  });

  it('lets through only requests whose Host it read, as Node’s HTTP parser reads them, for generated and mutated streams', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('\r', '\n', ' ', ':', '\t', 'x', '0', 'G', '\u0000')), { maxLength: 3 }),
        async (requests, edits) => {
          const bytes = Buffer.from(requests.map(serialize).join(''), 'latin1');
          for (const [at, c] of edits) bytes[at % bytes.length] = c.charCodeAt(0);
          const ours = readRequests([bytes]);
          // What a server reads from the bytes the reader let through: only requests it read, with the same Host.
          const node = await nodeHosts(ours.ready);
          const hosts = ours.heads.map((h) => h.host);
          const read = node.hosts.map((h) => h.toLowerCase().replace(/\.?(:\d+)?$/, ''));
          assert.deepEqual(read, hosts.slice(0, read.length), `${ours.refused ?? ''}`);
          if (edits.length === 0) assert.deepEqual(read, hosts);
        },
      ),
      { numRuns: 300 },
    );
  });
});
