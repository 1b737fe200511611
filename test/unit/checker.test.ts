// The name checker's sockets on loopback: real clients (node's tls and http) through the checker
// to a TLS and an HTTP server that answer two names, the destination lines noted by hand as the
// NFLOG reader notes them in a run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Checker, type CheckerOptions } from '../../src/wire/checker.js';
import { DestinationBook } from '../../src/wire/destinations.js';
import { namePolicy } from '../../src/wire/policy.js';
import { parseAllowlist } from '../../src/policy/allowlist.js';

const TLS_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'tls');
const ca = fs.readFileSync(path.join(TLS_DIR, 'ca.pem'));
const HOST = '127.0.0.1';

/** A server for both names on one address: it answers with the name it was asked for. */
const site = (req: http.IncomingMessage, res: http.ServerResponse) => res.end(`site ${req.headers.host}\n`);
let httpsServer: https.Server;
let httpServer: http.Server;
let ports: { https: number; http: number };

before(async () => {
  httpsServer = https.createServer(
    { key: fs.readFileSync(path.join(TLS_DIR, 'server.key')), cert: fs.readFileSync(path.join(TLS_DIR, 'server.pem')) },
    site,
  );
  httpServer = http.createServer(site);
  const listen = (s: net.Server) => new Promise<number>((r) => s.listen(0, HOST, () => r((s.address() as net.AddressInfo).port)));
  ports = { https: await listen(httpsServer), http: await listen(httpServer) };
});
after(() => {
  httpsServer.close();
  httpServer.close();
});

async function startChecker(entries: string, options: Partial<CheckerOptions> = {}) {
  const book = new DestinationBook();
  const warnings: string[] = [];
  const checker = new Checker({
    mode: 'block',
    allows: namePolicy(parseAllowlist([entries], 'test'), []),
    destinations: book,
    namesOf: () => ['npm.registry.test'],
    guarded: () => false,
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  const port = await checker.listen([HOST]);
  checker.serve([HOST]);
  /** A client socket to the checker, its destination noted as the kernel's line would note it. */
  const connect = (destPort: number) => {
    const socket = net.connect({ host: HOST, port });
    socket.once('connect', () => book.note(HOST, socket.localPort!, { address: HOST, port: destPort }));
    return socket;
  };
  return { checker, connect, warnings, book, port };
}

function tlsGet(socket: net.Socket, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { createConnection: () => tls.connect({ socket, servername, ca }), path: '/', headers: { host: servername } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
  });
}

/** Sends raw HTTP on `socket` and resolves with everything it answered before closing (or the error). */
function rawExchange(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('error', (err) => resolve(`${got}[${(err as NodeJS.ErrnoException).code}]`));
    socket.on('close', () => resolve(got));
    socket.write(text);
  });
}

