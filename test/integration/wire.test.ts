// Names checked on the wire (issue 14), against the real engine: one server on an --internal
// network answers two sites on one address, npm.registry.test and evil.test, over HTTPS (a test
// CA) and HTTP, IPv4 and IPv6, as a CDN does. Real clients in the build: curl, and node's tls and
// net for what curl cannot do (a second request on a kept-alive connection, a ClientHello in
// one-byte segments, a client that sends nothing).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { cli, dockerText, internalNet, requireEngine, workspace, type TestNet } from './harness.js';
import { CLIENT_IMAGE, TLS_DIR, startSite } from './sites.js';
import { TestUpstream } from './upstream.js';
import type { EvidenceRecord } from '../../src/report/record.js';

let net: TestNet;
let ws: string;
let upstream: TestUpstream;
let site: { name: string; ipv4: string; ipv6: string };
let registry: { name: string; ipv4: string; ipv6: string };

/** The build's helpers: `c LABEL ARGS...` runs curl and prints `LABEL ok: BODY` or `LABEL failed`. */
const PRELUDE = [
  'c() { label=$1; shift; if out=$(curl -sS --max-time 15 --cacert ca.pem "$@" 2>/dev/null); then echo "$label ok: $out"; else echo "$label failed"; fi; }',
];

// A second request on the same connection, after the first answer.
const KEEPALIVE = `import net from 'node:net';
const [host, first, second] = process.argv.slice(2);
const s = net.connect({ host, port: 80 });
let got = '';
s.on('data', (d) => {
  got += d;
  if (got.includes('site ' + first)) {
    console.log('first ok: site ' + first);
    got = '';
    s.write('GET / HTTP/1.1\\r\\nHost: ' + second + '\\r\\n\\r\\n');
  }
});
s.on('error', (e) => console.log('second refused: ' + e.code));
s.on('close', () => console.log(got.includes('site') ? 'second ok: ' + got.trim() : 'second closed'));
s.write('GET / HTTP/1.1\\r\\nHost: ' + first + '\\r\\n\\r\\n');
`;

// TLS whose every byte leaves in a segment of its own (TCP_NODELAY, one write per byte).
const SEGMENTS = `import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { Duplex } from 'node:stream';
const [host, name] = process.argv.slice(2);
const sock = net.connect({ host, port: 443 });
sock.setNoDelay(true);
const wire = new Duplex({
  read() {},
  write(chunk, _e, cb) {
    let i = 0;
    const next = () => (i >= chunk.length ? cb() : sock.write(chunk.subarray(i, ++i), () => setTimeout(next, 1)));
    next();
  },
});
sock.on('data', (d) => wire.push(d));
sock.on('end', () => wire.push(null));
sock.on('error', (e) => wire.destroy(e));
const t = tls.connect({ socket: wire, servername: name, ca: fs.readFileSync('ca.pem') }, () =>
  t.write('GET / HTTP/1.1\\r\\nHost: ' + name + '\\r\\nConnection: close\\r\\n\\r\\n'),
);
let body = '';
t.on('data', (d) => (body += d));
t.on('end', () => console.log('segments ' + name + (body.includes('site ' + name) ? ' ok' : ' failed')));
t.on('error', () => console.log('segments ' + name + ' failed'));
`;

// Two connections from one local port, to :80 and then :443. The build waits for the server's
// close before closing its side, so its port is not held in TIME_WAIT (curl may close first,
// and its second bind then fails: a fact of the client, not of the fence).
const SAME_PORT = `import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
const [host, name] = process.argv.slice(2);
const localPort = 40000;
const plain = net.connect({ host, port: 80, localPort, family: 4 });
let body = '';
plain.on('data', (d) => (body += d));
plain.on('error', (e) => console.log('p80 failed: ' + e.code));
plain.on('close', () => {
  console.log(body.includes('site ' + name) ? 'p80 ok: site ' + name : 'p80 failed');
  const t = tls.connect({ host, port: 443, localPort, family: 4, servername: name, ca: fs.readFileSync('ca.pem') }, () =>
    t.write('GET / HTTP/1.1\\r\\nHost: ' + name + '\\r\\nConnection: close\\r\\n\\r\\n'),
  );
  let secure = '';
  t.on('data', (d) => (secure += d));
  t.on('error', (e) => console.log('p443 failed: ' + e.code));
  t.on('end', () => console.log(secure.includes('site ' + name) ? 'p443 ok: site ' + name : 'p443 failed'));
});
plain.write('GET / HTTP/1.1\\r\\nHost: ' + name + '\\r\\nConnection: close\\r\\n\\r\\n');
`;

