// Names checked on the wire (issue 14), against the real engine: one server on an --internal
// network answers two sites on one address, npm.registry.test and evil.test, over HTTPS (a test
// CA) and HTTP, IPv4 and IPv6, as a CDN does. Real clients in the build: curl, and node's tls and
// net for what curl cannot do (a second request on a kept-alive connection, a ClientHello in
// one-byte segments, a client that sends nothing).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  HOLDER_IMAGE,
  cli,
  dockerText,
  internalNet,
  requireEngine,
  resourcesOf,
  startCliUntil,
  until,
  workspace,
  type TestNet,
} from './harness.js';
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

// A 20 MB upload, then a second request on the same connection, after the first answer.
const UPLOAD = `import net from 'node:net';
const [label, host, first, second] = process.argv.slice(2);
const s = net.connect({ host, port: 80 });
const body = Buffer.alloc(20000000, 97);
s.write('PUT /up HTTP/1.1\\r\\nHost: ' + first + '\\r\\nContent-Length: ' + body.length + '\\r\\n\\r\\n');
s.write(body);
let got = '';
s.on('data', (d) => {
  got += d;
  if (got.includes('site ' + first)) {
    console.log(label + ' ok: site ' + first);
    got = '';
    s.write('GET / HTTP/1.1\\r\\nHost: ' + second + '\\r\\n\\r\\n');
  }
});
s.on('error', (e) => console.log(label + '-after refused: ' + e.code));
s.on('close', () => console.log(got.includes('site') ? label + '-after ok: ' + got.trim() : label + '-after closed'));
`;

// An HTTP request whose first 2 bytes leave one per segment (TCP_NODELAY, one write each), then the rest.
const HTTP_SEGMENTS = `import net from 'node:net';
const [host, name] = process.argv.slice(2);
const s = net.connect({ host, port: 80 });
s.setNoDelay(true);
const parts = [...'GE'].concat('T / HTTP/1.1\\r\\nHost: ' + name + '\\r\\nConnection: close\\r\\n\\r\\n');
const next = () => parts.length > 0 && s.write(parts.shift(), () => setTimeout(next, 1));
next();
let got = '';
s.on('data', (d) => (got += d));
s.on('error', () => undefined);
s.on('close', () => console.log('http-segments ' + name + (got.includes('site ' + name) ? ' ok' : ' failed')));
`;

// TLS whose first bytes leave in segments of their own (TCP_NODELAY, one write each): `all` sends
// every byte alone; a list of sizes (`1,1,1`) sends those first, then the rest at once.
const SEGMENTS = `import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { Duplex } from 'node:stream';
const [host, name, split] = process.argv.slice(2);
const sizes = split === 'all' ? undefined : split.split(',').map(Number);
let pieces = 0;
const sock = net.connect({ host, port: 443 });
sock.setNoDelay(true);
const wire = new Duplex({
  read() {},
  write(chunk, _e, cb) {
    const parts = [];
    for (let at = 0; at < chunk.length; ) {
      const n = sizes ? (sizes[pieces + parts.length] ?? chunk.length - at) : 1;
      parts.push(chunk.subarray(at, at + n));
      at += n;
    }
    pieces += parts.length;
    const next = () => (parts.length === 0 ? cb() : sock.write(parts.shift(), () => setTimeout(next, 1)));
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
t.on('end', () => console.log('segments-' + split + ' ' + name + (body.includes('site ' + name) ? ' ok' : ' failed')));
t.on('error', () => console.log('segments-' + split + ' ' + name + ' failed'));
`;