describe('name checker', () => {
  it('lets the allowed name through over TLS and records nothing', async () => {
    const { checker, connect } = await startChecker(`npm.registry.test:${ports.https}`);
    assert.equal(await tlsGet(connect(ports.https), 'npm.registry.test'), 'site npm.registry.test\n');
    assert.deepEqual(checker.decisionLog(), []);
    await checker.close();
  });

  it('refuses the allowed name on a port its entry does not open', async () => {
    const { checker, connect } = await startChecker('npm.registry.test:443');
    await assert.rejects(tlsGet(connect(ports.https), 'npm.registry.test'));
    assert.deepEqual(
      checker.decisionLog().map((r) => [r.name, r.reason, r.port]),
      [['npm.registry.test', 'sni', ports.https]],
    );
    await checker.close();
  });

  it('refuses the co-tenant by SNI and records the asked name, the address, the port and the name it was learned for', async () => {
    const { checker, connect } = await startChecker(`npm.registry.test:${ports.https}`);
    await assert.rejects(tlsGet(connect(ports.https), 'evil.test'), /ECONNRESET|socket hang up|disconnected/);
    const [row] = checker.decisionLog();
    assert.deepEqual(
      { name: row.name, address: row.address, port: row.port, learnedFor: row.learnedFor, reason: row.reason, enforced: row.enforced },
      { name: 'evil.test', address: HOST, port: ports.https, learnedFor: ['npm.registry.test'], reason: 'sni', enforced: true },
    );
    await checker.close();
  });

  it('refuses a second request for the co-tenant on a kept-alive HTTP connection, after answering the first', async () => {
    const { checker, connect } = await startChecker(`npm.registry.test:${ports.http}`);
    const socket = connect(ports.http);
    const first = await new Promise<string>((resolve) => {
      socket.once('data', (d: Buffer) => resolve(d.toString()));
      socket.write('GET / HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n');
    });
    const got = first + (await rawExchange(socket, 'GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n'));
    assert.match(got, /site npm\.registry\.test/);
    assert.doesNotMatch(got, /site evil\.test/);
    assert.deepEqual(
      checker.decisionLog().map((r) => [r.name, r.reason]),
      [['evil.test', 'host']],
    );
    await checker.close();
  });

  it('refuses a silent client after the first-bytes bound', async () => {
    const { checker, connect } = await startChecker(`npm.registry.test:${ports.http}`, { firstBytesMs: 150 });
    const started = Date.now();
    const got = await rawExchange(connect(ports.http), '');
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.match(got, /ECONNRESET|^$/);
    assert.deepEqual(
      checker.decisionLog().map((r) => r.reason),
      ['opaque'],
    );
    await checker.close();
  });

  it('records nothing for a connection closed before it sent a byte (an unused happy-eyeballs attempt)', async () => {
    const { checker, connect } = await startChecker(`npm.registry.test:${ports.http}`);
    const socket = connect(ports.http);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    await new Promise((r) => setTimeout(r, 50));
    socket.end();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(checker.decisionLog(), []);
    await checker.close();
  });

  it('keeps serving while a flood of silent connections waits', async () => {
    const { checker, connect } = await startChecker(`npm.registry.test:${ports.https}`, { maxPending: 20 });
    const silent = Array.from({ length: 200 }, () => connect(ports.https).on('error', () => undefined));
    const started = Date.now();
    assert.equal(await tlsGet(connect(ports.https), 'npm.registry.test'), 'site npm.registry.test\n');
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    for (const s of silent) s.destroy();
    await checker.close();
  });

  it('in audit mode records the co-tenant as would-be refused and lets it through', async () => {
    const { checker, connect } = await startChecker(`npm.registry.test:${ports.https}`, { mode: 'audit' });
    assert.equal(await tlsGet(connect(ports.https), 'evil.test'), 'site evil.test\n');
    assert.deepEqual(
      checker.decisionLog().map((r) => [r.name, r.reason, r.enforced]),
      [['evil.test', 'sni', false]],
    );
    await checker.close();
  });

  it('refuses a connection whose destination was never logged, and one to a guarded address', async () => {
    const { checker, port, warnings } = await startChecker(`npm.registry.test:${ports.https}`, { destinationMs: 100 });
    const got = await rawExchange(net.connect({ host: HOST, port }), 'GET / HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n');
    assert.doesNotMatch(got, /site/);
    assert.match(warnings.join('\n'), /no destination was logged/);
    await checker.close();
    const g = await startChecker(`npm.registry.test:${ports.http}`, { guarded: () => true });
    const got2 = await rawExchange(g.connect(ports.http), 'GET / HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n');
    assert.doesNotMatch(got2, /site/);
    assert.match(g.warnings.join('\n'), /guarded address/);
    await g.checker.close();
  });

  describe('relays a large answer to a slow reader byte for byte', () => {
    const body = Buffer.from(Array.from({ length: 20 * 1024 * 1024 }, (_, i) => (i * 7919) % 251));
    let big: http.Server;
    let port: number;
    before(async () => {
      big = http.createServer((_req, res) => res.end(body));
      port = await new Promise<number>((r) => big.listen(0, HOST, () => r((big.address() as net.AddressInfo).port)));
    });
    after(() => big.close());
    const fetchSlowly = (connect: (p: number) => net.Socket) =>
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = connect(port);
        // A slow reader: the relay must wait for it, never overwrite what it has not sent yet.
        socket.on('data', (d: Buffer) => {
          chunks.push(Buffer.from(d));
          socket.pause();
          setTimeout(() => socket.resume(), 1);
        });
        socket.on('end', () => resolve(Buffer.concat(chunks)));
        socket.on('error', reject);
        socket.write('GET / HTTP/1.1\r\nHost: npm.registry.test\r\nConnection: close\r\n\r\n');
      });
    const answered = (got: Buffer) => got.subarray(got.indexOf('\r\n\r\n') + 4);

    it('through a buffer of its own, reused between reads and by the next connection', async () => {
      const { checker, connect } = await startChecker(`npm.registry.test:${port}`, { bufferedRelays: 1 });
      const [a, b] = await Promise.all([fetchSlowly(connect), fetchSlowly(connect)]);
      assert.ok(answered(a).equals(body));
      assert.ok(answered(b).equals(body));
      assert.ok(answered(await fetchSlowly(connect)).equals(body));
      await checker.close();
    });

    it('through streams, past the connections that hold a buffer', async () => {
      const { checker, connect } = await startChecker(`npm.registry.test:${port}`, { bufferedRelays: 0 });
      assert.ok(answered(await fetchSlowly(connect)).equals(body));
      await checker.close();
    });
  });

  it('relays at most maxRelays connections at once: past them a new one is refused, with a warning said once', async () => {
    const { checker, connect, warnings } = await startChecker(`npm.registry.test:${ports.http}`, { maxRelays: 1 });
    const held = connect(ports.http);
    const first = new Promise<string>((resolve) => held.once('data', (d: Buffer) => resolve(d.toString())));
    held.write('GET / HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n');
    assert.match(await first, /site npm\.registry\.test/);
    for (let i = 0; i < 2; i++) {
      const got = await rawExchange(connect(ports.http), 'GET / HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n');
      assert.doesNotMatch(got, /site/);
    }
    assert.equal(warnings.filter((w) => /relayed at once/.test(w)).length, 1, warnings.join('\n'));
    held.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const again = await rawExchange(connect(ports.http), 'GET / HTTP/1.1\r\nHost: npm.registry.test\r\nConnection: close\r\n\r\n');
    assert.match(again, /site npm\.registry\.test/);
    await checker.close();
  });

  it('serves only the holder’s addresses', async () => {
    const { checker, connect } = await startChecker(`npm.registry.test:${ports.http}`);
    checker.serve(['192.0.2.1']);
    const got = await rawExchange(connect(ports.http), 'GET / HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n');
    assert.doesNotMatch(got, /site/);
    await checker.close();
  });
});
