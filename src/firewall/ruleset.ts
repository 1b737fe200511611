// Renders the fence as restore files: one for ipset, one per IP family. Pure text, no processes.
//
// The text is written in the exact form iptables-save prints, so that reading the rules back
// can be compared line for line (see verify.ts).
import ipaddr from 'ipaddr.js';
import type { AddressEntry, Mode, Protocol } from '../types.js';

export interface RulesetInput {
  mode: Mode;
  entries: AddressEntry[];
  /** Gateway addresses of the sandbox network: the Docker host, guarded like metadata. */
  gateways: string[];
}

export interface Ruleset {
  ipset: string;
  v4: string;
  v6: string;
}

type Family = 4 | 6;

/** Addresses denied in every grade and mode unless an entry names exactly one of them. */
export const GUARDED: Record<Family, string[]> = {
  // Link-local (cloud metadata at 169.254.169.254) and Azure's wire server.
  4: ['169.254.0.0/16', '168.63.129.16/32'],
  // Link-local and AWS's IPv6 metadata endpoint.
  6: ['fe80::/10', 'fd00:ec2::254/128'],
};

/** Docker's embedded resolver: it forwards any name to the host's resolvers, so it is an exit. */
export const DOCKER_DNS = '127.0.0.11/32';

// ipset timeout 0 makes an element permanent; the sets are created with timeout support so
// that addresses learned from names can be added later with a TTL.
const MAX_ELEMENTS_FLOOR = 65536;

export function setName(family: Family, kind: 'tcp' | 'udp' | 'port'): string {
  return `bf${family}-${kind}`;
}

export function renderRuleset(input: RulesetInput): Ruleset {
  const byFamily = (f: Family) => input.entries.filter((e) => e.family === f);
  const gateways = (f: Family) =>
    input.gateways.filter((g) => ipaddr.parse(g).kind() === (f === 4 ? 'ipv4' : 'ipv6')).map((g) => hostCidr(g));
  const sets4 = setElements(byFamily(4), 4);
  const sets6 = setElements(byFamily(6), 6);
  return {
    ipset: renderIpset([...sets4, ...sets6]),
    v4: renderFilter(4, input.mode, byFamily(4), gateways(4)),
    v6: renderFilter(6, input.mode, byFamily(6), gateways(6)),
  };
}

interface SetContent {
  name: string;
  type: 'hash:net' | 'hash:net,port';
  family: Family;
  elements: string[];
}

function setElements(entries: AddressEntry[], family: Family): SetContent[] {
  const tcp: string[] = [];
  const udp: string[] = [];
  const port: string[] = [];
  for (const e of entries) {
    for (const net of splitForHashNet(e.cidr)) {
      for (const proto of e.protocols) {
        if (!e.ports) {
          (proto === 'tcp' ? tcp : udp).push(net);
          continue;
        }
        for (let p = e.ports.from; p <= e.ports.to; p++) port.push(`${net},${proto}:${p}`);
      }
    }
  }
  return [
    { name: setName(family, 'tcp'), type: 'hash:net', family, elements: unique(tcp) },
    { name: setName(family, 'udp'), type: 'hash:net', family, elements: unique(udp) },
    { name: setName(family, 'port'), type: 'hash:net,port', family, elements: unique(port) },
  ];
}

// hash:net refuses a zero prefix, so "everything" is stored as its two halves.
function splitForHashNet(cidr: string): string[] {
  if (cidr === '0.0.0.0/0') return ['0.0.0.0/1', '128.0.0.0/1'];
  if (cidr === '::/0') return ['::/1', '8000::/1'];
  return [cidr];
}

function renderIpset(sets: SetContent[]): string {
  const lines: string[] = [];
  for (const s of sets) {
    const max = Math.max(MAX_ELEMENTS_FLOOR, s.elements.length * 2);
    lines.push(`create ${s.name} ${s.type} family ${s.family === 4 ? 'inet' : 'inet6'} timeout 0 maxelem ${max}`);
  }
  for (const s of sets) for (const el of s.elements) lines.push(`add ${s.name} ${el} timeout 0`);
  return lines.join('\n') + '\n';
}

function renderFilter(family: Family, mode: Mode, entries: AddressEntry[], gateways: string[]): string {
  const rejectIcmp = family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable';
  const out = (rule: string) => `-A OUTPUT ${rule}`;
  const rules: string[] = [out('-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')];
  // Before loopback, which would otherwise let the embedded resolver's traffic through.
  if (family === 4) rules.push(out(`-d ${DOCKER_DNS} -j BF-DENY`));
  rules.push(out('-o lo -j ACCEPT'));
  if (family === 6) {
    // Neighbour discovery: router and neighbour solicitations, advertisements. Hop limit 255
    // is what RFC 4861 requires, so nothing routed can pass as discovery.
    for (const type of [133, 135, 136]) {
      rules.push(out(`-p ipv6-icmp -m icmp6 --icmpv6-type ${type} -m hl --hl-eq 255 -j ACCEPT`));
    }
  }
  const guarded = unique([...GUARDED[family], ...gateways]);
  for (const g of guarded) rules.push(out(`-d ${g} -j BF-GUARD`));
  rules.push(out(`-p tcp -m set --match-set ${setName(family, 'tcp')} dst -j ACCEPT`));
  rules.push(out(`-p udp -m set --match-set ${setName(family, 'udp')} dst -j ACCEPT`));
  rules.push(out(`-m set --match-set ${setName(family, 'port')} dst,dst -j ACCEPT`));
  rules.push(out('-j BF-DENY'));

  rules.push(mode === 'block' ? '-A BF-DENY -j BF-REJECT' : '-A BF-DENY -j ACCEPT');
  for (const e of entries.filter((x) => namesGuardedHost(x, guarded))) {
    for (const proto of e.protocols) rules.push(`-A BF-GUARD -d ${e.cidr} ${protoMatch(proto, e)}-j ACCEPT`);
  }
  rules.push('-A BF-GUARD -j BF-REJECT');
  rules.push('-A BF-REJECT -p tcp -j REJECT --reject-with tcp-reset');
  rules.push(`-A BF-REJECT -j REJECT --reject-with ${rejectIcmp}`);

  return [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT DROP [0:0]',
    ':BF-DENY - [0:0]',
    ':BF-GUARD - [0:0]',
    ':BF-REJECT - [0:0]',
    ...rules,
    'COMMIT',
    '',
  ].join('\n');
}

// Only an entry for one exact host opens a guarded address: a CIDR that merely contains it does not.
function namesGuardedHost(e: AddressEntry, guarded: string[]): boolean {
  const [addr, prefix] = ipaddr.parseCIDR(e.cidr);
  if (prefix !== (e.family === 4 ? 32 : 128)) return false;
  return guarded.some((g) => {
    const range = ipaddr.parseCIDR(g);
    return addr.kind() === range[0].kind() && addr.match(range);
  });
}

function protoMatch(proto: Protocol, e: AddressEntry): string {
  if (!e.ports) return `-p ${proto} `;
  const ports = e.ports.from === e.ports.to ? `${e.ports.from}` : `${e.ports.from}:${e.ports.to}`;
  return `-p ${proto} -m ${proto} --dport ${ports} `;
}

function hostCidr(address: string): string {
  const a = ipaddr.parse(address);
  return `${a.toString()}/${a.kind() === 'ipv4' ? 32 : 128}`;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
