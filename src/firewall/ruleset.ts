// Renders the fence as restore files: one for ipset, one per IP family. Pure text, no processes.
//
// The text is written in the exact form iptables-save prints, so that reading the rules back
// can be compared line for line (see verify.ts).
import ipaddr from 'ipaddr.js';
import type { AddressEntry, Entry, Mode, NameEntry, PortRange, Protocol } from '../run/entry.js';

/** What a port range needs to get its sets: name entries are known by these alone before their addresses are. */
type Ports = { protocols: Protocol[]; ports?: PortRange };

export interface RulesetInput {
  mode: Mode;
  /**
   * Entries the build may reach. Addresses go into the sets; names only give their port ranges
   * sets of their own, for the addresses the resolver learns later.
   */
  allow: Entry[];
  /** Address entries it may never reach, even where `allow` covers them (names are the resolver's). */
  deny: Entry[];
  /** Gateway addresses of the sandbox network: the Docker host, guarded like metadata. */
  gateways: string[];
  /**
   * Networks guarded like the gateway (canonical CIDRs): the subnets of Docker's default bridge,
   * which the build shares with every container started without a network.
   */
  guardedNetworks?: string[];
  /** buildfence's resolver on the host, where every DNS packet is sent. */
  resolver: { address: string; port: number };
  /**
   * In a Pod the resolver runs beside the build, in its namespace, as its own user: that user's
   * packets (and no one else's) may reach the upstreams, and the nat rule leaves them alone.
   */
  resolverUser?: { uid: number; upstreams: Array<{ address: string; port: number }> };
  /**
   * The end-of-run mark: a UDP packet from the Docker host to this port, arriving on the holder's
   * own interface, is logged (and dropped) after every packet of the build, so the reader knows
   * when it has them all (report/drain-mark.ts).
   */
  drainMark?: { from: string; port: number };
  /**
   * The name checker (issue 14), where the nat rules send every TCP connection to an address that
   * only a name entry opened: Docker's gateway addresses on the host, or, in a Pod, loopback, with
   * the checker's user, whose own connections to those addresses go out unchanged.
   */
  checker?: { address4: string; address6?: string; port: number; ports: number; uid?: number };
  /**
   * The name check's fast path (Docker and the runner): TCP to what only a name entry opened goes
   * to its destination, and every packet the build sends on such a connection is sent to this
   * netfilter queue until it is checked: a TLS connection's until its ClientHello is read, an HTTP
   * one's for its whole life (holder/wire-queue.c, wire/fast-path.ts). With it, no checker.
   */
  wireQueue?: number;
}

export interface Ruleset {
  ipset: string;
  /** The filter table, IPv4 and IPv6. */
  v4: string;
  v6: string;
  /** IPv4 nat rules that send DNS to the resolver and checked TCP to the checker, added beside Docker's own nat chains. */
  nat4: string;
  /** IPv6 nat rules that send checked TCP to the checker (empty without one). */
  nat6: string;
  /** The holder's resolv.conf (the build shares it). */
  resolvConf: string;
}

export type Family = 4 | 6;

/** Addresses denied in every grade and mode unless an entry names exactly one of them. */
export const GUARDED: Record<Family, string[]> = {
  // Link-local (cloud metadata at 169.254.169.254) and Azure's wire server.
  4: ['169.254.0.0/16', '168.63.129.16/32'],
  // Link-local and AWS's IPv6 metadata endpoint.
  6: ['fe80::/10', 'fd00:ec2::254/128'],
};

/**
 * NFLOG groups the holder's reader listens on: packets refused, packets audit mode let through,
 * the end-of-run mark (never a packet of the build), and new inbound connections and datagrams
 * to the build, refused or (audit) let through. The rules set a queue threshold of 1:
 * the kernel's default batches up to 100 packets for up to a second, and the last packets of a
 * build would arrive after the reader stopped.
 */
export const NFLOG_GROUP = { denied: 5, audit: 6, mark: 7, inbound: 8, inboundAudit: 9, wire: 10 } as const;

