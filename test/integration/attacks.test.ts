// The attack suite (issue 6): a build that tries to get out, case by case. Each build is one
// policy; its script runs every probe of the cases that share that policy and prints one line
// per probe, which the test compares with the expected verdict. When anything differs, the
// assertion prints the whole truth table (case, probe, expected, observed).
//
// Every probe targets a probe server on the --internal network the fixture creates, or
// loopback. The Docker host (the sandbox network's gateway) and the metadata addresses are
// never probed: design.md forbids sending a packet to an address that is not a test container,
// so those guards are checked in the rules the holder loaded, as the evidence record shows them
// (`--report`, rules.iptables and rules.ip6tables), rows of the same table.
//
// Every build runs twice: on the docker runtime in the holder image (busybox, iptables and ipset,
// so that the build can try to change the rules), and on the host runtime with this machine's own
// tools (iptables, ipset and ip are installed here), both with the probe binary from the
// workspace. The six builds run side by side to keep the file fast.
import { before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import {
  HOLDER_IMAGE,
  PROBE_IMAGE,
  cli,
  dockerText,
  fixture,
  resourcesOf,
  truthTable,
  type CliResult,
  type Server,
  type TruthRow,
} from './harness.js';
import type { EvidenceRecord } from '../../src/report/record.js';

// The probe speaks neither TLS nor HTTP, so the names it connects to are opaque:// entries, which
// open their addresses as before; wire.test.ts tests the name check with real clients.
// Ten servers: an aligned /30 with one neighbour on each side needs six consecutive addresses.
// Each answers TCP and UDP on 8080 and 9090, and on 853, so that a refused DoT probe is the
// fence's doing, not a closed port.
const fx = fixture({ servers: 10, ports: [8080, 9090, 853], upstream: true });

// ---- probes: one shell line each, printing "@@ KEY VERDICT DETAIL" ----

type Step = { line: string } | Probe;
interface Probe {
  probe: string;
  expect: string;
  /** Shell text run for the probe, by one of the functions of PRELUDE. */
  run: string;
}

/** `probe ARGS` from the workspace: ok (reply), refused (reset, ICMP error, EPERM), timeout, error. */
const net = (probe: string, args: string, expect: string): Probe => ({ probe, expect, run: `t probe ${args}` });
/** A shell command: ok (exit 0) or fails. */
const cmd = (probe: string, command: string, expect: string): Probe => ({ probe, expect, run: `c ${sq(command)}` });
/** One DNS query (`probe dns SERVER NAME [TYPE] [tcp]`): answer:ADDRS, nxdomain, rcode=N, refused, timeout. */
const dns = (probe: string, args: string, expect: string): Probe => ({ probe, expect, run: `d ${args}` });
const line = (text: string): Step => ({ line: text });

const PRELUDE = String.raw`
export PATH="$PWD:$PATH"
ns=$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)
say() { printf '@@ %s %s %s\n' "$1" "$2" "$(printf %s "$3" | tr '\n' ' ')"; }
t() { k=$1; shift; o=$("$@" 2>&1); case $? in 0) w=ok;; 1) w=refused;; 2) w=timeout;; *) w=error;; esac; say "$k" "$w" "$o"; }
c() { k=$1; o=$(sh -c "$2" 2>&1); r=$?; if [ $r = 0 ]; then w=ok; else w=fails; fi; say "$k" "$w" "rc=$r $o"; }
d() {
  k=$1; shift; o=$(probe dns "$@" 2>&1); r=$?
  case "$o" in
    "rcode=0 answers="?*) w="answer:\${o#rcode=0 answers=}" ;;
    rcode=3*) w=nxdomain ;;
    rcode=*) w="\${o%% *}" ;;
    *) case $r in 1) w=refused;; 2) w=timeout;; *) w=error;; esac ;;
  esac
  say "$k" "$w" "$o"
}
# Docker's embedded resolver listens on 127.0.0.11 at ports of its own (the nat table sends :53 there).
hexport() { awk -v want="$2" '$2 ~ /^0B00007F:/ && (want == "" || $4 == want) { split($2, a, ":"); print a[2]; exit }' "$1"; }
eu=$(printf %d 0x$(hexport /proc/net/udp) 2>/dev/null); et=$(printf %d 0x$(hexport /proc/net/tcp 0A) 2>/dev/null)
echo "embedded resolver ports: udp $eu tcp $et"
`.replaceAll('\\${', '${'); // String.raw keeps \${ (written so to stop interpolation): the shell's ${

function sq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

interface Case {
  name: string;
  steps: Step[];
}

interface Row extends TruthRow {
  detail?: string;
}

/** The build's script, and the rows its output fills in (by key). */
function script(cases: Case[]): { text: string; rows: Map<string, Row> } {
  const rows = new Map<string, Row>();
  const lines = [PRELUDE];
  for (const c of cases) {
    for (const s of c.steps) {
      if ('line' in s) {
        lines.push(s.line);
        continue;
      }
      const key = `p${rows.size}`;
      rows.set(key, { case: c.name, probe: s.probe, expect: s.expect, observed: 'missing' });
      // `t KEY ...`: the key goes right after the function name.
      lines.push(s.run.replace(/^(\w) /, `$1 ${key} `));
    }
  }
  lines.push('wait', 'true');
  return { text: lines.join('\n'), rows };
}

function fill(rows: Map<string, Row>, stdout: string): void {
  for (const l of stdout.split('\n')) {
    const m = /^@@ (p\d+) (\S+) ?(.*)$/.exec(l);
    const row = m && rows.get(m[1]);
    if (row) Object.assign(row, { observed: m[2], detail: m[3].trim() });
  }
}

function check(t: TestContext, title: string, rows: Row[], r: CliResult): void {
  const wrong = rows.filter((x) => x.expect !== x.observed);
  const text = `${title}\n${truthTable(rows)}`;
  if (wrong.length === 0) {
    t.diagnostic(text);
    return;
  }
  const details = wrong.map((x) => `  ${x.case} / ${x.probe}: ${x.detail ?? ''}`).join('\n');
  assert.fail(
    `${wrong.length} of ${rows.length} verdicts differ (✗):\n${text}\n\nprobe output of the rows that differ:\n${details}\n\nCLI stderr:\n${r.stderr}`,
  );
}

/** A row the test checks itself, outside the build (the upstream's log, the record). */
const fact = (row: Omit<Row, 'observed'>, holds: boolean, yes = row.expect, no = `not ${row.expect}`): Row => ({
  ...row,
  observed: holds ? yes : no,
});

// ---- the network, by role ----

interface Roles {
  /** Allowed on TCP 8080 (and its IPv6 address on TCP 8080). */
  a: Server;
  /** Allowed on UDP 9090 only. */
  b: Server;
  /** Allowed on TCP, every port. */
  c: Server;
  /** api.test's address (A and AAAA): open only after the name is asked. */
  d: Server;
  /** The aligned /30, first to last. */
  block: Server[];
  prefix: string;
  /** The addresses just below and above it: never allowed. `below` is the all-purpose denied target. */
  below: Server;
  above: Server;
  gateway4: string;
  gateway6: string;
}

async function roles(): Promise<Roles> {
  const num = (s: Server) =>
    ipaddr.IPv4.parse(s.ipv4)
      .toByteArray()
      .reduce((n, b) => n * 256 + b, 0);
  const sorted = [...fx.net.servers].sort((x, y) => num(x) - num(y));
  const at = new Map(sorted.map((s) => [num(s), s]));
  let start = -1;
  for (const s of sorted) {
    const n = num(s);
    if (n % 4 === 0 && [n - 1, n, n + 1, n + 2, n + 3, n + 4].every((k) => at.has(k))) {
      start = n;
      break;
    }
  }
  assert.ok(start >= 0, `no aligned /30 with both neighbours among the servers: ${sorted.map((s) => s.ipv4).join(' ')}`);
  const block = [0, 1, 2, 3].map((k) => at.get(start + k)!);
  const [a, b, c, d] = sorted.filter((s) => Math.abs(num(s) - start - 1.5) > 3);
  const config = JSON.parse(await dockerText(['network', 'inspect', '--format', '{{json .IPAM.Config}}', fx.net.name])) as Array<{
    Subnet: string;
    Gateway?: string;
  }>;
  const v6 = config.find((x) => x.Subnet.includes(':'));
  const gateway4 = config.find((x) => !x.Subnet.includes(':'))?.Gateway;
  // For a subnet given without a gateway, docker takes its first address and does not say so.
  const written6 = v6?.Gateway || (v6 && /^[0-9a-f:]+::\/64$/.test(v6.Subnet) ? v6.Subnet.replace('::/64', '::1') : undefined);
  assert.ok(gateway4 && written6, `unexpected IPAM config of ${fx.net.name}: ${JSON.stringify(config)}`);
  // As the rules print it: the subnet's text may carry leading zeros (fd00:bf01:0086::).
  const gateway6 = ipaddr.IPv6.parse(written6).toRFC5952String();
  return { a, b, c, d, block, prefix: `${block[0].ipv4}/30`, below: at.get(start - 1)!, above: at.get(start + 4)!, gateway4, gateway6 };
}

let R: Roles;
const tag = randomBytes(3).toString('hex');
/** 61 random characters: one label full of "data". */
const rand = () => randomBytes(31).toString('hex').slice(0, 61);
/** Names that carry data; none may reach the upstream. */
const tunnels = {
  unlisted: `${rand()}.${rand()}.exfil-${tag}.test`,
  unlistedTcp: `${rand()}.exfil-${tag}.test`,
  txt: `${rand()}.txt-${tag}.test`,
  suffix: `${rand().slice(0, 50)}-pkg.test`,
  prefixed: `${rand()}.pkg.test.evil-${tag}.test`,
  sibling: `${rand()}.sibling-${tag}.test`,
  viaOther: `${rand()}.other-${tag}.test`,
};
/** Under the allowed wildcard *.pkg.test: forwarded, by design (the control of the log check). */
const allowedTunnel = `${rand()}.pkg.test`;

// ---- the builds ----

interface Build {
  title: string;
  args: string[];
  cases: Case[];
}

type Runtime = 'docker' | 'host';
const RUNTIMES: Runtime[] = ['docker', 'host'];

/** Rewriting resolv.conf: root in a container may; the host runtime's build is not root, so the file stays the fence's. */
function resolvConfCase(runtime: Runtime, resolvConf: string): Case {
  const { d, below: z } = R;
  if (runtime === 'host') {
    return {
      name: 'rewriting resolv.conf (the build is not root there)',
      steps: [
        cmd('write /etc/resolv.conf', `echo "nameserver ${z.ipv4}" > /etc/resolv.conf`, 'fails'),
        dns('nameserver still buildfence', `${resolvConf} api.test`, `answer:${d.ipv4}`),
      ],
    };
  }
  return {
    name: 'rewriting resolv.conf',
    steps: [
      line(`cp /etc/resolv.conf /tmp/resolv.orig; echo "nameserver ${z.ipv4}" > /etc/resolv.conf`),
      dns('nameserver z', `${resolvConf} api.test`, `answer:${d.ipv4}`),
      dns('nameserver z, unlisted name', `${resolvConf} ${tunnels.sibling.replace(/^[^.]+/, 'x')}`, 'nxdomain'),
      line('echo "nameserver 127.0.0.11" > /etc/resolv.conf'),
      dns('nameserver 127.0.0.11', `${resolvConf} leak-${tag}.test`, 'refused'),
      line(`echo "nameserver ${z.ipv6}" > /etc/resolv.conf`),
      dns('nameserver [z]', `${resolvConf} leak-${tag}.test`, 'refused'),
      line('cat /tmp/resolv.orig > /etc/resolv.conf'),
    ],
  };
}

function mainBuild(runtime: Runtime): Build {
  const { a, b, c, d, block, below: z, above } = R;
  const [first, second, , last] = block;
  const resolvConf = "$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)";
  return {
    title: 'release: addresses, names, rules, namespaces, sockets, DNS',
    args: [
      '--grade',
      'release',
      '--allow',
      `${a.ipv4}:8080`,
      '--allow',
      `[${a.ipv6}]:8080`,
      '--allow',
      `udp://${b.ipv4}:9090`,
      '--allow',
      `tcp://${c.ipv4}`,
      '--allow',
      R.prefix,
      '--allow',
      'opaque://api.test:8080',
      '--allow',
      '*.pkg.test',
      // Networks that contain a guarded address do not open it (checked in the rules, never probed).
      '--allow',
      '169.254.0.0/16',
      '--allow',
      `${R.gateway4.replace(/\.\d+$/, '.0')}/31`,
      '--allow',
      `${R.gateway6.replace(/::1$/, '::')}/127`,
    ],
    cases: [
      {
        name: 'other ports and protocols of an allowed host',
        steps: [
          net('tcp allowed port (a:8080)', `tcp ${a.ipv4} 8080`, 'ok'),
          net('tcp other port (a:9090)', `tcp ${a.ipv4} 9090`, 'refused'),
          net('udp same port (a:8080)', `udp ${a.ipv4} 8080`, 'refused'),
          net('tcp DoT port (a:853)', `tcp ${a.ipv4} 853`, 'refused'),
          net('icmp echo (a)', `ping ${a.ipv4}`, 'refused'),
        ],
      },
      {
        name: 'UDP vs TCP confusion',
        steps: [
          net('udp entry, udp probe (b:9090)', `udp ${b.ipv4} 9090`, 'ok'),
          net('udp entry, tcp probe (b:9090)', `tcp ${b.ipv4} 9090`, 'refused'),
          net('udp entry, udp other port (b:8080)', `udp ${b.ipv4} 8080`, 'refused'),
          net('tcp:// entry, tcp probe (c:9090)', `tcp ${c.ipv4} 9090`, 'ok'),
          net('tcp:// entry, udp probe (c:9090)', `udp ${c.ipv4} 9090`, 'refused'),
          net('tcp:// entry, udp probe (c:8080)', `udp ${c.ipv4} 8080`, 'refused'),
        ],
      },
      {
        name: 'ICMP (ping socket, no NET_RAW)',
        steps: [
          net('echo to a tcp:port entry (a)', `ping ${a.ipv4}`, 'refused'),
          net('echo to a bare CIDR entry (first of /30)', `ping ${first.ipv4}`, 'refused'),
          net('echo to an unlisted host', `ping ${z.ipv4}`, 'refused'),
          net('echo6 to an allowed IPv6 address (a)', `ping ${a.ipv6}`, 'refused'),
          net('echo6 to an unlisted IPv6 address', `ping ${z.ipv6}`, 'refused'),
        ],
      },
      {
        name: `CIDR edges (${R.prefix})`,
        steps: [
          net('tcp just below (.first-1)', `tcp ${z.ipv4} 8080`, 'refused'),
          net('tcp first', `tcp ${first.ipv4} 8080`, 'ok'),
          net('udp first', `udp ${first.ipv4} 9090`, 'ok'),
          net('tcp second', `tcp ${second.ipv4} 9090`, 'ok'),
          net('tcp last', `tcp ${last.ipv4} 8080`, 'ok'),
          net('udp last', `udp ${last.ipv4} 8080`, 'ok'),
          net('tcp just above (.last+1)', `tcp ${above.ipv4} 8080`, 'refused'),
          net('udp just above (.last+1)', `udp ${above.ipv4} 8080`, 'refused'),
          net('tcp first, over IPv6 (not in the entry)', `tcp ${first.ipv6} 8080`, 'refused'),
        ],
      },
      {
        name: 'IPv6',
        steps: [
          net('tcp allowed [a]:8080', `tcp ${a.ipv6} 8080`, 'ok'),
          net('tcp other port [a]:9090', `tcp ${a.ipv6} 9090`, 'refused'),
          net('udp same port [a]:8080', `udp ${a.ipv6} 8080`, 'refused'),
          net('tcp unlisted [z]:8080', `tcp ${z.ipv6} 8080`, 'refused'),
          net('udp unlisted [z]:9090', `udp ${z.ipv6} 9090`, 'refused'),
          net('tcp [b] (b allowed on IPv4 udp only)', `tcp ${b.ipv6} 9090`, 'refused'),
          net('udp [b]:9090 (b allowed on IPv4 udp only)', `udp ${b.ipv6} 9090`, 'refused'),
          net('v4-mapped ::ffff:a:8080 (IPv4 on the wire)', `tcp ::ffff:${a.ipv4} 8080`, 'ok'),
          net('v4-mapped ::ffff:z:8080', `tcp ::ffff:${z.ipv4} 8080`, 'refused'),
        ],
      },
      {
        name: "an allowed name's address without resolving",
        steps: [
          net('tcp d:8080 before asking', `tcp ${d.ipv4} 8080`, 'refused'),
          net('tcp [d]:8080 before asking', `tcp ${d.ipv6} 8080`, 'refused'),
          dns('A api.test', '"$ns" api.test', `answer:${d.ipv4}`),
          net('tcp d:8080 after asking', `tcp ${d.ipv4} 8080`, 'ok'),
          net('tcp d:9090 (port not in the entry)', `tcp ${d.ipv4} 9090`, 'refused'),
          net('udp d:8080 (protocol not in the entry)', `udp ${d.ipv4} 8080`, 'refused'),
          net('tcp [d]:8080 (only A was asked)', `tcp ${d.ipv6} 8080`, 'refused'),
        ],
      },
      {
        name: 'DNS to other resolvers',
        steps: [
          dns('udp to a server that runs no DNS (z:53)', `${z.ipv4} api.test`, `answer:${d.ipv4}`),
          dns('tcp to the same (z:53)', `${z.ipv4} api.test A tcp`, `answer:${d.ipv4}`),
          dns('unlisted name via z:53', `${z.ipv4} ${tunnels.viaOther}`, 'nxdomain'),
          dns('udp over IPv6 ([z]:53)', `${z.ipv6} api.test`, 'refused'),
          dns('tcp over IPv6 ([z]:53)', `${z.ipv6} api.test A tcp`, 'refused'),
          dns('udp to 127.0.0.11', `127.0.0.11 leak-${tag}.test`, 'refused'),
          dns('tcp to 127.0.0.11', `127.0.0.11 leak-${tag}.test A tcp`, 'refused'),
          net("udp to 127.0.0.11's own port", 'udp 127.0.0.11 "${eu:-1}"', 'refused'),
          net("tcp to 127.0.0.11's own port", 'tcp 127.0.0.11 "${et:-1}"', 'refused'),
          net('DoT to an unlisted host (z:853)', `tcp ${z.ipv4} 853`, 'refused'),
          net('DoT to an address the allowlist opens (first:853)', `tcp ${first.ipv4} 853`, 'ok'),
        ],
      },
      resolvConfCase(runtime, resolvConf),
      {
        name: 'tunnelling data in query names',
        steps: [
          dns('long labels, unlisted domain', `"$ns" ${tunnels.unlisted}`, 'nxdomain'),
          dns('same over tcp, via z:53', `${z.ipv4} ${tunnels.unlistedTcp} A tcp`, 'nxdomain'),
          dns('TXT query', `"$ns" ${tunnels.txt} TXT`, 'nxdomain'),
          dns('suffix without the dot (x-pkg.test)', `"$ns" ${tunnels.suffix}`, 'nxdomain'),
          dns('allowed name as a prefix (pkg.test.evil)', `"$ns" ${tunnels.prefixed}`, 'nxdomain'),
          dns("the wildcard's sibling", `"$ns" ${tunnels.sibling}`, 'nxdomain'),
          dns('the wildcard apex (pkg.test)', '"$ns" pkg.test', 'nxdomain'),
          // Control: under the wildcard, data does reach the upstream (allowed by design);
          // the upstream does not know the name.
          dns('control: under *.pkg.test', `"$ns" ${allowedTunnel}`, 'nxdomain'),
        ],
      },
      {
        name: 'changing the rules from the build',
        steps: [
          cmd('iptables -F', 'iptables -F', 'fails'),
          cmd('iptables -P OUTPUT ACCEPT', 'iptables -P OUTPUT ACCEPT', 'fails'),
          cmd('iptables -I OUTPUT -j ACCEPT', 'iptables -I OUTPUT 1 -j ACCEPT', 'fails'),
          cmd('iptables -t nat -F', 'iptables -t nat -F', 'fails'),
          cmd('ip6tables -F', 'ip6tables -F', 'fails'),
          cmd('ipset flush', 'ipset flush', 'fails'),
          cmd(`ipset add bf4-tcp z`, `ipset add bf4-tcp ${z.ipv4}`, 'fails'),
          cmd('iptables-restore of an open table', "printf '*filter\\n:OUTPUT ACCEPT [0:0]\\nCOMMIT\\n' | iptables-restore", 'fails'),
          cmd('ip route replace default', `ip route replace default via ${z.ipv4}`, 'fails'),
          net('afterwards: tcp z:8080', `tcp ${z.ipv4} 8080`, 'refused'),
          net('afterwards: tcp [z]:8080', `tcp ${z.ipv6} 8080`, 'refused'),
          net('afterwards: udp z:9090', `udp ${z.ipv4} 9090`, 'refused'),
          net('afterwards: tcp a:8080 still open', `tcp ${a.ipv4} 8080`, 'ok'),
          dns('afterwards: DNS via z:53 still buildfence', `${z.ipv4} api.test`, `answer:${d.ipv4}`),
        ],
      },
      {
        name: 'packet and raw sockets',
        steps: [net('AF_PACKET socket', 'packet', 'refused'), net('SOCK_RAW ICMP socket', 'raw', 'refused')],
      },
      {
        name: 'unshare',
        steps: [
          cmd('unshare -n', 'unshare -n true', 'fails'),
          cmd('unshare -U -r', 'unshare -U -r true', 'fails'),
          cmd('unshare -U -r -n, then a probe', `unshare -U -r -n probe tcp ${z.ipv4} 8080`, 'fails'),
          cmd('unshare -U -r iptables -F', 'unshare -U -r iptables -F', 'fails'),
          cmd('unshare -m -p -f', 'unshare -m -p -f true', 'fails'),
          net('afterwards: tcp z:8080', `tcp ${z.ipv4} 8080`, 'refused'),
        ],
      },
    ],
  };
}

function expiryBuild(): Build {
  const x = R.above;
  return {
    title: 'release, learned addresses expire (--dns-ttl-min 1 --dns-ttl-max 3, TTL 3)',
    args: ['--grade', 'release', '--allow', 'opaque://exp.test:8080', '--dns-ttl-min', '1', '--dns-ttl-max', '3'],
    cases: [
      {
        name: 'expiry of a learned address',
        steps: [
          net('new connection before asking', `tcp ${x.ipv4} 8080`, 'refused'),
          dns('A exp.test', '"$ns" exp.test', `answer:${x.ipv4}`),
          // Opened now, used again after the address expired.
          {
            ...net('connection opened before expiry, used after (8 s)', `hold ${x.ipv4} 8080 8`, 'ok'),
            run: `t probe hold ${x.ipv4} 8080 8 &`,
          },
          net('new connection right after asking', `tcp ${x.ipv4} 8080`, 'ok'),
          line('sleep 5'),
          net('new connection after expiry', `tcp ${x.ipv4} 8080`, 'refused'),
        ],
      },
    ],
  };
}

function devBuild(): Build {
  const { a, below: z } = R;
  return {
    title: 'dev (audit): what audit lets through, and what stays refused in every mode',
    args: ['--grade', 'dev'],
    cases: [
      {
        name: 'audit lets through (controls for the release probes)',
        steps: [
          net('icmp echo (a)', `ping ${a.ipv4}`, 'ok'),
          net('icmp6 echo ([a])', `ping ${a.ipv6}`, 'ok'),
          net('udp a:8080', `udp ${a.ipv4} 8080`, 'ok'),
          net('tcp z:9090', `tcp ${z.ipv4} 9090`, 'ok'),
          net('tcp [z]:8080', `tcp ${z.ipv6} 8080`, 'ok'),
          dns('DNS via z:53, answered by buildfence', `${z.ipv4} dev-${tag}.test`, `answer:${z.ipv4}`),
        ],
      },
      {
        name: 'refused in every mode',
        steps: [
          dns('udp to 127.0.0.11', `127.0.0.11 leak-dev-${tag}.test`, 'refused'),
          dns('tcp to 127.0.0.11', `127.0.0.11 leak-dev-${tag}.test A tcp`, 'refused'),
          net("udp to 127.0.0.11's own port", 'udp 127.0.0.11 "${eu:-1}"', 'refused'),
          net("tcp to 127.0.0.11's own port", 'tcp 127.0.0.11 "${et:-1}"', 'refused'),
          dns('DNS over IPv6 ([z]:53)', `${z.ipv6} leak-dev-${tag}.test`, 'refused'),
          net('DoT (z:853)', `tcp ${z.ipv4} 853`, 'refused'),
          net('AF_PACKET socket', 'packet', 'refused'),
          net('SOCK_RAW ICMP socket', 'raw', 'refused'),
          cmd('unshare -n', 'unshare -n true', 'fails'),
          cmd('unshare -U -r -n, then a probe', `unshare -U -r -n probe tcp ${z.ipv4} 8080`, 'fails'),
          cmd('iptables -F', 'iptables -F', 'fails'),
          cmd('ipset flush', 'ipset flush', 'fails'),
        ],
      },
    ],
  };
}

interface Outcome {
  build: Build;
  rows: Row[];
  result: CliResult;
  record?: EvidenceRecord;
  seconds: number;
}

async function runBuild(b: Build, runtime: Runtime): Promise<Outcome> {
  const { text, rows } = script(b.cases);
  // On this root machine the host runtime hands the workspace to the build's uid for the run and
  // takes it back after: builds side by side each need one of their own.
  const ws = runtime === 'host' ? await fs.mkdtemp(path.join(fx.ws, 'host-')) : fx.ws;
  if (ws !== fx.ws) await fs.copyFile(path.join(fx.ws, 'probe'), path.join(ws, 'probe'));
  const report = path.join(fx.ws, `report-${randomBytes(4).toString('hex')}.json`);
  const t0 = Date.now();
  const result = await cli(
    [
      'run',
      '--network',
      fx.net.name,
      ...(runtime === 'host' ? ['--runtime', 'host'] : ['--pull', 'never', '--image', HOLDER_IMAGE]),
      '--shell',
      'sh',
      '--dns-upstream',
      fx.upstream.address,
      '--report',
      report,
      ...b.args,
      '--',
      text,
    ],
    ws,
  );
  const seconds = (Date.now() - t0) / 1000;
  fill(rows, result.stdout);
  const record = await fs.readFile(report, 'utf8').then(
    (t) => JSON.parse(t) as EvidenceRecord,
    () => undefined,
  );
  return { build: b, rows: [...rows.values()], result, record, seconds };
}

const outcomes: Record<Runtime, Record<'main' | 'expiry' | 'dev', Promise<Outcome>>> = { docker: {}, host: {} } as never;

before(async () => {
  await fx.ready;
  // The probe binary must know hold and ping (test/images/probe.c): an image built from an older
  // probe.c would make every such row an "error".
  const usage = await promisify(execFile)(path.join(fx.ws, 'probe')).then(
    () => '',
    (e: { stderr?: string }) => e.stderr ?? '',
  );
  assert.match(
    usage,
    /probe hold .*\n[\s\S]*probe ping /,
    `${PROBE_IMAGE} lacks 'probe hold' or 'probe ping': run scripts/build-test-images`,
  );
  R = await roles();
  const { d, above } = R;
  fx.upstream.zone.set('api.test', { A: [d.ipv4], AAAA: [d.ipv6] });
  fx.upstream.zone.set('exp.test', { A: [above.ipv4], ttl: 3 });
  fx.upstream.zone.set(`dev-${tag}.test`, { A: [R.below.ipv4] });
  // Side by side; each `it` awaits its own. Rejections are seen there.
  for (const runtime of RUNTIMES) {
    outcomes[runtime].main = runBuild(mainBuild(runtime), runtime);
    outcomes[runtime].expiry = runBuild(expiryBuild(), runtime);
    outcomes[runtime].dev = runBuild(devBuild(), runtime);
    for (const p of Object.values(outcomes[runtime])) p.catch(() => undefined);
  }
});

/** Rows about the rules the holder loaded, read from the record (guarded addresses are never probed). */
function guardRows(record: EvidenceRecord | undefined, caseName: string): Row[] {
  const v4 = record?.rules.iptables ?? '';
  const v6 = record?.rules.ip6tables ?? '';
  const before = (text: string, rule: string) => {
    const i = text.split('\n').indexOf(rule);
    const firstSet = text.split('\n').findIndex((l) => /--match-set bf[46]-(deny-)?(tcp|udp|port) /.test(l));
    return i >= 0 && firstSet > i;
  };
  const guardAccepts = (text: string) => text.split('\n').filter((l) => l.startsWith('-A BF-GUARD') && !l.endsWith('-j BF-REJECT'));
  const gw4Accepts = v4.split('\n').filter((l) => l.includes(` -d ${R.gateway4}/32 `) && l.endsWith('-j ACCEPT'));
  const rows: Row[] = [
    fact(
      { case: caseName, probe: `Docker host ${R.gateway4}/32 guarded before the allow sets`, expect: 'guarded' },
      before(v4, `-A OUTPUT -d ${R.gateway4}/32 -j BF-GUARD`),
    ),
    fact(
      { case: caseName, probe: `Docker host ${R.gateway6}/128 guarded before the allow sets`, expect: 'guarded' },
      before(v6, `-A OUTPUT -d ${R.gateway6}/128 -j BF-GUARD`),
    ),
    fact(
      { case: caseName, probe: 'metadata 169.254.0.0/16 guarded before the allow sets', expect: 'guarded' },
      before(v4, '-A OUTPUT -d 169.254.0.0/16 -j BF-GUARD'),
    ),
    fact(
      { case: caseName, probe: 'Azure wire server 168.63.129.16 guarded', expect: 'guarded' },
      before(v4, '-A OUTPUT -d 168.63.129.16/32 -j BF-GUARD'),
    ),
    fact(
      { case: caseName, probe: 'IPv6 link-local fe80::/10 guarded', expect: 'guarded' },
      before(v6, '-A OUTPUT -d fe80::/10 -j BF-GUARD'),
    ),
    fact(
      { case: caseName, probe: 'AWS IPv6 metadata fd00:ec2::254 guarded', expect: 'guarded' },
      before(v6, '-A OUTPUT -d fd00:ec2::254/128 -j BF-GUARD'),
    ),
    {
      case: caseName,
      probe: 'BF-GUARD opens nothing (no entry names a guarded host)',
      expect: 'only BF-REJECT',
      observed:
        guardAccepts(v4).length + guardAccepts(v6).length === 0 ? 'only BF-REJECT' : [...guardAccepts(v4), ...guardAccepts(v6)].join('; '),
    },
    {
      case: caseName,
      // Names are checked on the fast path (the holder's queue), not by a checker on the gateway.
      probe: 'the only ACCEPTs to the gateway: the resolver (udp, tcp)',
      expect: 'udp,tcp',
      observed:
        gw4Accepts.map((l) => `${/ -p (\w+) /.exec(l)?.[1] ?? l}${l.includes('--ctstate DNAT') ? ' DNAT' : ''}`).join(',') || 'none',
    },
    fact(
      { case: caseName, probe: 'OUTPUT policy DROP (IPv4 and IPv6)', expect: 'DROP' },
      v4.includes(':OUTPUT DROP') && v6.includes(':OUTPUT DROP'),
    ),
  ];
  return rows;
}

for (const runtime of RUNTIMES)
  describe(`attacks on the fence, runtime ${runtime}`, { timeout: 300_000 }, () => {
    it('release: every probe gets its policy verdict, and nothing that should stay on the machine reaches the upstream', async (t) => {
      const o = await outcomes[runtime].main;
      const asked = (n: string) => fx.upstream.log.some((q) => q.name === n.toLowerCase());
      const decision = (n: string) => o.record?.dns.find((x) => x.name === n.toLowerCase());
      const hostRows: Row[] = [
        ...Object.entries(tunnels).map(([k, n]) =>
          fact(
            { case: 'tunnelling data in query names', probe: `upstream log: ${k} name`, expect: 'absent' },
            !asked(n),
            'absent',
            'ASKED UPSTREAM',
          ),
        ),
        ...Object.entries(tunnels).map(([k, n]) => ({
          case: 'tunnelling data in query names',
          probe: `record: ${k} name`,
          expect: 'refused, not forwarded',
          observed: decision(n) ? `${decision(n)!.verdict}, ${decision(n)!.forwarded ? 'forwarded' : 'not forwarded'}` : 'not recorded',
        })),
        fact(
          { case: 'tunnelling data in query names', probe: 'upstream log: control under *.pkg.test', expect: 'present' },
          asked(allowedTunnel),
          'present',
          'absent',
        ),
        fact(
          { case: 'DNS to other resolvers', probe: 'upstream log: names sent to 127.0.0.11', expect: 'absent' },
          !asked(`leak-${tag}.test`),
          'absent',
          'ASKED UPSTREAM',
        ),
        fact(
          { case: 'DNS to other resolvers', probe: 'upstream log: api.test (control)', expect: 'present' },
          asked('api.test'),
          'present',
          'absent',
        ),
        ...guardRows(o.record, 'Docker host and metadata (rules, not probed)'),
        fact(
          { case: 'evidence', probe: `denied tcp ${R.below.ipv4}:8080 recorded as enforced`, expect: 'recorded' },
          Boolean(o.record?.denied.some((x) => x.protocol === 'tcp' && x.address === R.below.ipv4 && x.port === 8080 && x.enforced)),
        ),
      ];
      assert.equal(o.result.code, 0, o.result.stderr);
      check(t, `${o.build.title} (${o.seconds.toFixed(1)} s)`, [...o.rows, ...hostRows], o.result);
      assert.deepEqual(await resourcesOf(o.result.pid), []);
    });

    it('release: a connection opened before its address expires is kept; a new one after expiry is refused', async (t) => {
      const o = await outcomes[runtime].expiry;
      assert.equal(o.result.code, 0, o.result.stderr);
      check(t, `${o.build.title} (${o.seconds.toFixed(1)} s)`, o.rows, o.result);
    });

    it('dev: audit lets other traffic through; DNS exits, packet sockets, unshare and rule changes stay refused', async (t) => {
      const o = await outcomes[runtime].dev;
      const hostRows: Row[] = [
        fact(
          { case: 'refused in every mode', probe: 'upstream log: names sent to 127.0.0.11 or over IPv6', expect: 'absent' },
          !fx.upstream.log.some((q) => q.name === `leak-dev-${tag}.test`),
          'absent',
          'ASKED UPSTREAM',
        ),
        ...guardRows(o.record, 'Docker host and metadata (rules, not probed)'),
      ];
      assert.equal(o.result.code, 0, o.result.stderr);
      check(t, `${o.build.title} (${o.seconds.toFixed(1)} s)`, [...o.rows, ...hostRows], o.result);
    });
  });
