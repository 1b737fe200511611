// What the fence needs to know about the sandbox network: its gateways, which are the Docker host,
// and its subnets.
import ipaddr from 'ipaddr.js';
import { DOCKER_NETWORK } from '../run/defaults.js';
import { inspectContainer, inspectNetwork, type NetworkInspect } from './engine.js';

export interface SandboxNetwork {
  name: string;
  gateways: string[];
  subnets: string[];
}

/** `network` is the input's value, or undefined for Docker's default bridge; `label` names the input in messages. */
export async function inspectSandboxNetwork(network: string | undefined, label: string): Promise<SandboxNetwork> {
  const name = network ?? DOCKER_NETWORK;
  const found = await inspectNetwork(name).catch((err: Error) => {
    throw new Error(`${label}: cannot inspect Docker network '${name}': ${err.message}.`);
  });
  if (!found) {
    throw new Error(
      network === undefined
        ? `${label}: the Docker engine has no default bridge network ('${DOCKER_NETWORK}'; is it started with "bridge": "none"?). ` +
            `Create a bridge network (docker network create NAME) and name it in ${label}.`
        : `${label}: the Docker engine has no network '${network}'. Create it first (docker network create ${network}) or leave it empty.`,
    );
  }
  return { name, gateways: parseGateways(found, label), subnets: parseSubnets(found) };
}

/** The subnets of every IPAM entry, as canonical CIDRs. */
export function parseSubnets(net: NetworkInspect): string[] {
  return (net.IPAM?.Config ?? [])
    .filter((c): c is { Subnet: string } => Boolean(c.Subnet))
    .map((c) => {
      const [addr, bits] = ipaddr.parseCIDR(c.Subnet);
      const base = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(c.Subnet) : ipaddr.IPv6.networkAddressFromCIDR(c.Subnet);
      return `${base.toString()}/${bits}`;
    });
}

/** Gateway addresses of every subnet; Docker's default (the subnet's first host) where none is set. */
export function parseGateways(net: NetworkInspect, label: string): string[] {
  if (net.Driver === 'host' || net.Driver === 'null') {
    throw new Error(
      `${label}: '${net.Name}' uses the ${net.Driver} driver; the holder needs a network namespace of its own. Use a bridge network.`,
    );
  }
  const gateways: string[] = [];
  for (const config of net.IPAM?.Config ?? []) {
    if (config.Gateway) {
      gateways.push(ipaddr.parse(config.Gateway).toString());
    } else if (config.Subnet) {
      gateways.push(firstHost(config.Subnet));
    }
  }
  return gateways;
}

function firstHost(subnet: string): string {
  const [addr] = ipaddr.parseCIDR(subnet);
  const bytes = addr.toByteArray();
  bytes[bytes.length - 1] += 1;
  return ipaddr.fromByteArray(bytes).toString();
}

/** The IPv4 and IPv6 addresses a container has on its networks. */
export async function containerAddresses(container: string): Promise<string[]> {
  const found = await inspectContainer(container).catch((err: Error) => {
    throw new Error(`Cannot inspect container ${container}: ${err.message}`);
  });
  return Object.values(found.NetworkSettings.Networks ?? {})
    .flatMap((n) => [n.IPAddress, n.GlobalIPv6Address])
    .filter((a): a is string => Boolean(a))
    .map((a) => ipaddr.parse(a).toString());
}