/**
 * The fast path's bits of the packet mark and the connection mark (no other rule here uses
 * marks): a connection being read (set by the rules at its SYN; an HTTP connection stays so),
 * checked (a TLS connection whose ClientHello was allowed), or refused. The queue's verdict
 * puts `checked` or `refused` on a packet and sends it through the rules again, which save it in
 * the connection's mark. The build cannot set a mark: SO_MARK
 * needs NET_ADMIN or NET_RAW, which it does not hold.
 */
export const WIRE_MARK = { mask: 0x30000000, pending: 0x10000000, checked: 0x20000000, refused: 0x30000000 } as const;
/** The netfilter queue the fast path reads (any number no other program in the holder uses). */
export const WIRE_QUEUE = 443;
export const CHECK_CHAIN = 'BF-CHECK';
export const CHECK_NEW_CHAIN = 'BF-CHECK-NEW';

/** Docker's embedded resolver: it forwards any name to the host's resolvers, so it is an exit. */
export const DOCKER_DNS = '127.0.0.11/32';

// ipset timeout 0 makes an element permanent; the sets are created with timeout support so
// that addresses learned from names can be added later with a TTL.
const MAX_ELEMENTS_FLOOR = 65536;

/**
 * Which sets: '' holds what is open by address (address entries, opaque names' learned addresses),
 * 'deny-' what deny entries close, 'name-' what name entries opened (TCP there goes to the checker).
 */
export type SetPrefix = '' | 'deny-' | 'name-';

export function setName(family: Family, kind: 'tcp' | 'udp' | 'port', prefix: SetPrefix = ''): string {
  return `bf${family}-${prefix}${kind}`;
}

/**
 * The set of the addresses open on one protocol's port range (hash:net): the rule that matches
 * it carries the range, so a range costs one element per address, not one per port.
 */
export function rangeSetName(family: Family, proto: Protocol, ports: PortRange, prefix: SetPrefix = ''): string {
  return `bf${family}-${prefix}${proto}-${ports.from}-${ports.to}`;
}

/** A name entry's learned addresses go to the checker, unless the entry opts out (opaque://). */
export function checkedName(e: Entry): e is NameEntry {
  return e.kind === 'name' && !e.opaque;
}

/** The sets a name entry's learned addresses go into. */
export function learnedPrefix(e: NameEntry): SetPrefix {
  return e.opaque ? '' : 'name-';
}

export function renderRuleset(input: RulesetInput): Ruleset {
  const of = (entries: Entry[], f: Family) => entries.filter((e): e is AddressEntry => e.kind === 'address' && e.family === f);
  const names = input.allow.filter((e): e is NameEntry => e.kind === 'name');
  const checked = names.filter(checkedName);
  const opaque = names.filter((e) => !checkedName(e));
  const kind = (f: Family) => (f === 4 ? 'ipv4' : 'ipv6');
  // The gateways (the Docker host) and the networks this run must not reach.
  const networkGuards = (f: Family) => [
    ...input.gateways.filter((g) => ipaddr.parse(g).kind() === kind(f)).map((g) => hostCidr(g)),
    ...(input.guardedNetworks ?? []).filter((n) => ipaddr.parseCIDR(n)[0].kind() === kind(f)),
  ];
  const sets = (f: Family) => [
    ...setContents(of(input.allow, f), f, '', opaque),
    ...(checked.length > 0 ? setContents([], f, 'name-', checked) : []),
    ...setContents(of(input.deny, f), f, 'deny-'),
  ];
  const [sets4, sets6] = [sets(4), sets(6)];
  const guards = (f: Family) => unique([...GUARDED[f], ...networkGuards(f)]);
  // The checker's nat rules, where no queue reads the connections (a Pod).
  const wire = (f: Family, s: SetContent[]) =>
    input.checker && input.wireQueue === undefined && checked.length > 0 ? renderWire(f, input.checker, s, guards(f)) : undefined;
  const [wire4, wire6] = [wire(4, sets4), wire(6, sets6)];
  return {
    ipset: renderIpset([...sets4, ...sets6]),
    v4: renderFilter(4, input, of(input.allow, 4), sets4, networkGuards(4), wire4 !== undefined),
    v6: renderFilter(6, input, of(input.allow, 6), sets6, networkGuards(6), wire6 !== undefined),
    nat4: renderNat(input.resolver, input.resolverUser?.uid, wire4),
    nat6: wire6 ? ['*nat', ...wire6.declarations, ...wire6.rules, 'COMMIT', ''].join('\n') : '',
    resolvConf: `nameserver ${input.resolver.address}\noptions ndots:0\n`,
  };
}

