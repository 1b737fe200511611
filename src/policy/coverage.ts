// Whether one entry allows everything another allows: what `buildfence verify` asks of a run's
// allowlist against a grade's (a run may be narrower than its grade, never wider). Pure.
import ipaddr from 'ipaddr.js';
import type { Entry } from '../run/entry.js';

export function covers(wide: Entry, narrow: Entry): boolean {
  if (!narrow.protocols.every((p) => wide.protocols.includes(p))) return false;
  if (wide.ports && (!narrow.ports || narrow.ports.from < wide.ports.from || narrow.ports.to > wide.ports.to)) return false;
  if (wide.kind === 'address' && narrow.kind === 'address') {
    if (wide.family !== narrow.family) return false;
    const [net, bits] = ipaddr.parseCIDR(wide.cidr);
    const [addr, narrowBits] = ipaddr.parseCIDR(narrow.cidr);
    return narrowBits >= bits && addr.match(net, bits);
  }
  if (wide.kind === 'name' && narrow.kind === 'name') {
    if (!wide.wildcard) return !narrow.wildcard && narrow.name === wide.name;
    // *.example.com covers its subdomains at any depth, and narrower wildcards; never the apex.
    return narrow.name.endsWith(`.${wide.name}`) || (narrow.wildcard && narrow.name === wide.name);
  }
  return false;
}
