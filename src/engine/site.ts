// Where this run's fence goes, read from the engine: whether buildfence runs in a job container
// (and its paths on the engine's host), the network the holder joins and where the resolver
// listens (placement.ts), the addresses to guard, and the names of the network's containers
// (services.ts), which the allowlist may name.
import { apiVersion } from './engine.js';
import { dockerHostAddresses } from './host-view.js';
import { findJobContainer, hostPath, type JobContainer } from './job-container.js';
import { inspectSandboxNetwork } from './network.js';
import { holderNetwork, placement, type Placement } from './placement.js';
import { networkNames, serviceEntries } from './services.js';
import type { NetworkNames } from '../dns/network-names.js';
import { DOCKER_NETWORK } from '../run/defaults.js';
import type { AddressEntry } from '../run/entry.js';
import type { RunIdentity } from '../run/identity.js';
import type { Log } from '../run/log.js';
import { inputLabel, type RunSpec } from '../run/spec.js';

export interface Whereabouts {
  job?: JobContainer;
  apiVersion: string;
}

/** Where this process runs, and the engine's API version; independent of the rest of the set-up. */
export async function whereabouts(log: Log): Promise<Whereabouts> {
  const [job, version] = await Promise.all([findJobContainer(process.env, log), apiVersion()]);
  return { job, apiVersion: version };
}

export interface Site {
  placement: Placement;
  /** The allowlist's containers on the network, opened on their entries' ports. */
  services: AddressEntry[];
  networkNames?: NetworkNames;
}

export async function site(spec: RunSpec, w: Whereabouts, holderImage: string, id: RunIdentity, hostViewName: string): Promise<Site> {
  const label = inputLabel(spec.via, 'network');
  const network = holderNetwork(w.job, spec.network, label);
  const inNetwork = w.job !== undefined && w.job.networkMode !== 'host';
  const [net, dockerHost] = await Promise.all([
    // On the default bridge, its messages speak of the input as unset.
    inspectSandboxNetwork(spec.network === undefined && network === DOCKER_NETWORK ? undefined : network, label),
    inNetwork ? dockerHostAddresses(id, hostViewName, holderImage) : undefined,
  ]);
  const placed = placement({ job: w.job, requested: spec.network, net, dockerHost });
  const names = placed.named ? await networkNames(placed.network, w.job?.id) : undefined;
  const services = serviceEntries(spec.allow, spec.deny, names, { label, jobContainer: inNetwork });
  return { placement: placed, services, ...(names ? { networkNames: names } : {}) };
}

/** The engine host's path of `file`, for a mount source; the same path outside a job container. */
export function hostPathOf(w: Whereabouts, file: string, what: string, fix: string): string {
  if (!w.job) return file;
  const found = hostPath(w.job.mounts, file);
  if (found === undefined) {
    throw new Error(
      `${what} ${file} is not on a mount of job container ${w.job.name}, so the engine cannot mount it into the fence's containers. ${fix}`,
    );
  }
  return found;
}

/** What runs in a container's temporary directory must be on one of its mounts from the host. */
export const TEMP_FIX = 'Set RUNNER_TEMP to a directory the job container mounts from the host (the runner sets /__w/_temp).';