/**
 * Whether an address is guarded (metadata, link-local, the Docker host's `gateways`, the guarded
 * `networks`): the name checker never connects to one, whatever name a connection carries.
 */
export function guardedBy(gateways: string[], networks: string[]): (address: string) => boolean {
  const ranges = [...GUARDED[4], ...GUARDED[6], ...networks].map((n) => ipaddr.parseCIDR(n));
  const hosts = new Set(gateways.map((g) => ipaddr.parse(g).toString()));
  return (address) => {
    const a = ipaddr.parse(address);
    return hosts.has(a.toString()) || ranges.some((r) => a.kind() === r[0].kind() && a.match(r));
  };
}

/** `set element` for every element the rules load permanently. */
export function staticMembers(rules: Ruleset): Set<string> {
  const members = new Set<string>();
  for (const line of rules.ipset.split('\n')) {
    const [verb, set, element] = line.split(' ');
    if (verb === 'add') members.add(`${set} ${element}`);
  }
  return members;
}

interface SetContent {
  name: string;
  type: 'hash:net' | 'hash:net,port';
  family: Family;
  prefix: SetPrefix;
  /** A port range's set: the rule that matches it carries the range. */
  range?: { proto: Protocol; ports: PortRange };
  elements: string[];
}

/** The three sets every fence has, then one per port range among `entries` and `names`. */
function setContents(entries: AddressEntry[], family: Family, prefix: SetPrefix, names: Ports[] = []): SetContent[] {
  const sets = new Map<string, SetContent>();
  const add = (name: string, type: SetContent['type'], range?: SetContent['range']) =>
    sets.set(name, { name, type, family, prefix, ...(range ? { range } : {}), elements: [] });
  for (const kind of ['tcp', 'udp', 'port'] as const) add(setName(family, kind, prefix), kind === 'port' ? 'hash:net,port' : 'hash:net');
  for (const r of portRanges([...entries, ...names])) add(rangeSetName(family, r.proto, r.ports, prefix), 'hash:net', r);
  for (const e of entries) {
    for (const net of splitForHashNet(e.cidr)) {
      for (const m of setMembers(family, net, e.protocols, e.ports, prefix)) sets.get(m.set)!.elements.push(m.element);
    }
  }
  return [...sets.values()].map((s) => ({ ...s, elements: unique(s.elements) }));
}

/** Each protocol and port range (more than one port) the entries name, once, in their order. */
function portRanges(entries: Ports[]): Array<{ proto: Protocol; ports: PortRange }> {
  const seen = new Map<string, { proto: Protocol; ports: PortRange }>();
  for (const e of entries) {
    if (!e.ports || e.ports.from === e.ports.to) continue;
    for (const proto of e.protocols) seen.set(`${proto} ${e.ports.from} ${e.ports.to}`, { proto, ports: e.ports });
  }
  return [...seen.values()];
}

export interface SetMember {
  set: string;
  element: string;
}

/**
 * The set elements that open `net` for the given protocols and ports: the one place that
 * decides how an allowance is stored, for static entries and for addresses learned from names.
 */