// Clients that connect and send nothing (port 80), one that connects meanwhile and is served, and
// one of the silent ones that asks for an allowed name after the bound.
const SILENT = `import net from 'node:net';
import https from 'node:https';
import fs from 'node:fs';
const [host] = process.argv.slice(2);
const t0 = Date.now();
const silent = Array.from({ length: 50 }, () => net.connect({ host, port: 80 }).on('error', () => undefined));
let got = '';
silent[0].on('data', (d) => (got += d));
silent[0].on('close', () => {
  console.log('silent ' + (got.includes('site') ? 'ok' : 'refused') + ' after ' + (Date.now() - t0) + ' ms');
  for (const s of silent) s.destroy();
});
setTimeout(() => silent[0].write('GET / HTTP/1.1\\r\\nHost: npm.registry.test\\r\\n\\r\\n'), 5500);
setTimeout(() => {
  const t1 = Date.now();
  https.get({ host, port: 443, servername: 'npm.registry.test', headers: { host: 'npm.registry.test' }, ca: fs.readFileSync('ca.pem') }, (res) => {
    res.resume();
    res.on('end', () => console.log('other ok in ' + (Date.now() - t1) + ' ms'));
  }).on('error', (e) => console.log('other failed: ' + e.message));
}, 200);
`;

// A TLS client that connects, waits \`ms\`, then says hello (the fast path holds nothing meanwhile).
const LATE = `import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
const [host, name, ms] = process.argv.slice(2);
const sock = net.connect({ host, port: 443 }, () =>
  setTimeout(() => {
    const t = tls.connect({ socket: sock, servername: name, ca: fs.readFileSync('ca.pem') }, () => {
      console.log('late ok');
      t.end();
    });
    t.on('error', (e) => console.log('late failed: ' + e.code));
  }, Number(ms)),
);
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
    fs.writeFile(path.join(ws, 'late.mjs'), LATE),
    fs.writeFile(path.join(ws, 'http-segments.mjs'), HTTP_SEGMENTS),
    fs.writeFile(path.join(ws, 'upload.mjs'), UPLOAD),
  ]);
});

after(async () => {
  for (const c of [site, registry]) if (c) await dockerText(['rm', '--force', c.name]).catch(() => undefined);
  await net?.remove();
  await upstream?.stop();
  if (ws) await fs.rm(ws, { recursive: true, force: true });
});

/** The CLI's arguments for a run of `script` (after the curl helper) with `allow`, its record written to `report`. */
function runArgs(allow: string[], script: string[], grade: string, report: string): string[] {
  return [
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
  ];
}

async function run(
  allow: string[],
  script: string[],
  grade = 'release',
): Promise<{ out: Map<string, string>; record: EvidenceRecord; stderr: string }> {
  const report = path.join(ws, `report-${Date.now()}.json`);
  const r = await cli(runArgs(allow, script, grade, report), ws);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+(?: \S+)?) (ok|failed|refused|closed)(.*)$/.exec(line.trim());
    if (m) out.set(m[1], `${m[2]}${m[3]}`);
  }
  return { out, record: JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord, stderr: r.stderr };
}

/** site.mjs's log from line `from` on: what it received on each TLS connection (by the client's port), the names it read (SNI, HTTP Host), its TLS errors. */
async function serverLog(
  from: number,
): Promise<{ received: Array<[number, number]>; hellos: string[]; requests: string[]; errors: string[]; lines: number }> {
  const lines = (await dockerText(['logs', site.name])).split('\n');
  const fresh = lines.slice(from);
  const words = (prefix: string) => fresh.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  return {
    received: words('received 443 ').map((w) => w.split(' ').slice(1).map(Number) as [number, number]),
    hellos: words('hello '),
    requests: words('request 80 '),
    errors: words('tls-error '),
    lines: lines.length,
  };
}

const rows = (record: EvidenceRecord) =>
  record.denied
    .filter((d) => d.reason !== undefined)
    .map((d) => `${d.enforced ? 'refused' : 'recorded'} ${d.reason} ${d.asked ?? '-'} ${d.address}:${d.port} for ${d.names.join(',')}`)
    .sort();

describe('names checked on the wire', () => {
  it('block: the allowed name works over TLS and HTTP, IPv4 and IPv6; the co-tenant on its address is refused every way, and recorded; QUIC stays shut', async () => {
    const { ipv4: a4, ipv6: a6 } = site;
    const logFrom = (await serverLog(0)).lines;
    const { out, record } = await run(
      ['npm.registry.test:443', 'npm.registry.test:80'],
      [
        'c tls4 https://npm.registry.test/',
        'c tls6 -6 https://npm.registry.test/',
        'c http4 http://npm.registry.test/',
        'c http6 -6 http://npm.registry.test/',
        // From known ports, to find them in the server's log (what it received on each connection).
        'c tls4 --local-port 41004 https://npm.registry.test/',
        `c sni4 --local-port 41001 --resolve evil.test:443:${a4} https://evil.test/`,
        `c sni6 --resolve evil.test:443:[${a6}] https://evil.test/`,
        `c nosni4 --local-port 41002 -k https://${a4}/`,
        `c nosni6 -k https://[${a6}]/`,
        // Plain HTTP on the port TLS takes: read as HTTP, its Host checked.
        'c plain443 -4 --local-port 41003 -H "Host: evil.test" http://npm.registry.test:443/',
        'c host -4 -H "Host: evil.test" http://npm.registry.test/',
        `node keepalive.mjs ${a4} npm.registry.test evil.test`,
        // The ClientHello's first 2 bytes in segments of one byte each, then the rest: 3 segments, put
        // together in order. (Not more: the held segments count against TCP small queues, which
        // allows as few as 2 or 3 on their way when the handshake's round trip was slow.)
        `node segments.mjs ${a4} npm.registry.test 1,1`,
        `node segments.mjs ${a4} evil.test 1,1`,
        `node http-segments.mjs ${a4} npm.registry.test`,
        `node http-segments.mjs ${a4} evil.test`,
        // QUIC's port over UDP: a TCP entry does not open it.
        `./probe udp ${a4} 443 500 || true`,
      ],
    );
    for (const ok of ['tls4', 'tls6', 'http4', 'http6']) assert.equal(out.get(ok), 'ok: site npm.registry.test', ok);
    for (const refused of ['sni4', 'sni6', 'nosni4', 'nosni6', 'plain443', 'host']) assert.equal(out.get(refused), 'failed', refused);
    assert.equal(out.get('first'), 'ok: site npm.registry.test');
    assert.match(out.get('second') ?? '', /^(refused|closed)/);
    assert.equal(out.get('segments-1,1 npm.registry.test'), 'ok', 'a ClientHello in segments is put together');
    assert.equal(out.get('segments-1,1 evil.test'), 'failed');
    assert.equal(out.get('http-segments npm.registry.test'), 'ok', 'a request head in segments is put together');
    assert.equal(out.get('http-segments evil.test'), 'failed');
    // The refused connections' handshakes reached the server; not one byte of their payload did:
    // it never read their ClientHellos (nor the HTTP request sent on 443) or their HTTP requests
    // (the co-tenant's, by Host, kept-alive, in segments), and closed them with nothing received
    // (those it logged with their ports; one reset before it was served has none left).
    let log = await serverLog(logFrom);
    await until(async () => (log = await serverLog(logFrom)).received.filter(([, b]) => b === 0).length >= 6, 5000).catch(() => undefined);
    assert.deepEqual([...new Set(log.hellos)].sort(), ['npm.registry.test'], JSON.stringify(log));
    assert.deepEqual([...new Set(log.requests)].sort(), ['npm.registry.test'], JSON.stringify(log));
    // Resets before a ClientHello, nothing it read and could not parse (ERR_SSL_HTTP_REQUEST for the HTTP request, say).
    assert.deepEqual(
      log.errors.filter((e) => e !== 'ECONNRESET'),
      [],
    );
    for (const port of [41001, 41002, 41003]) {
      const seen = log.received.find(([p]) => p === port);
      assert.ok(!seen || seen[1] === 0, `port ${port}: ${JSON.stringify(log.received)}`);
    }
    assert.ok((log.received.find(([p]) => p === 41004)?.[1] ?? 0) > 0, 'the allowed connection is logged with what it sent');
    // Refused: sni4, sni6, nosni4, nosni6, plain443 and the co-tenant's segments.
    assert.ok(log.received.filter(([, bytes]) => bytes === 0).length >= 6, JSON.stringify(log.received));
    assert.deepEqual(rows(record), [
      `refused host evil.test ${a4}:443 for npm.registry.test`,
      `refused host evil.test ${a4}:80 for npm.registry.test`,
      `refused no-sni - ${a4}:443 for npm.registry.test`,
      `refused no-sni - ${a6}:443 for npm.registry.test`,
      `refused sni evil.test ${a4}:443 for npm.registry.test`,
      `refused sni evil.test ${a6}:443 for npm.registry.test`,
    ]);
    const quic = record.denied.find((d) => d.protocol === 'udp' && d.port === 443);
    assert.deepEqual(quic && [quic.address, quic.enforced, quic.reason, quic.names], [a4, true, undefined, ['npm.registry.test']]);
    // curl's Host, keepalive's second request, the request head in segments, and the one-byte ClientHello: counted in their rows.
    assert.equal(record.denied.find((d) => d.reason === 'host' && d.port === 80)?.count, 3);
    assert.equal(record.denied.find((d) => d.reason === 'sni' && d.address === a4)?.count, 2, JSON.stringify(record.denied));
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

  it('a client that sends nothing for the bound is refused when it speaks; 50 of them do not stop another connection', async () => {
    const { out, record } = await run(
      ['npm.registry.test:443', 'npm.registry.test:80'],
      ['c warm https://npm.registry.test/', `node silent.mjs ${site.ipv4}`],
    );
    assert.equal(out.get('warm'), 'ok: site npm.registry.test');
    assert.match(out.get('silent') ?? '', /^refused after/);
    const closed = Number(/after (\d+) ms/.exec(out.get('silent') ?? '')?.[1]);
    assert.ok(closed >= 5500 && closed < 9000, `silent connection closed after ${closed} ms`);
    const other = Number(/in (\d+) ms/.exec(out.get('other') ?? '')?.[1]);
    assert.ok(other < 3000, `the other connection took ${other} ms: ${out.get('other')}`);
    const opaque = record.denied.filter((d) => d.reason === 'opaque');
    assert.deepEqual(
      opaque.map((d) => [d.count, d.detail]),
      [[1, 'the client sent nothing for 5 s']],
    );
  });

  it('TLS: a ClientHello in one-byte segments cannot be whole (TCP sends 10 before an acknowledgement) and is refused after the bound; one that comes late is refused', async () => {
    const { out, record } = await run(
      ['npm.registry.test:443'],
      [
        'c warm https://npm.registry.test/',
        `node segments.mjs ${site.ipv4} npm.registry.test all`,
        `node late.mjs ${site.ipv4} npm.registry.test 5500`,
      ],
    );
    assert.equal(out.get('segments-all npm.registry.test'), 'failed');
    // The build's socket is destroyed (ECONNABORTED), or reset by the rules (ECONNRESET).
    assert.match(out.get('late') ?? '', /^failed: (ECONNABORTED|ECONNRESET)/);
    const why = record.denied.filter((d) => d.reason !== undefined).map((d) => `${d.reason} ${d.address}:${d.port} ${d.detail}`);
    assert.equal(why.length, 2, why.join('\n'));
    assert.ok(
      why.some((w) => w.startsWith(`no-sni ${site.ipv4}:443 the ClientHello was not whole within 5 s`)),
      why.join('\n'),
    );
    assert.ok(
      why.some((w) => w.startsWith(`opaque ${site.ipv4}:443 the client sent nothing for 5 s`)),
      why.join('\n'),
    );
  });

  it('TLS: once checked, a connection runs in the kernel: a 20 MB upload sends a handful of packets through the queue', async () => {
    const report = path.join(ws, `report-${Date.now()}.json`);
    const script = [
      'head -c 20000000 /dev/zero > /tmp/upload',
      'c up -4 -T /tmp/upload https://npm.registry.test/',
      'c up6 -6 -T /tmp/upload https://npm.registry.test/',
      'echo UPLOADED; sleep 30',
    ];
    const cliRun = await startCliUntil(runArgs(['npm.registry.test:443'], script, 'release', report), ws, 'UPLOADED');
    try {
      assert.match(cliRun.output(), /up ok: site npm\.registry\.test/);
      assert.match(cliRun.output(), /up6 ok: site npm\.registry\.test/);
      const holder = (await resourcesOf(cliRun.child.pid!)).find((n) => n.endsWith('-holder'))!;
      for (const save of ['iptables-save', 'ip6tables-save']) {
        const rules = await dockerText(['exec', holder, save, '-c', '-t', 'filter']);
        const queued = /^\[(\d+):(\d+)\] -A BF-CHECK -p tcp -j NFQUEUE/m.exec(rules);
        assert.ok(queued, rules);
        // The handshake and the ClientHello; not the 20 MB (over 13,000 segments of 1,448 bytes).
        assert.ok(Number(queued[1]) < 20, `${save}: ${queued[1]} packets (${queued[2]} bytes) went through the queue`);
      }
    } finally {
      cliRun.child.kill('SIGTERM');
      await cliRun.done;
    }
  });

  it('HTTP: a large body goes on unread, and the request after it on the connection is still read, IPv4 and IPv6', async () => {
    const logFrom = (await serverLog(0)).lines;
    const { out, record } = await run(
      ['npm.registry.test:80'],
      // The name is asked first: its address is learned for it.
      [
        'c warm4 -4 http://npm.registry.test/',
        'c warm6 -6 http://npm.registry.test/',
        `node upload.mjs up4 ${site.ipv4} npm.registry.test evil.test`,
        `node upload.mjs up6 ${site.ipv6} npm.registry.test evil.test`,
      ],
    );
    for (const f of ['4', '6']) {
      assert.equal(out.get(`warm${f}`), 'ok: site npm.registry.test');
      assert.equal(out.get(`up${f}`), 'ok: site npm.registry.test');
      assert.match(out.get(`up${f}-after`) ?? '', /^(refused|closed)/);
    }
    const log = await serverLog(logFrom);
    assert.deepEqual(log.requests, Array(4).fill('npm.registry.test'), JSON.stringify(log));
    assert.deepEqual(rows(record), [
      `refused host evil.test ${site.ipv4}:80 for npm.registry.test`,
      `refused host evil.test ${site.ipv6}:80 for npm.registry.test`,
    ]);
  });

  it('the packet queue program ends during the build: the build is stopped and the run fails, saying why', async () => {
    const report = path.join(ws, `report-${Date.now()}.json`);
    const script = ['c warm https://npm.registry.test/', 'echo WARMED; sleep 60; echo STILL-RUNNING'];
    const cliRun = await startCliUntil(runArgs(['npm.registry.test:443'], script, 'release', report), ws, 'WARMED');
    const holder = (await resourcesOf(cliRun.child.pid!)).find((n) => n.endsWith('-holder'))!;
    await dockerText(['exec', holder, 'sh', '-c', 'kill $(pidof wire-queue)']);
    const r = await cliRun.done;
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(
      r.stdout + r.stderr,
      /the name check's packet queue in the holder ended; connections to name entries' addresses could no longer be checked/,
    );
    assert.doesNotMatch(r.stdout, /STILL-RUNNING/);
    const record = JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord & { failure?: string };
    assert.match(record.failure ?? '', /packet queue/);
  });

  it('a holder image without the packet queue program fails the step before the build starts, saying so', async () => {
    const tag = `buildfence-test/holder-noqueue:${randomBytes(4).toString('hex')}`;
    const maker = await dockerText(['create', '--label', 'buildfence-test=1', HOLDER_IMAGE, 'rm', '/usr/lib/buildfence/wire-queue']);
    try {
      await dockerText(['start', '--attach', maker]);
      await dockerText(['commit', maker, tag]);
      const report = path.join(ws, `report-${Date.now()}.json`);
      const args = runArgs(['npm.registry.test:443'], ['echo BUILD-RAN'], 'release', report);
      const r = await cli(['run', '--holder-image', tag, ...args.slice(1)], ws);
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.stdout, /BUILD-RAN/);
      assert.match(
        r.stderr,
        /The name check's packet queue did not start in the holder \(.*\)\. The holder image needs \/usr\/lib\/buildfence\/wire-queue/,
      );
      assert.deepEqual(await resourcesOf(r.pid), []);
    } finally {
      await dockerText(['rm', maker]);
      await dockerText(['image', 'rm', tag]).catch(() => undefined);
    }
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
