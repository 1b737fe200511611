// Shared shapes that flow from inputs to rules; no behaviour lives here.

export type Mode = 'block' | 'audit';
export type Protocol = 'tcp' | 'udp';

export interface PortRange {
  from: number;
  to: number;
}

interface EntryBase {
  /** The entry exactly as the user wrote it, for messages and the report. */
  text: string;
  /** Protocols the entry opens: both for a bare address or name, one for `host:port` or `proto://`. */
  protocols: Protocol[];
  /** Ports the entry opens; absent means every port. */
  ports?: PortRange;
}

export interface AddressEntry extends EntryBase {
  kind: 'address';
  family: 4 | 6;
  /** Canonical network, always with a prefix: `203.0.113.7/32`, `2001:db8::/32`. */
  cidr: string;
}

export interface NameEntry extends EntryBase {
  kind: 'name';
  /** Lower case, no trailing dot, without the `*.` of a wildcard. */
  name: string;
  /** `*.example.com`: any subdomain at any depth, never the apex. */
  wildcard: boolean;
  /**
   * `opaque://`: TCP to the name's addresses is not checked on the wire (no TLS server_name or HTTP
   * Host to read, as for SSH); the entry then opens those addresses, as an address entry would.
   */
  opaque?: true;
}

export type Entry = AddressEntry | NameEntry;