export function setMembers(family: Family, net: string, protocols: Protocol[], ports?: PortRange, prefix: SetPrefix = ''): SetMember[] {
  return protocols.map((proto): SetMember => {
    if (!ports) return { set: setName(family, proto, prefix), element: net };
    if (ports.from === ports.to) return { set: setName(family, 'port', prefix), element: `${net},${proto}:${ports.from}` };
    return { set: rangeSetName(family, proto, ports, prefix), element: net };
  });
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

function renderFilter(
  family: Family,
  input: RulesetInput,
  allow: AddressEntry[],
  ipsets: SetContent[],
  networkGuards: string[],
  wired: boolean,
): string {
  const rejectIcmp = family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable';
  const out = (rule: string) => `-A OUTPUT ${rule}`;
  const sets = (prefix: SetPrefix, target: string) => [
    out(`-p tcp -m set --match-set ${setName(family, 'tcp', prefix)} dst -j ${target}`),
    out(`-p udp -m set --match-set ${setName(family, 'udp', prefix)} dst -j ${target}`),
    out(`-m set --match-set ${setName(family, 'port', prefix)} dst,dst -j ${target}`),
    ...ipsets
      .filter((s): s is Required<SetContent> => s.prefix === prefix && s.range !== undefined)
      .map(({ name, range: { proto, ports } }) =>
        out(`-p ${proto} -m ${proto} --dport ${ports.from}:${ports.to} -m set --match-set ${name} dst -j ${target}`),
      ),
  ];
  const rules = renderInput(family, input);
  const fast = input.wireQueue !== undefined && ipsets.some((s) => s.prefix === 'name-');
  // Before everything else: a connection being read is queued at every packet.
  if (fast) rules.push(...checkHeads());
  rules.push(out('-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'));
  // Docker's embedded resolver forwards any name to the host's resolvers: an exit, in every
  // mode. Before loopback, which would otherwise let it through.
  if (family === 4) rules.push(out(`-d ${DOCKER_DNS} -j BF-REJECT`));
  rules.push(out('-o lo -j ACCEPT'));
  // Before the guards: an upstream may be a node-local cache on a link-local address.
  for (const u of input.resolverUser?.upstreams ?? []) {
    if (ipaddr.parse(u.address).kind() !== (family === 4 ? 'ipv4' : 'ipv6')) continue;
    for (const proto of ['udp', 'tcp']) {
      rules.push(
        out(
          `-d ${hostCidr(u.address)} -p ${proto} -m owner --uid-owner ${input.resolverUser!.uid} -m ${proto} --dport ${u.port} -j ACCEPT`,
        ),
      );
    }
  }
  if (family === 4) {
    // Where the nat table sends DNS. The resolver is on the Docker host, which is guarded below.
    const r = `-d ${input.resolver.address}/32`;
    rules.push(out(`${r} -p udp -m udp --dport ${input.resolver.port} -j ACCEPT`));
    rules.push(out(`${r} -p tcp -m tcp --dport ${input.resolver.port} -j ACCEPT`));
  } else {
    // Neighbour discovery out: router and neighbour solicitations, advertisements.
    for (const type of [133, 135, 136]) rules.push(out(neighbourDiscovery(type)));
    // The kernel's own multicast listener reports (MLDv2), which never leave the link (hop limit 1).
    rules.push(out('-d ff02::16/128 -p ipv6-icmp -m icmp6 --icmpv6-type 143 -m hl --hl-eq 1 -j ACCEPT'));
    // DNS goes to the resolver over IPv4 only; DNS over IPv6 is refused, never forwarded.
    rules.push(out('-p udp -m udp --dport 53 -j BF-REJECT'));
    rules.push(out('-p tcp -m tcp --dport 53 -j BF-REJECT'));
  }
  // Connections the nat rules sent to the checker (on the Docker host, or a Pod's loopback, which
  // `-o lo` does not match: the filter sees the interface the packet was routed to before the nat rule).
  const checker = family === 4 ? input.checker?.address4 : input.checker?.address6;
  if (wired && checker !== undefined) {
    const { port, ports } = input.checker!;
    const dport = ports > 1 ? `${port}:${port + ports - 1}` : String(port);
    rules.push(out(`-d ${hostCidr(checker)} -p tcp -m tcp --dport ${dport} -m conntrack --ctstate DNAT -j ACCEPT`));
  }
  const guarded = unique([...GUARDED[family], ...networkGuards]);
  for (const g of guarded) rules.push(out(`-d ${g} -j BF-GUARD`));
  rules.push(...sets('deny-', 'BF-DENY'), ...sets('', 'ACCEPT'));
  rules.push(...nameSetRules(family, ipsets, input.checker?.uid));
  if (fast) rules.push(...checkNew(family, ipsets));
  // DNS over TLS, reachable only where an entry allows the address (the sets above).
  rules.push(out('-p tcp -m tcp --dport 853 -j BF-REJECT'));
  rules.push(out('-j BF-DENY'));
  // iptables-save prints the chains in the order of their names: the read-back compares in that order.
  if (fast) rules.push(...checkChains(input.wireQueue!));

  // Audit mode records what block mode would refuse, and lets it through.
  if (input.mode === 'block') rules.push('-A BF-DENY -j BF-REJECT');
  else rules.push(...countedLog('audited'), '-A BF-DENY -j ACCEPT');
  const guardedRanges = guarded.map((g) => ipaddr.parseCIDR(g));
  for (const e of allow.filter((x) => namesGuardedHost(x, guardedRanges))) {
    for (const proto of e.protocols) rules.push(`-A BF-GUARD -d ${e.cidr} ${protoMatch(proto, e)}-j ACCEPT`);
  }
  rules.push('-A BF-GUARD -j BF-REJECT');
  rules.push(...renderInbound(input.mode));
  rules.push(...countedLog('refused'));
  rules.push('-A BF-REJECT -p tcp -j REJECT --reject-with tcp-reset');
  rules.push(`-A BF-REJECT -j REJECT --reject-with ${rejectIcmp}`);

  return [
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT DROP [0:0]',
    ...(fast ? [`:${CHECK_CHAIN} - [0:0]`, `:${CHECK_NEW_CHAIN} - [0:0]`] : []),
    ':BF-DENY - [0:0]',
    ':BF-GUARD - [0:0]',
    `:${INBOUND_CHAIN} - [0:0]`,
    ':BF-REJECT - [0:0]',
    ...rules,
    'COMMIT',
    '',
  ].join('\n');
}

const markMatch = (what: 'mark' | 'connmark', value: number) => `-m ${what} --mark ${hex(value)}/${hex(WIRE_MARK.mask)}`;
const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * OUTPUT's first rules: a connection being read goes to BF-CHECK; a refused one is reset at every
 * packet but its own resets (which carry nothing, and end it at the server). The build's packets
 * only (the original direction): the reset the kernel sends the build for a refused connection
 * passes OUTPUT too, as the connection's reply, and an HTTP connection's answers never wait.
 */
function checkHeads(): string[] {
  const own = '-p tcp -m conntrack --ctdir ORIGINAL';
  return [
    `-A OUTPUT ${own} ${markMatch('connmark', WIRE_MARK.pending)} -j ${CHECK_CHAIN}`,
    `-A OUTPUT ${own} ${markMatch('connmark', WIRE_MARK.refused)} -m tcp ! --tcp-flags RST RST -j REJECT --reject-with tcp-reset`,
  ];
}

/**
 * BF-CHECK: a packet the queue's verdict sent back saves its mark in the connection's and is let
 * through (checked) or reset (refused); any other goes to the queue, with no bypass: without a
 * reader the kernel drops it. (An HTTP packet the queue lets through is accepted there, and its
 * connection stays marked as read.) BF-CHECK-NEW marks a new connection as being read.
 */
function checkChains(queue: number): string[] {
  const t = (rule: string) => `-A ${CHECK_CHAIN} -p tcp ${rule}`;
  const save = (value: number) => `-j CONNMARK --set-xmark ${hex(value)}/${hex(WIRE_MARK.mask)}`;
  return [
    t(`${markMatch('mark', WIRE_MARK.checked)} ${save(WIRE_MARK.checked)}`),
    t(`${markMatch('mark', WIRE_MARK.checked)} -j ACCEPT`),
    t(`${markMatch('mark', WIRE_MARK.refused)} ${save(WIRE_MARK.refused)}`),
    t(`${markMatch('mark', WIRE_MARK.refused)} -j REJECT --reject-with tcp-reset`),
    t(`-j NFQUEUE --queue-num ${queue}`),
    `-A ${CHECK_NEW_CHAIN} -p tcp ${save(WIRE_MARK.pending)}`,
    `-A ${CHECK_NEW_CHAIN} -p tcp -j ${CHECK_CHAIN}`,
  ];
}

/** New TCP connections, on any port, to what name entries opened: marked as being read. */
function checkNew(family: Family, ipsets: SetContent[]): string[] {
  return [
    `-A OUTPUT -p tcp -m set --match-set ${setName(family, 'tcp', 'name-')} dst -j ${CHECK_NEW_CHAIN}`,
    `-A OUTPUT -p tcp -m set --match-set ${setName(family, 'port', 'name-')} dst,dst -j ${CHECK_NEW_CHAIN}`,
    ...ipsets
      .filter((s): s is Required<SetContent> => s.prefix === 'name-' && s.range?.proto === 'tcp')
      .map(
        (s) =>
          `-A OUTPUT -p tcp -m tcp --dport ${s.range.ports.from}:${s.range.ports.to} -m set --match-set ${s.name} dst -j ${CHECK_NEW_CHAIN}`,
      ),
  ];
}

/** Router and neighbour solicitations, advertisements, with the hop limit 255 that RFC 4861 requires: nothing routed passes as discovery. */
function neighbourDiscovery(type: number): string {
  return `-p ipv6-icmp -m icmp6 --icmpv6-type ${type} -m hl --hl-eq 255 -j ACCEPT`;
}

/** Where new inbound connections and datagrams to the build end: logged, then dropped (audit: let through). */
export const INBOUND_CHAIN = 'BF-INBOUND';

/**
 * The holder's INPUT: nothing may open a connection to the build or send it a datagram (a peer
 * on the network would otherwise reach a listener of the build and be answered, as replies
 * pass OUTPUT as established). Replies to the build's own connections, loopback (where the Pod's
 * resolver listens), the end-of-run mark and IPv6 neighbour discovery pass.
 */
function renderInput(family: Family, input: RulesetInput): string[] {
  const rules: string[] = [];
  const rule = (r: string) => rules.push(`-A INPUT ${r}`);
  if (family === 4 && input.drainMark) {
    // Only the host's address on eth0 matches: the build, in this namespace, reaches it over lo.
    const mark = `-s ${hostCidr(input.drainMark.from)} -i eth0 -p udp -m udp --dport ${input.drainMark.port}`;
    rule(`${mark} -j NFLOG --nflog-prefix bf-mark --nflog-group ${NFLOG_GROUP.mark} --nflog-threshold 1`);
    rule(`${mark} -j DROP`);
  }
  rule('-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  rule('-i lo -j ACCEPT');
  if (family === 6) {
    // Solicitations come in for the holder's addresses (the gateway asks before it delivers a
    // reply); advertisements answer its own. The multicast listener query (hop limit 1) keeps
    // the bridge's snooping table, where one runs, delivering those solicitations.
    for (const type of [133, 134, 135, 136]) rule(neighbourDiscovery(type));
    rule('-p ipv6-icmp -m icmp6 --icmpv6-type 130 -m hl --hl-eq 1 -j ACCEPT');
  }
  // Stray packets of connections conntrack no longer knows are no one's attempt: dropped unlogged.
  rule('-m conntrack --ctstate INVALID -j DROP');
  rule(`-j ${INBOUND_CHAIN}`);
  return rules;
}

/**
 * What name entries opened, in the filter: UDP goes out (it is checked by address only); TCP goes
 * to the checker by the nat rules, and only the checker's own user (a Pod's) reaches it directly.
 */
function nameSetRules(family: Family, ipsets: SetContent[], checkerUid?: number): string[] {
  if (!ipsets.some((s) => s.prefix === 'name-')) return [];
  const ranges = ipsets.filter((s): s is Required<SetContent> => s.prefix === 'name-' && s.range !== undefined);
  const rules = [
    `-A OUTPUT -p udp -m set --match-set ${setName(family, 'udp', 'name-')} dst -j ACCEPT`,
    `-A OUTPUT -p udp -m set --match-set ${setName(family, 'port', 'name-')} dst,dst -j ACCEPT`,
    ...ranges
      .filter((r) => r.range.proto === 'udp')
      .map((r) => `-A OUTPUT -p udp -m udp --dport ${r.range.ports.from}:${r.range.ports.to} -m set --match-set ${r.name} dst -j ACCEPT`),
  ];
  if (checkerUid === undefined) return rules;
  const owner = `-p tcp -m owner --uid-owner ${checkerUid}`;
  return [
    ...rules,
    `-A OUTPUT ${owner} -m set --match-set ${setName(family, 'tcp', 'name-')} dst -j ACCEPT`,
    `-A OUTPUT ${owner} -m set --match-set ${setName(family, 'port', 'name-')} dst,dst -j ACCEPT`,
    ...ranges
      .filter((r) => r.range.proto === 'tcp')
      .map((r) => `-A OUTPUT ${owner} -m tcp --dport ${r.range.ports.from}:${r.range.ports.to} -m set --match-set ${r.name} dst -j ACCEPT`),
  ];
}

/**
 * Per destination (address and port), the log takes the first `burst` attempts, then `perSecond`:
 * a flood to one destination cannot crowd the others out of it. The kernel counts every attempt
 * (COUNTER_RULES); past `tracked` destinations in a few seconds, new ones are dropped, not
 * rejected, unlogged but counted.
 */
export const LOG_LIMIT = { burst: 5, perSecond: 1, tracked: 65536, expireMs: 2000 } as const;

/**
 * The rules whose kernel counters are the run's totals: every attempt refused, every one audit let
 * through, and the same for inbound attempts (which count in those totals too).
 */
export const COUNTER_RULES = {
  refused: '-A BF-REJECT -m comment --comment bf-refused',
  audited: '-A BF-DENY -m comment --comment bf-audited',
  inboundRefused: `-A ${INBOUND_CHAIN} -m comment --comment bf-in-refused`,
  inboundAudited: `-A ${INBOUND_CHAIN} -m comment --comment bf-in-audited`,
} as const;

/**
 * Each counted chain's log: its prefix and group, and what the limit counts per: the destination
 * for the build's attempts, the sender and the build's port for inbound ones (a peer's flood
 * cannot crowd the build's denials out of the log either). hashlimit names have 15 characters at most.
 */
const LOGS: Record<keyof typeof COUNTER_RULES, { prefix: string; group: number; per: string; name: string }> = {
  refused: { prefix: 'bf-deny', group: NFLOG_GROUP.denied, per: 'dstip,dstport', name: 'bf-refused' },
  audited: { prefix: 'bf-audit', group: NFLOG_GROUP.audit, per: 'dstip,dstport', name: 'bf-audited' },
  inboundRefused: { prefix: 'bf-inbound', group: NFLOG_GROUP.inbound, per: 'srcip,dstport', name: 'bf-in-refused' },
  inboundAudited: { prefix: 'bf-inbound-audit', group: NFLOG_GROUP.inboundAudit, per: 'srcip,dstport', name: 'bf-in-audited' },
};

// A chain's head: the counter, then the log within LOG_LIMIT.
function countedLog(what: keyof typeof COUNTER_RULES): string[] {
  const { prefix, group, per, name } = LOGS[what];
  const chain = COUNTER_RULES[what].split(' ')[1];
  const l = LOG_LIMIT;
  const limit =
    `-m hashlimit --hashlimit-upto ${l.perSecond}/sec --hashlimit-burst ${l.burst} --hashlimit-mode ${per} ` +
    `--hashlimit-name ${name} --hashlimit-htable-max ${l.tracked} --hashlimit-htable-expire ${l.expireMs}`;
  return [COUNTER_RULES[what], `-A ${chain} ${limit} -j NFLOG --nflog-prefix ${prefix} --nflog-group ${group} --nflog-threshold 1`];
}

function renderInbound(mode: Mode): string[] {
  return mode === 'block'
    ? [...countedLog('inboundRefused'), `-A ${INBOUND_CHAIN} -j DROP`]
    : [...countedLog('inboundAudited'), `-A ${INBOUND_CHAIN} -j ACCEPT`];
}

/** The chain that sends DNS to the resolver, whatever address it was sent to. */
export const NAT_CHAIN = 'BF-DNS';
/** The chains that send TCP to addresses only name entries opened to the checker, logging each first packet. */
export const WIRE_CHAIN = 'BF-WIRE';
export const WIRE_TO_CHAIN = 'BF-WIRE-TO';

interface NatPart {
  declarations: string[];
  /** The jumps from OUTPUT (`-I OUTPUT n`), then the chains' rules. */
  rules: string[];
}

/**
 * The name check's nat rules for one family. What is open by address, closed by a deny entry,
 * guarded, or loopback is left to the filter; TCP to what only a name entry opened is logged
 * (its first packet, with its original destination, which the checker reads) and sent to the checker.
 */
function renderWire(
  family: Family,
  checker: NonNullable<RulesetInput['checker']>,
  ipsets: SetContent[],
  guards: string[],
): NatPart | undefined {
  const address = family === 4 ? checker.address4 : checker.address6;
  if (address === undefined) return undefined;
  const w = (rule: string) => `-A ${WIRE_CHAIN} ${rule}`;
  const tcpSets = (prefix: SetPrefix, target: string) => [
    w(`-m set --match-set ${setName(family, 'tcp', prefix)} dst -j ${target}`),
    w(`-m set --match-set ${setName(family, 'port', prefix)} dst,dst -j ${target}`),
    ...ipsets
      .filter((s): s is Required<SetContent> => s.prefix === prefix && s.range?.proto === 'tcp')
      .map((s) => w(`-p tcp -m tcp --dport ${s.range.ports.from}:${s.range.ports.to} -m set --match-set ${s.name} dst -j ${target}`)),
  ];
  // A range of the checker's ports: where one would clash in conntrack, the next is taken (wire/checker.ts).
  const ports = checker.ports > 1 ? `${checker.port}-${checker.port + checker.ports - 1}` : String(checker.port);
  const to = family === 4 ? `${address}:${ports}` : `[${ipaddr.parse(address).toString()}]:${ports}`;
  return {
    declarations: [`:${WIRE_CHAIN} - [0:0]`, `:${WIRE_TO_CHAIN} - [0:0]`],
    rules: [
      `-I OUTPUT ${family === 4 ? 2 : 1} -p tcp -j ${WIRE_CHAIN}`,
      w(`-d ${family === 4 ? '127.0.0.0/8' : '::1/128'} -j RETURN`),
      // The checker's own connections (a Pod's: it shares the namespace) go where they were sent.
      ...(checker.uid === undefined ? [] : [w(`-m owner --uid-owner ${checker.uid} -j RETURN`)]),
      ...guards.map((g) => w(`-d ${g} -j RETURN`)),
      ...tcpSets('deny-', 'RETURN'),
      ...tcpSets('', 'RETURN'),
      ...tcpSets('name-', WIRE_TO_CHAIN),
      `-A ${WIRE_TO_CHAIN} -j NFLOG --nflog-prefix bf-wire --nflog-group ${NFLOG_GROUP.wire} --nflog-threshold 1`,
      `-A ${WIRE_TO_CHAIN} -p tcp -j DNAT --to-destination ${to}`,
    ],
  };
}

// Loaded with --noflush: Docker's nat chains for 127.0.0.11 stay; ours go first in OUTPUT.
// Loopback destinations are left alone, so the embedded resolver stays refused by the filter.
function renderNat(resolver: RulesetInput['resolver'], resolverUid: number | undefined, wire: NatPart | undefined): string {
  const to = `--to-destination ${resolver.address}:${resolver.port}`;
  const jumps = (wire?.rules ?? []).filter((r) => r.startsWith('-I '));
  return [
    '*nat',
    `:${NAT_CHAIN} - [0:0]`,
    ...(wire?.declarations ?? []),
    `-I OUTPUT 1 -j ${NAT_CHAIN}`,
    ...jumps,
    `-A ${NAT_CHAIN} -d 127.0.0.0/8 -j RETURN`,
    // The resolver's own queries go to the upstream, not back to itself.
    ...(resolverUid === undefined ? [] : [`-A ${NAT_CHAIN} -m owner --uid-owner ${resolverUid} -j RETURN`]),
    `-A ${NAT_CHAIN} -p udp -m udp --dport 53 -j DNAT ${to}`,
    `-A ${NAT_CHAIN} -p tcp -m tcp --dport 53 -j DNAT ${to}`,
    ...(wire?.rules ?? []).filter((r) => !r.startsWith('-I ')),
    'COMMIT',
    '',
  ].join('\n');
}

// Only an entry for one exact host opens a guarded address: a CIDR that merely contains it does not.
// Read from the canonical text: most entries are networks and are decided without parsing.
function namesGuardedHost(e: AddressEntry, guarded: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>): boolean {
  const slash = e.cidr.indexOf('/');
  if (e.cidr.slice(slash + 1) !== (e.family === 4 ? '32' : '128')) return false;
  const addr = e.family === 4 ? ipaddr.IPv4.parse(e.cidr.slice(0, slash)) : ipaddr.IPv6.parse(e.cidr.slice(0, slash));
  return guarded.some((range) => addr.kind() === range[0].kind() && addr.match(range));
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
