// What the fence needs to know about the sandbox network: its gateways, which are the Docker host.
import ipaddr from 'ipaddr.js';
import { inspectContainer, inspectNetwork, type NetworkInspect } from './engine.js';

export async function inspectGateways(network: string): Promise<string[]> {
  const found = await inspectNetwork(network).catch((err: Error) => {
    throw new Error(`Input 'network': cannot inspect Docker network '${network}': ${err.message}. Create it first or leave the input empty.`);
  });
  return parseGateways(found);
}

/** Gateway addresses of every subnet; Docker's default (the subnet's first host) where none is set. */
export function parseGateways(net: NetworkInspect): string[] {
  if (net.Driver === 'host' || net.Driver === 'null') {
    throw new Error(`Input 'network': '${net.Name}' uses the ${net.Driver} driver; the holder needs a network namespace of its own. Use a bridge network.`);
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
