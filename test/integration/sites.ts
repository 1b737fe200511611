// The two-site server of the name check's tests (test/images/site.mjs and its kin): one address
// answering npm.registry.test and evil.test over HTTPS (the test CA) and HTTP, as a CDN does, and
// the client image the builds that talk to it run in.
import * as path from 'node:path';
import { ROOT, dockerText } from './harness.js';

export const CLIENT_IMAGE = 'buildfence-test/client:latest';
export const TLS_DIR = path.join(ROOT, 'test/fixtures/tls');

/** The two-site server: test/images/site.mjs (or another of its scripts) in the client image, with the test CA's certificate. */
export async function startSite(network: string, script = 'site.mjs'): Promise<{ name: string; ipv4: string; ipv6: string }> {
  const name = `${network}-${script.replace(/\.mjs$/, '')}`;
  await dockerText([
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    network,
    '--label',
    'buildfence-test=1',
    '--volume',
    `${path.join(ROOT, 'test/images', script)}:/${script}:ro`,
    '--volume',
    `${TLS_DIR}:/tls:ro`,
    CLIENT_IMAGE,
    'node',
    `/${script}`,
  ]);
  const [ipv4, ipv6] = (
    await dockerText([
      'inspect',
      '--format',
      `{{(index .NetworkSettings.Networks "${network}").IPAddress}} {{(index .NetworkSettings.Networks "${network}").GlobalIPv6Address}}`,
      name,
    ])
  ).split(' ');
  for (let i = 0; i < 50 && !(await dockerText(['logs', name])).includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
  return { name, ipv4, ipv6 };
}
