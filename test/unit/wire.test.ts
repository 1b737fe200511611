// The name check of one connection (src/wire/check.ts): the attacks of issue 14, byte by byte.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConnectionCheck, type WireStep } from '../../src/wire/check.js';
import { HttpRequestReader } from '../../src/wire/http-request.js';
import { readHostName } from '../../src/wire/host-name.js';

const hello = (client: string) =>
  Buffer.from(
    fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'client-hello', `${client}.hex`), 'utf8').replace(/\s/g, ''),
    'hex',
  );
const allowed = new Set(['npm.registry.test 443', 'npm.registry.test 80']);
const policy = (name: string, port: number) => allowed.has(`${name} ${port}`);

function check(port: number, ...parts: Array<string | Buffer>): WireStep[] {
  const c = new ConnectionCheck(port, policy);
  return parts.map((p) => c.push(typeof p === 'string' ? Buffer.from(p, 'latin1') : p));
}

const last = (steps: WireStep[]) => steps[steps.length - 1];
const refusal = (step: WireStep) => (step.kind === 'refused' ? { reason: step.reason, name: step.name } : step.kind);

describe('name check of a connection', () => {
  it('lets a ClientHello for an allowed name through whole, then everything after it', () => {
    const ch = hello('node24-tls');
    const steps = check(443, ch.subarray(0, 100), ch.subarray(100), 'after');
    assert.equal(steps[0].kind, 'more');
    assert.deepEqual(steps[1], { kind: 'pass', forward: ch, names: ['npm.registry.test'] });
    assert.deepEqual(steps[2], { kind: 'pass', forward: Buffer.from('after'), names: [] });
  });

  it('refuses the co-tenant by SNI, no SNI, and an allowed name on a port its entry does not open', () => {
    assert.deepEqual(refusal(last(check(443, hello('openssl-tls12')))), { reason: 'sni', name: 'evil.test' });
    assert.deepEqual(refusal(last(check(443, hello('curl-openssl-no-sni')))), { reason: 'no-sni', name: undefined });
    assert.deepEqual(refusal(last(check(8443, hello('curl-openssl')))), { reason: 'sni', name: 'npm.registry.test' });
  });

  it('refuses a ClientHello in one-byte segments for the co-tenant, and passes none of its bytes', () => {
    const steps = check(443, ...[...hello('openssl-tls13')].map((b) => Buffer.from([b])));
    assert.ok(steps.slice(0, -1).every((s) => s.kind === 'more'));
    assert.deepEqual(refusal(last(steps)), { reason: 'sni', name: 'www.evil.test' });
  });

  it('checks the Host of every request on a kept-alive connection', () => {
    const first = 'GET /a HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n';
    const steps = check(80, first, 'GET /b HTTP/1.1\r\nHost: EVIL.test\r\n\r\n');
    assert.deepEqual(steps[0], { kind: 'pass', forward: Buffer.from(first), names: ['npm.registry.test'] });
    assert.deepEqual(refusal(steps[1]), { reason: 'host', name: 'evil.test' });
  });

  it('finds a request hidden in no body, and none inside a body', () => {
    const smuggled =
      'POST / HTTP/1.1\r\nHost: npm.registry.test\r\nContent-Length: 40\r\n\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n......';
    assert.equal(last(check(80, smuggled)).kind, 'pass');
    const chunked = 'POST / HTTP/1.1\r\nHost: npm.registry.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    assert.deepEqual(refusal(last(check(80, chunked, 'GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n'))), { reason: 'host', name: 'evil.test' });
  });

  it('refuses what a server could frame or route otherwise', () => {
    const refused: Array<[string, string, string | undefined]> = [
      ['GET http://evil.test/ HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n', 'host', 'evil.test'],
      ['GET / HTTP/1.1\r\nHost: npm.registry.test\r\nHost: evil.test\r\n\r\n', 'host', undefined],
      ['GET / HTTP/1.1\r\n\r\n', 'host', undefined],
      ['GET / HTTP/1.0\r\n\r\n', 'host', undefined],
      ['GET / HTTP/1.1\r\nHost: npm.registry.test\r\nX: a\r\n b\r\n\r\n', 'host', undefined],
      ['GET / HTTP/1.1\nHost: npm.registry.test\r\n\r\n', 'host', undefined],
      [
        'POST / HTTP/1.1\r\nHost: npm.registry.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
        'host',
        'npm.registry.test',
      ],
      ['POST / HTTP/1.1\r\nHost: npm.registry.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'host', 'npm.registry.test'],
      ['POST / HTTP/1.1\r\nHost: npm.registry.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', 'host', 'npm.registry.test'],
      ['GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n', 'host', undefined],
      ['GET / HTTP/1.1\r\nHost : npm.registry.test\r\n\r\n', 'host', undefined],
      ['CONNECT evil.test:443 HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n', 'opaque', 'npm.registry.test'],
      ['GET / HTTP/1.1\r\nHost: npm.registry.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 'opaque', 'npm.registry.test'],
      ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'opaque', undefined],
      ['SSH-2.0-OpenSSH_9.2\r\n', 'opaque', undefined],
      ['\x00\x01\x02\x03', 'opaque', undefined],
    ];
    for (const [text, reason, name] of refused) assert.deepEqual(refusal(last(check(80, text))), { reason, name }, JSON.stringify(text));
  });

  it('lets an allowed absolute-form request and OPTIONS * through', () => {
    assert.equal(last(check(80, 'GET http://npm.registry.test:80/x HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n')).kind, 'pass');
    assert.equal(last(check(80, 'OPTIONS * HTTP/1.1\r\nHost: npm.registry.test\r\n\r\n')).kind, 'pass');
  });

  it('stays refused once refused', () => {
    const c = new ConnectionCheck(443, policy);
    assert.equal(c.push(hello('openssl-tls12')).kind, 'refused');
    assert.equal(c.push(hello('curl-openssl')).kind, 'refused');
  });

  it('bounds what it holds: a head that never ends is refused', () => {
    const r = new HttpRequestReader();
    r.push(Buffer.from('GET / HTTP/1.1\r\nHost: npm.registry.test\r\n'));
    let step = r.push(Buffer.alloc(1000, 'a'));
    for (let i = 0; i < 70 && step.kind === 'ok'; i++) step = r.push(Buffer.alloc(1000, 'a'));
    assert.equal(step.kind, 'refused');
  });

  it('reads host names as name entries are written', () => {
    assert.equal(readHostName('NPM.Registry.Test.'), 'npm.registry.test');
    for (const bad of ['', '.', 'a..b', '-a.test', 'a-.test', 'a b.test', '192.0.2.1', '[::1]', 'é.test', `${'a'.repeat(64)}.test`]) {
      assert.equal(readHostName(bad), undefined, bad);
    }
  });
});
