// The names a Docker network's own DNS gives its containers (container names and aliases: a
// service container's key, `postgres`), as the engine reported them when the fence went up.
// buildfence's resolver answers these names itself, from this table: they are never forwarded
// upstream, and the build never reaches Docker's embedded resolver. Pure.
import { normalizeName } from './match.js';
import type { Learned } from './message.js';

/** Docker's embedded DNS answers its containers' names with this TTL. */
export const NETWORK_NAME_TTL = 600;

export interface NetworkName {
  name: string;
  /** The containers' addresses on the network, IPv4 and IPv6. */
  addresses: string[];
}

export class NetworkNames {
  private readonly table = new Map<string, string[]>();

  constructor(
    /** The network's name, for messages. */
    readonly network: string,
    names: NetworkName[],
  ) {
    for (const n of names) {
      const key = normalizeName(n.name);
      this.table.set(key, [...new Set([...(this.table.get(key) ?? []), ...n.addresses])]);
    }
  }

  /** The addresses a name is answered with on this network, or undefined when no container has it. */
  lookup(name: string): string[] | undefined {
    return this.table.get(normalizeName(name));
  }

  names(): string[] {
    return [...this.table.keys()];
  }
}

/** The answer's records for a question of `type`: A for IPv4, AAAA for IPv6, none for other types (NOERROR, no data). */
export function networkAnswer(addresses: string[], type: string): Learned[] {
  const family = type === 'A' ? 4 : type === 'AAAA' ? 6 : undefined;
  return addresses
    .filter((a) => (a.includes(':') ? 6 : 4) === family)
    .map((address) => ({ family: family!, address, ttl: NETWORK_NAME_TTL }));
}