// A client that connects and sends nothing, and one that connects meanwhile and is served.
const SILENT = `import net from 'node:net';
import https from 'node:https';
import fs from 'node:fs';
const [host] = process.argv.slice(2);
const t0 = Date.now();
const silent = Array.from({ length: 50 }, () => net.connect({ host, port: 443 }).on('error', () => undefined));
silent[0].on('close', () => console.log('silent closed after ' + (Date.now() - t0) + ' ms'));
setTimeout(() => {
  const t1 = Date.now();
  https.get({ host, port: 443, servername: 'npm.registry.test', headers: { host: 'npm.registry.test' }, ca: fs.readFileSync('ca.pem') }, (res) => {
    res.resume();
    res.on('end', () => console.log('other ok in ' + (Date.now() - t1) + ' ms'));
  }).on('error', (e) => console.log('other failed: ' + e.message));
}, 200);
`;

before(async () => {
  await requireEngine();
  await dockerText(['image', 'inspect', '--format', '{{.Id}}', CLIENT_IMAGE]).catch(() => {
    throw new Error(`Image ${CLIENT_IMAGE} is missing. Run scripts/build-client-image.`);
  });
  [net, ws, upstream] = await Promise.all([internalNet(0), workspace(), new TestUpstream().start()]);
  [site, registry] = await Promise.all([startSite(net.name), startSite(net.name, 'registry.mjs')]);
  for (const name of ['npm.registry.test', 'api.registry.test', 'evil.test'])
    upstream.zone.set(name, { A: [site.ipv4], AAAA: [site.ipv6] });
  upstream.zone.set('packages.registry.test', { A: [registry.ipv4], AAAA: [registry.ipv6] });
  await fs.copyFile(path.join(TLS_DIR, 'ca.pem'), path.join(ws, 'ca.pem'));
  await Promise.all([
    fs.writeFile(path.join(ws, 'keepalive.mjs'), KEEPALIVE),
    fs.writeFile(path.join(ws, 'segments.mjs'), SEGMENTS),
    fs.writeFile(path.join(ws, 'silent.mjs'), SILENT),
    fs.writeFile(path.join(ws, 'same-port.mjs'), SAME_PORT),
  ]);
});

after(async () => {
  for (const c of [site, registry]) if (c) await dockerText(['rm', '--force', c.name]).catch(() => undefined);
  await net?.remove();
  await upstream?.stop();
  if (ws) await fs.rm(ws, { recursive: true, force: true });
});

async function run(
  allow: string[],
  script: string[],
  grade = 'release',
): Promise<{ out: Map<string, string>; record: EvidenceRecord; stderr: string }> {
  const report = path.join(ws, `report-${Date.now()}.json`);
  const r = await cli(
    [
      'run',
      '--network',
      net.name,
      '--pull',
      'never',
      '--image',
      CLIENT_IMAGE,
      '--grade',
      grade,
      '--dns-upstream',
      upstream.address,
      '--report',
      report,
      ...allow.flatMap((a) => ['--allow', a]),
      '--',
      [...PRELUDE, ...script].join('\n'),
    ],
    ws,
  );
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+(?: \S+)?) (ok|failed|refused|closed)(.*)$/.exec(line.trim());
    if (m) out.set(m[1], `${m[2]}${m[3]}`);
  }
  return { out, record: JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord, stderr: r.stderr };
}

