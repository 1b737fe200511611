// Where the fence sits: which network the holder joins, where buildfence's resolver listens (the
// address the build reaches it at, and the one the end-of-run mark comes from), and which of the
// Docker host's addresses the rules guard. On the runner itself that is the sandbox network's
// gateway; in a job container, the job container's own address on the job's network, since this
// process lives there and not on the host. Pure.
import * as os from 'node:os';
import ipaddr from 'ipaddr.js';
import type { JobContainer } from './job-container.js';
import type { SandboxNetwork } from './network.js';
import { DOCKER_NETWORK } from '../run/defaults.js';

export interface Placement {
  /** The network the holder joins. */
  network: string;
  /** IPv4 address of this process that the build reaches: the resolver's, and the drain mark's source. */
  listen: string;
  /** The Docker host and this process's own addresses: refused unless an entry names one exactly. */
  guarded: string[];
  /** Networks guarded whole (Docker's default bridge, which every plain container shares). */
  guardedNetworks: string[];
  /** A user-defined network, whose containers the engine gives names (service containers). */
  named: boolean;
}

/**
 * The network the holder joins. On the runner: `network`, else Docker's default bridge. In a job
 * container: the job's network (the container's own); `network`, when set, must be one of the
 * networks the job container is on, since the build must reach this process from it.
 */
export function holderNetwork(job: JobContainer | undefined, network: string | undefined, label: string): string {
  if (!job || job.networkMode === 'host') return network ?? DOCKER_NETWORK;
  const own = Object.keys(job.networks);
  if (own.length === 0) {
    throw new Error(
      `Job container ${job.name} has network mode '${job.networkMode}', so the build would have no way to reach buildfence's ` +
        "resolver in it. Give the job container a network (the runner's default), not 'none' or another container's.",
    );
  }
  if (network !== undefined) {
    if (own.includes(network)) return network;
    throw new Error(
      `${label} is '${network}', which is not a network of job container ${job.name} (it is on ${own.join(', ')}). ` +
        `In a container job the holder joins the job's network, where buildfence's resolver listens: leave ${label} empty, ` +
        "or set it to the job container's network (network: ${{ job.container.network }}).",
    );
  }
  if (own.length > 1) {
    throw new Error(
      `Job container ${job.name} is on several networks (${own.join(', ')}): set ${label} to the one the build should join ` +
        "(network: ${{ job.container.network }} for the job's).",
    );
  }
  return own[0];
}

export interface PlacementFacts {
  job?: JobContainer;
  /** `network` as the user set it (undefined: the default). */
  requested?: string;
  net: SandboxNetwork;
  /** The Docker host's own addresses, as a container on the host's network saw them (in a job container). */
  dockerHost?: string[];
  /** This process's interfaces. */
  interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export function placement(f: PlacementFacts): Placement {
  const own = ownAddresses(f.interfaces ?? os.networkInterfaces());
  const inContainerNetwork = f.job !== undefined && f.job.networkMode !== 'host';
  let listen: string | undefined;
  if (inContainerNetwork) {
    listen = f.job!.networks[f.net.name]?.IPAddress || undefined;
    if (!listen) {
      throw new Error(
        `Job container ${f.job!.name} has no IPv4 address on network '${f.net.name}', where buildfence's resolver must listen for the build.`,
      );
    }
  } else {
    listen = f.net.gateways.find((g) => !g.includes(':'));
    if (!listen) throw new Error(`Docker network '${f.net.name}' has no IPv4 gateway, where buildfence's resolver must listen.`);
  }
  return {
    network: f.net.name,
    listen: ipaddr.parse(listen).toString(),
    // The network's gateways are the Docker host; so is every other address the runner has.
    guarded: [...new Set([...f.net.gateways, ...(inContainerNetwork ? (f.dockerHost ?? []) : []), ...own])],
    guardedNetworks: f.net.name === DOCKER_NETWORK && f.requested === undefined ? f.net.subnets : [],
    named: f.net.name !== DOCKER_NETWORK,
  };
}

/** The addresses of this process's interfaces, loopback and link-local aside (those are guarded anyway). */
function ownAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string[] {
  return Object.values(interfaces)
    .flat()
    .filter((i) => i !== undefined && !i.internal && !i.address.startsWith('fe80:'))
    .map((i) => i!.address.replace(/%.*$/, ''));
}
