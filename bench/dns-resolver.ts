// buildfence's resolver alone, as the DNS benchmark runs it: block mode, `*.bench.test` allowed,
// forwarding to the upstream given, on 127.0.0.1. With a holder container name, learned addresses
// go through the real set feed; without one, into a sink that acknowledges at once.
//   node --import tsx bench/dns-resolver.ts UPSTREAM_PORT [HOLDER]
import { openSetFeed } from '../src/engine/set-feed.js';
import { Resolver } from '../src/dns/resolver.js';
import { Forwarder } from '../src/dns/upstream.js';
import { parseAllowlist } from '../src/policy/allowlist.js';

const [upstreamPort, holder] = process.argv.slice(2);
const resolver = new Resolver({
  mode: 'block',
  allow: parseAllowlist(['*.bench.test'], 'bench'),
  deny: [],
  ttlMin: 60,
  ttlMax: 3600,
  forwarder: new Forwarder([{ address: '127.0.0.1', port: Number(upstreamPort) }]),
});
const port = await resolver.listen('127.0.0.1');
resolver.serve(['127.0.0.1'], holder ? await openSetFeed(holder) : { add: async () => undefined }, new Set());
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => process.exit(0));