const rows = (record: EvidenceRecord) =>
  record.denied
    .filter((d) => d.reason !== undefined)
    .map((d) => `${d.enforced ? 'refused' : 'recorded'} ${d.reason} ${d.asked ?? '-'} ${d.address}:${d.port} for ${d.names.join(',')}`)
    .sort();

describe('names checked on the wire', () => {
  it('block: the allowed name works over TLS and HTTP, IPv4 and IPv6; the co-tenant on its address is refused every way, and recorded; QUIC stays shut', async () => {
    const { ipv4: a4, ipv6: a6 } = site;
    const { out, record } = await run(
      ['npm.registry.test:443', 'npm.registry.test:80'],
      [
        'c tls4 https://npm.registry.test/',
        'c tls6 -6 https://npm.registry.test/',
        'c http4 http://npm.registry.test/',
        'c http6 -6 http://npm.registry.test/',
        `c sni4 --resolve evil.test:443:${a4} https://evil.test/`,
        `c sni6 --resolve evil.test:443:[${a6}] https://evil.test/`,
        `c nosni4 -k https://${a4}/`,
        `c nosni6 -k https://[${a6}]/`,
        'c host -4 -H "Host: evil.test" http://npm.registry.test/',
        `node keepalive.mjs ${a4} npm.registry.test evil.test`,
        `node segments.mjs ${a4} npm.registry.test`,
        `node segments.mjs ${a4} evil.test`,
        // QUIC's port over UDP: a TCP entry does not open it.
        `./probe udp ${a4} 443 500 || true`,
      ],
    );
    for (const ok of ['tls4', 'tls6', 'http4', 'http6']) assert.equal(out.get(ok), 'ok: site npm.registry.test', ok);
    for (const refused of ['sni4', 'sni6', 'nosni4', 'nosni6', 'host']) assert.equal(out.get(refused), 'failed', refused);
    assert.equal(out.get('first'), 'ok: site npm.registry.test');
    assert.match(out.get('second') ?? '', /^(refused|closed)/);
    assert.equal(out.get('segments npm.registry.test'), 'ok', 'a ClientHello in one-byte segments is read whole');
    assert.equal(out.get('segments evil.test'), 'failed');
    assert.deepEqual(rows(record), [
      `refused host evil.test ${a4}:80 for npm.registry.test`,
      `refused no-sni - ${a4}:443 for npm.registry.test`,
      `refused no-sni - ${a6}:443 for npm.registry.test`,
      `refused sni evil.test ${a4}:443 for npm.registry.test`,
      `refused sni evil.test ${a6}:443 for npm.registry.test`,
    ]);
    const quic = record.denied.find((d) => d.protocol === 'udp' && d.port === 443);
    assert.deepEqual(quic && [quic.address, quic.enforced, quic.reason, quic.names], [a4, true, undefined, ['npm.registry.test']]);
    // curl's Host, keepalive's second request, and the one-byte ClientHello: counted in their rows.
    assert.equal(record.denied.find((d) => d.reason === 'host')?.count, 2);
    assert.equal(record.denied.find((d) => d.reason === 'sni' && d.address === a4)?.count, 2);
  });

  it('one source port to two destinations: the second connection is still found (the checker has a range of ports)', async () => {
    // Both go to the checker; on one port of it, their conntrack entries would clash and the
    // kernel would give the second another source port, which its logged first packet does not carry.
    const { out, stderr } = await run(
      ['npm.registry.test:443', 'npm.registry.test:80'],
      ['node same-port.mjs npm.registry.test npm.registry.test'],
    );
    assert.equal(out.get('p80'), 'ok: site npm.registry.test');
    assert.equal(out.get('p443'), 'ok: site npm.registry.test', stderr);
    assert.doesNotMatch(stderr, /no destination was logged/);
  });

  it('an address entry reaches every name on its address, unchecked', async () => {
    const { out, record } = await run(
      [`${site.ipv4}:443`, `[${site.ipv6}]:443`],
      [
        `c sni4 --resolve evil.test:443:${site.ipv4} https://evil.test/`,
        `c sni6 --resolve evil.test:443:[${site.ipv6}] https://evil.test/`,
      ],
    );
    assert.equal(out.get('sni4'), 'ok: site evil.test');
    assert.equal(out.get('sni6'), 'ok: site evil.test');
    assert.deepEqual(rows(record), []);
  });

  it('a wildcard opens every name under it, and only those', async () => {
    const { out, record } = await run(
      ['*.registry.test:443'],
      [
        'c api https://api.registry.test/',
        'c npm https://npm.registry.test/',
        `c evil --resolve evil.test:443:${site.ipv4} https://evil.test/`,
      ],
    );
    assert.equal(out.get('api'), 'ok: site api.registry.test');
    assert.equal(out.get('npm'), 'ok: site npm.registry.test');
    assert.equal(out.get('evil'), 'failed');
    assert.deepEqual(rows(record), [`refused sni evil.test ${site.ipv4}:443 for api.registry.test,npm.registry.test`]);
  });

  it('audit records what block mode would refuse, and lets it through', async () => {
    const { out, record } = await run(
      ['npm.registry.test:443', 'npm.registry.test:80'],
      // The name is asked first: an address nobody asked for is recorded by the address rules instead.
      [
        'c tls https://npm.registry.test/',
        `c sni --resolve evil.test:443:${site.ipv4} https://evil.test/`,
        'c host -4 -H "Host: evil.test" http://npm.registry.test/',
      ],
      'dev',
    );
    assert.equal(out.get('sni'), 'ok: site evil.test');
    assert.equal(out.get('host'), 'ok: site evil.test');
    assert.equal(out.get('tls'), 'ok: site npm.registry.test');
    assert.deepEqual(rows(record), [
      `recorded host evil.test ${site.ipv4}:80 for npm.registry.test`,
      `recorded sni evil.test ${site.ipv4}:443 for npm.registry.test`,
    ]);
  });

  it('an opaque:// entry opens its name’s addresses unchecked: what it gives up', async () => {
    const { out, record } = await run(
      ['opaque://npm.registry.test:443'],
      ['c npm https://npm.registry.test/', `c evil --resolve evil.test:443:${site.ipv4} https://evil.test/`],
    );
    assert.equal(out.get('npm'), 'ok: site npm.registry.test');
    assert.equal(out.get('evil'), 'ok: site evil.test');
    assert.deepEqual(rows(record), []);
  });

  it('a client that sends nothing is refused after the bound; 50 of them do not stop another connection', async () => {
    const { out, record } = await run(['npm.registry.test:443'], ['c warm https://npm.registry.test/', `node silent.mjs ${site.ipv4}`]);
    assert.equal(out.get('warm'), 'ok: site npm.registry.test');
    const closed = Number(/after (\d+) ms/.exec(out.get('silent') ?? '')?.[1]);
    assert.ok(closed >= 4000 && closed < 9000, `silent connection closed after ${closed} ms`);
    const other = Number(/in (\d+) ms/.exec(out.get('other') ?? '')?.[1]);
    assert.ok(other < 3000, `the other connection took ${other} ms: ${out.get('other')}`);
    const opaque = record.denied.find((d) => d.reason === 'opaque');
    assert.equal(opaque?.count, 50);
  });

  it('npm ci of 70 packages through a name entry', async () => {
    const r = 'https://packages.registry.test';
    const { out, record } = await run(
      ['packages.registry.test:443'],
      [
        'mkdir -p /tmp/project && cd /tmp/project && cp "$OLDPWD/ca.pem" .',
        `c pkg -o package.json ${r}/-/package.json`,
        `c lock -o package-lock.json ${r}/-/package-lock.json`,
        `if npm ci --registry ${r}/ --cafile ca.pem --cache /tmp/npm-cache --no-audit --no-fund >/tmp/npm.log 2>&1; then echo "npm ok: $(ls node_modules | wc -l)"; else echo "npm failed: $(grep -i error /tmp/npm.log | head -n 12 | tr "\n" " ")"; fi`,
      ],
    );
    assert.equal(out.get('npm'), 'ok: 70', out.get('npm'));
    assert.equal(record.deniedTotal, 0, JSON.stringify(record.denied));
  });
});
