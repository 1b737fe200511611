// Reads the holder's NFLOG stream as tcpdump prints it (`-tt -q -n -e`), one packet a line. Pure.
import ipaddr from 'ipaddr.js';
import { NFLOG_GROUP } from '../firewall/ruleset.js';

export interface LoggedPacket {
  /** Seconds since the epoch. */
  time: number;
  /** Refused by the fence, or let through by audit mode (which block mode would refuse). */
  enforced: boolean;
  family: 4 | 6;
  protocol: 'tcp' | 'udp' | 'icmp' | 'other';
  /** Where the build tried to go; for an inbound attempt, where it came from. */
  address: string;
  /** The destination port; for an inbound attempt, the build's port it tried to reach. */
  port?: number;
  /** A new connection or datagram to the build, from outside. */
  inbound?: true;
}

/** The groups of the build's packets and of inbound attempts, and what each means. */
const GROUPS = new Map<number, { enforced: boolean; inbound: boolean }>([
  [NFLOG_GROUP.denied, { enforced: true, inbound: false }],
  [NFLOG_GROUP.audit, { enforced: false, inbound: false }],
  [NFLOG_GROUP.inbound, { enforced: true, inbound: true }],
  [NFLOG_GROUP.inboundAudit, { enforced: false, inbound: true }],
]);

/** Every group the reader listens on for packets it records. */
export const RECORDED_GROUPS = [...GROUPS.keys()];

/** tcpdump on the given NFLOG groups, one line per packet as soon as it is seen, in the form parseNflogLine reads. */
export function readerCommand(groups: number[]): string[] {
  return ['tcpdump', '-tt', '-q', '-n', '-l', '-e', '-i', `nflog:${groups.join(',')}`];
}

const LINE = /^(\d+(?:\.\d+)?) version \d+, resource ID (\d+), (IPv4|IPv6), length \d+: (\S+) > (\S+?): (.*)$/;

/** The packet a tcpdump line describes, or undefined for anything else (banners, other groups). */
export function parseNflogLine(line: string): LoggedPacket | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const group = GROUPS.get(Number(m[2]));
  if (!group) return undefined;
  const rest = m[6];
  const protocol = /^tcp\b/.test(rest) ? 'tcp' : /^UDP\b/.test(rest) ? 'udp' : /^ICMP6?\b/.test(rest) ? 'icmp' : 'other';
  // tcpdump writes address.port for TCP and UDP only.
  const split = (text: string): [string, number?] => {
    if (protocol !== 'tcp' && protocol !== 'udp') return [text];
    const dot = text.lastIndexOf('.');
    return [text.slice(0, dot), Number(text.slice(dot + 1))];
  };
  const [destination, port] = split(m[5]);
  const address = group.inbound ? split(m[4])[0] : destination;
  if (!ipaddr.isValid(address)) return undefined;
  return {
    time: Number(m[1]),
    enforced: group.enforced,
    family: m[3] === 'IPv4' ? 4 : 6,
    protocol,
    address: ipaddr.parse(address).toString(),
    ...(port !== undefined ? { port } : {}),
    ...(group.inbound ? { inbound: true as const } : {}),
  };
}

/** The destination port of an end-of-run mark's line (the mark group), or undefined for any other line. */
export function parseMarkLine(line: string): number | undefined {
  const m = LINE.exec(line.trim());
  if (!m || Number(m[2]) !== NFLOG_GROUP.mark || !/^UDP\b/.test(m[6])) return undefined;
  return Number(m[5].slice(m[5].lastIndexOf('.') + 1));
}

/** A connection the nat rules sent to the name checker: from where, and where it was going. */
export interface WireLine {
  source: string;
  sourcePort: number;
  address: string;
  port: number;
}

/** The first packet of a checked connection (the wire group), logged before its destination was rewritten. */
export function parseWireLine(line: string): WireLine | undefined {
  const m = LINE.exec(line.trim());
  if (!m || Number(m[2]) !== NFLOG_GROUP.wire || !/^tcp\b/.test(m[6])) return undefined;
  const [source, sourcePort] = hostPort(m[4]);
  const [address, port] = hostPort(m[5]);
  if (!ipaddr.isValid(source) || !ipaddr.isValid(address)) return undefined;
  return { source: ipaddr.parse(source).toString(), sourcePort, address: ipaddr.parse(address).toString(), port };
}

/** tcpdump's `address.port`. */
function hostPort(text: string): [string, number] {
  const dot = text.lastIndexOf('.');
  return [text.slice(0, dot), Number(text.slice(dot + 1))];
}
