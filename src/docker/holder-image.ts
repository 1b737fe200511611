// Makes sure the holder image is there before anything starts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { docker, lastLine } from './cli.js';
import { imageId } from './engine.js';
import { HOLDER_IMAGE } from '../run/defaults.js';
import type { Log } from '../run/log.js';
import { inputLabel, type RunSpec } from '../run/spec.js';

/** The repository root, where holder/ and scripts/ live (dist/x.js and src/docker/x.ts alike). */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'holder', 'Dockerfile'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("Cannot find buildfence's holder/Dockerfile next to the running code.");
    dir = parent;
  }
  return dir;
}

/**
 * The default holder image is built when missing: from holder/Dockerfile where a registry is
 * reachable. Offline, that fails and the message names the script that assembles it from the
 * host's packages. Other holder images are the user's to provide: pulled when missing, unless
 * `pull` is `never`. Returns the image's ID.
 */
export async function ensureHolderImage(spec: Pick<RunSpec, 'holderImage' | 'pull' | 'via'>, log: Log): Promise<string> {
  const { holderImage: image, pull } = spec;
  const label = (name: string) => inputLabel(spec.via, name);
  const id = await imageId(image);
  if (id) return id;
  if (image !== HOLDER_IMAGE) {
    if (pull === 'never')
      throw new Error(
        `Holder image ${image} is not on the Docker engine and ${label('pull')} is 'never'. Pull or build it first, or set it to 'missing'.`,
      );
    log.info(`Holder image ${image} is missing; pulling it.`);
    const pulled = await docker(['pull', '--quiet', image], { timeoutMs: 0 });
    if (pulled.exitCode !== 0)
      throw new Error(
        `Cannot pull the holder image ${image}: ${lastLine(pulled.stderr) || 'docker pull failed'}. The build was not started.`,
      );
    return present(image);
  }
  const root = projectRoot();
  log.info(`Holder image ${image} is missing; building it from holder/Dockerfile.`);
  const built = await docker(['build', '--tag', image, path.join(root, 'holder')], { timeoutMs: 0 });
  if (built.exitCode === 0) return present(image);
  throw new Error(
    `Cannot build the holder image ${image} from holder/Dockerfile: ${lastLine(built.stderr) || 'docker build failed'}. ` +
      `On a machine without a registry, assemble it from the host's packages with ` +
      `'sudo ${path.join(root, 'scripts', 'build-holder-image')}', or set ${label('holder-image')} to an image with iptables, ip6tables and ipset.`,
  );
}

async function present(image: string): Promise<string> {
  const id = await imageId(image);
  if (!id) throw new Error(`The holder image ${image} is still missing after it was fetched; is another job removing images?`);
  return id;
}
