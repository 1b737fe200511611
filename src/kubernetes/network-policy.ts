// An egress NetworkPolicy for a rendered Pod (`render-pod --networkpolicy`): the address entries
// as a second layer, where the network plugin enforces one. Pure.
import type { V1NetworkPolicy, V1NetworkPolicyPort } from '@kubernetes/client-node';
import ipaddr from 'ipaddr.js';
import type { AddressEntry, Entry } from '../run/entry.js';
import { LABEL_RUN, runLabels, type RunIdentity } from '../run/identity.js';
import type { RunSpec, Upstream } from '../run/spec.js';
import { podName } from './pod-layout.js';

/**
 * An egress NetworkPolicy for the address entries, as a second layer where the network plugin
 * enforces one. Names cannot be written in a NetworkPolicy, so it is refused when there are any.
 */
export function renderNetworkPolicy(spec: RunSpec, id: RunIdentity, upstreams: Upstream[], namespace?: string): V1NetworkPolicy {
  if (spec.mode !== 'block') {
    throw new Error(
      `Grade '${spec.grade}' runs in audit mode, which lets everything through: a NetworkPolicy would block what audit only records. Leave out --networkpolicy.`,
    );
  }
  const names = spec.allow.filter((e) => e.kind === 'name');
  if (names.length > 0) {
    throw new Error(
      `A NetworkPolicy cannot name hosts, so it would block the addresses of ${names.map((e) => `'${e.text}'`).join(', ')}. ` +
        'Use --networkpolicy only with address entries (the Pod alone fences names).',
    );
  }
  const deny = addressEntries(spec.deny);
  const egress = addressEntries(spec.allow).map((e) => ({
    to: [{ ipBlock: { cidr: e.cidr, ...exceptions(e, deny) } }],
    ports: e.protocols.map((p): V1NetworkPolicyPort => ({
      protocol: p.toUpperCase(),
      ...(e.ports ? { port: e.ports.from, ...(e.ports.to !== e.ports.from ? { endPort: e.ports.to } : {}) } : {}),
    })),
  }));
  for (const u of upstreams) {
    const cidr = `${u.address}/${ipaddr.parse(u.address).kind() === 'ipv4' ? 32 : 128}`;
    egress.push({ to: [{ ipBlock: { cidr } }], ports: ['UDP', 'TCP'].map((protocol) => ({ protocol, port: u.port })) });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: podName(id.runId), ...(namespace ? { namespace } : {}), labels: runLabels(id) },
    spec: { podSelector: { matchLabels: { [LABEL_RUN]: id.runId } }, policyTypes: ['Egress'], egress },
  };
}

// A deny entry inside an allowed network becomes an `except` of its block (NetworkPolicy's only form of deny).
function exceptions(allow: AddressEntry, deny: AddressEntry[]): { except?: string[] } {
  const [net, prefix] = ipaddr.parseCIDR(allow.cidr);
  const inside = deny
    .filter((d) => d.family === allow.family)
    .filter((d) => {
      const [addr, p] = ipaddr.parseCIDR(d.cidr);
      return p > prefix && addr.match(net, prefix);
    })
    .map((d) => d.cidr);
  return inside.length > 0 ? { except: [...new Set(inside)] } : {};
}

function addressEntries(entries: Entry[]): AddressEntry[] {
  return entries.filter((e): e is AddressEntry => e.kind === 'address');
}
