// `buildfence render-pod`: the Pod (and optionally the NetworkPolicy) as YAML for kubectl apply.
import { randomBytes } from 'node:crypto';
import yaml from 'js-yaml';
import { hostResolvers } from '../dns/upstream.js';
import type { RunSpec } from '../spec.js';
import { renderNetworkPolicy, renderPod } from './pod.js';

export interface RenderOptions {
  networkPolicy: boolean;
  sidecars: 'native' | 'regular';
  namespace?: string;
}

export async function renderPodManifest(spec: RunSpec, options: RenderOptions, runId = randomBytes(6).toString('hex')): Promise<string> {
  // The default upstream, as on Docker; renderPod refuses loopback ones with a hint to --dns-upstream.
  const upstreams = spec.dns.upstreams ?? (await hostResolvers());
  const id = { runId };
  const { pod } = renderPod({
    spec,
    id,
    upstreams,
    agentImage: spec.agentImage,
    sidecars: options.sidecars,
    namespace: options.namespace,
  });
  const objects: object[] = [pod];
  if (options.networkPolicy) objects.push(renderNetworkPolicy(spec, id, upstreams, options.namespace));
  return objects.map((o) => toYaml(o)).join('---\n');
}

export function toYaml(object: object): string {
  return yaml.dump(object, { lineWidth: -1, noRefs: true });
}
