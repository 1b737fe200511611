// Makes sure the holder image is there before anything starts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { docker, hasDockerCli, lastLine } from './cli.js';
import { imageId } from './engine.js';
import { pullImage } from './pull.js';
import { holderSteps, isPinned, localTag } from './holder-source.js';
import { HOLDER_IMAGE } from '../run/defaults.js';
import type { Log } from '../run/log.js';
import { inputLabel, type RunSpec } from '../run/spec.js';

/** The repository root, where holder/ and scripts/ live (dist/x.js and src/engine/x.ts alike). */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'holder', 'Dockerfile'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("Cannot find buildfence's holder/Dockerfile next to the running code.");
    dir = parent;
  }
  return dir;
}

export interface HolderImageOptions {
  /** The image that counts as buildfence's default (the tests name one of their own). */
  defaultImage?: string;
  /** Where the default is built from when it cannot be pulled (holder/ beside the code). */
  buildContext?: string;
}

/**
 * Makes the holder image present and returns its ID, trying the steps holderSteps chooses: the
 * engine's copy; for the pinned default, a local build under its tag; a pull; for the default, a
 * build from holder/Dockerfile (tagged without the digest, so later steps find it). A failure
 * says what was tried and how to provide the image offline.
 */
export async function ensureHolderImage(
  spec: Pick<RunSpec, 'holderImage' | 'pull' | 'via'>,
  log: Log,
  options: HolderImageOptions = {},
): Promise<string> {
  const { holderImage: image, pull } = spec;
  const label = (name: string, inSentence = false) => inputLabel(spec.via, name, inSentence);
  const isDefault = image === (options.defaultImage ?? HOLDER_IMAGE);
  const pinned = isPinned(image);
  const tried: string[] = [];
  for (const step of holderSteps(image, { pull, isDefault })) {
    if (step === 'present') {
      const id = await imageId(image);
      if (id) return id;
      tried.push(`it is not on the Docker engine${pinned ? ' by its digest' : ''}`);
    } else if (step === 'local-build') {
      const id = await imageId(localTag(image));
      if (id) {
        log.info(`Holder image ${image}: using ${localTag(image)}, built on this machine, in place of the published digest.`);
        return id;
      }
      tried.push(`nor as ${localTag(image)}, the tag a build on this machine gets`);
    } else if (step === 'pull') {
      log.info(`Holder image ${image} is missing; pulling it${pinned ? ' by digest' : ''}.`);
      const why = await pullImage(image).then(
        () => undefined,
        (err: Error) => err.message,
      );
      if (why === undefined) return present(image);
      if (!isDefault) throw new Error(`Cannot pull the holder image ${image}: ${why}. The build was not started.`);
      log.info(`Holder image ${image} could not be pulled (${why}).`);
      tried.push(`docker pull failed: ${why}`);
    } else {
      const context = options.buildContext ?? path.join(projectRoot(), 'holder');
      const target = localTag(image);
      if (!hasDockerCli()) {
        tried.push(`building it from ${path.join(context, 'Dockerfile')} needs the docker CLI, and none is on PATH`);
        continue;
      }
      log.info(`Holder image ${image}: building it from ${path.join(context, 'Dockerfile')} as ${target}.`);
      const built = await docker(['build', '--tag', target, context], { timeoutMs: 0 });
      if (built.exitCode === 0) return present(target);
      tried.push(`building it from ${path.join(context, 'Dockerfile')} failed: ${lastLine(built.stderr) || 'docker build failed'}`);
    }
  }
  if (!isDefault)
    throw new Error(
      `Holder image ${image} is not on the Docker engine and ${label('pull', true)} is 'never'. Pull or build it first, or set it to 'missing'.`,
    );
  throw new Error(
    `Cannot get the holder image ${image}: ${tried.join('; ')}. The build was not started. To provide it offline: ` +
      `assemble it from the host's packages with 'sudo ${path.join(projectRoot(), 'scripts', 'build-holder-image')}' (it tags ${localTag(image)}), ` +
      `or pull it where a registry answers, 'docker tag' it ${localTag(image)}, 'docker save' it and 'docker load' it here, ` +
      `or set ${label('holder-image', true)} to a copy in a registry ` +
      `this runner reaches (it needs sh, iptables, ip6tables and ipset).`,
  );
}

async function present(image: string): Promise<string> {
  const id = await imageId(image);
  if (!id) throw new Error(`The holder image ${image} is still missing after it was fetched; is another job removing images?`);
  return id;
}
