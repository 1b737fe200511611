// Makes sure the holder image is there before anything starts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { docker, lastLine } from './cli.js';
import { DEFAULT_HOLDER_IMAGE } from '../inputs.js';
import type { Log } from '../log.js';

/** The repository root, where holder/ and scripts/ live (dist/x.js and src/docker/x.ts alike). */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'holder', 'Dockerfile'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Cannot find buildfence\'s holder/Dockerfile next to the running code.');
    dir = parent;
  }
  return dir;
}

/** The local image's ID, or undefined when the engine does not have it. */
export async function localImageId(image: string): Promise<string | undefined> {
  const result = await docker(['image', 'inspect', '--format', '{{.Id}}', image]);
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/**
 * The default holder image is built when missing: from holder/Dockerfile where a registry is
 * reachable. Offline, that fails and the message names the script that assembles it from the
 * host's packages. Other holder images are the user's to provide (docker pulls them). Returns
 * the image's ID when it is local.
 */
export async function ensureHolderImage(image: string, log: Log): Promise<string | undefined> {
  const id = await localImageId(image);
  if (id || image !== DEFAULT_HOLDER_IMAGE) return id;
  const root = projectRoot();
  log.info(`Holder image ${image} is missing; building it from holder/Dockerfile.`);
  const built = await docker(['build', '--tag', image, path.join(root, 'holder')], { timeoutMs: 0 });
  if (built.exitCode === 0) return localImageId(image);
  throw new Error(
    `Cannot build the holder image ${image} from holder/Dockerfile: ${lastLine(built.stderr) || 'docker build failed'}. ` +
      `On a machine without a registry, assemble it from the host's packages with ` +
      `'sudo ${path.join(root, 'scripts', 'build-holder-image')}', or set input 'holder-image' to an image with iptables, ip6tables and ipset.`,
  );
}
