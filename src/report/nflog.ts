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
  address: string;
  port?: number;
}

/** tcpdump on the given NFLOG groups, one line per packet as soon as it is seen, in the form parseNflogLine reads. */
export function readerCommand(groups: number[]): string[] {
  return ['tcpdump', '-tt', '-q', '-n', '-l', '-e', '-i', `nflog:${groups.join(',')}`];
}

const LINE = /^(\d+(?:\.\d+)?) version \d+, resource ID (\d+), (IPv4|IPv6), length \d+: (\S+) > (\S+?): (.*)$/;

/** The packet a tcpdump line describes, or undefined for anything else (banners, other groups). */
export function parseNflogLine(line: string): LoggedPacket | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const group = Number(m[2]);
  if (group !== NFLOG_GROUP.denied && group !== NFLOG_GROUP.audit) return undefined;
  const rest = m[6];
  const protocol = /^tcp\b/.test(rest) ? 'tcp' : /^UDP\b/.test(rest) ? 'udp' : /^ICMP6?\b/.test(rest) ? 'icmp' : 'other';
  let address = m[5];
  let port: number | undefined;
  // tcpdump writes address.port for TCP and UDP only.
  if (protocol === 'tcp' || protocol === 'udp') {
    const dot = address.lastIndexOf('.');
    port = Number(address.slice(dot + 1));
    address = address.slice(0, dot);
  }
  if (!ipaddr.isValid(address)) return undefined;
  return {
    time: Number(m[1]),
    enforced: group === NFLOG_GROUP.denied,
    family: m[3] === 'IPv4' ? 4 : 6,
    protocol,
    address: ipaddr.parse(address).toString(),
    ...(port !== undefined ? { port } : {}),
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
