// Service containers by name. On a user-defined network (the job's, where the runner starts the
// services with their key as an alias), the engine knows which container answers to which name.
// That view becomes the resolver's table of network names, and each name entry that names one of
// those containers opens that container's addresses, on the entry's ports only.
import ipaddr from 'ipaddr.js';
import { inspectContainer, inspectNetwork } from './engine.js';
import { matchingEntries } from '../dns/match.js';
import { NetworkNames, type NetworkName } from '../dns/network-names.js';
import { LABEL } from '../run/identity.js';
import type { AddressEntry, Entry, NameEntry } from '../run/entry.js';

/** The containers on `network` and the names its DNS answers for them, this process's own container and buildfence's left out. */
export async function networkNames(network: string, self?: string): Promise<NetworkNames> {
  const net = await inspectNetwork(network);
  const members = Object.entries(net?.Containers ?? {}).filter(([id]) => id !== self);
  const names = await Promise.all(
    members.map(async ([id, member]): Promise<NetworkName[]> => {
      const c = await inspectContainer(id).catch(() => undefined);
      if (!c || Object.keys(c.Config.Labels ?? {}).includes(LABEL)) return [];
      const endpoint = c.NetworkSettings.Networks?.[network];
      const addresses = [member.IPv4Address, member.IPv6Address, endpoint?.IPAddress, endpoint?.GlobalIPv6Address]
        .filter((a): a is string => Boolean(a))
        .map((a) => ipaddr.parse(a.replace(/\/\d+$/, '')).toString());
      const given = [member.Name, ...(endpoint?.Aliases ?? []), ...(endpoint?.DNSNames ?? [])];
      return [...new Set(given.filter(Boolean))].map((name) => ({ name, addresses: [...new Set(addresses)] }));
    }),
  );
  return new NetworkNames(network, names.flat());
}

/**
 * The address entries that open the containers the allowlist names on the network, each on its
 * entry's protocols and ports (a deny entry that names a container keeps it closed). An exact
 * single-label name that no container answers to is an error: it is meant for a service that is
 * not there (or not on this network), and would otherwise be asked upstream.
 */
export function serviceEntries(
  allow: Entry[],
  deny: Entry[],
  names: NetworkNames | undefined,
  where: { label: string; jobContainer: boolean },
): AddressEntry[] {
  const entries: AddressEntry[] = [];
  for (const name of names?.names() ?? []) {
    if (matchingEntries(deny, name).length > 0) continue;
    for (const e of matchingEntries(allow, name)) {
      for (const address of names!.lookup(name)!) {
        const family = address.includes(':') ? 6 : 4;
        entries.push({
          kind: 'address',
          family,
          cidr: `${address}/${family === 4 ? 32 : 128}`,
          protocols: e.protocols,
          ...(e.ports ? { ports: e.ports } : {}),
          text: e.text,
        });
      }
    }
  }
  const missing = allow.filter((e): e is NameEntry => e.kind === 'name' && !e.wildcard && !e.name.includes('.') && e.name !== 'localhost');
  const problems = missing.filter((e) => !names?.lookup(e.name)).map((e) => missingService(e, names, where));
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return entries;
}

function missingService(e: NameEntry, names: NetworkNames | undefined, where: { label: string; jobContainer: boolean }): string {
  const setNetwork = `set ${where.label} to the job's network (network: \${{ job.services.${e.name}.network }})`;
  const elsewhere = 'A host outside Docker is named with its domain (db.example.com).';
  if (!names) {
    return (
      `Allowlist entry '${e.text}' is a single-label name, which only a container on a user-defined Docker network answers to ` +
      `(a service container), and the build is on Docker's default bridge, where containers have no names: ${setNetwork}. ${elsewhere}`
    );
  }
  // Container IDs answer too; the names are what a user wrote.
  const found = names.names().filter((n) => !/^[0-9a-f]{12}$/.test(n));
  const fix = where.jobContainer
    ? "check the name (the job container is on the job's network already)"
    : `check the name, or ${setNetwork}`;
  return (
    `Allowlist entry '${e.text}' names no container on network '${names.network}' ` +
    `(${found.length > 0 ? `its containers answer to ${found.join(', ')}` : 'no other container is on it'}). ` +
    `A service container answers to its key under jobs.<job>.services: ${fix}. ${elsewhere}`
  );
}
