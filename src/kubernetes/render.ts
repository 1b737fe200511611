// `buildfence render-pod`: the Pod (and optionally the NetworkPolicy) as YAML for kubectl apply.
import yaml from 'js-yaml';
import { upstreamsFor } from '../dns/upstream.js';
import { newRunId } from '../run/identity.js';
import type { RunSpec } from '../run/spec.js';
import { renderNetworkPolicy } from './network-policy.js';
import { renderPod } from './pod.js';

export interface RenderOptions {
  networkPolicy: boolean;
  sidecars: 'native' | 'regular';
  namespace?: string;
}

export async function renderPodManifest(spec: RunSpec, options: RenderOptions, runId = newRunId()): Promise<string> {
  // The default upstream, as on Docker; renderPod refuses loopback ones with a hint to --dns-upstream.
  const upstreams = await upstreamsFor(spec);
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
