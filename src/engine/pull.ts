// Pulling an image: with the docker CLI where there is one (it holds the runner's registry logins
// and credential helpers), else through the Engine API, anonymously (a job container's image
// rarely has a docker CLI).
import { docker, hasDockerCli, lastLine } from './cli.js';
import { pullImage as apiPull } from './engine.js';
import { parseImageRef } from './holder-source.js';

/** The Engine API's pull query for a reference, as the docker CLI sends it: Docker Hub names in full, `latest` by default. */
export function pullQuery(image: string, platform?: string): { fromImage: string; tag: string; platform?: string } {
  const { name, tag, digest } = parseImageRef(image);
  const first = name.split('/')[0];
  const registry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const full = registry ? name : name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return { fromImage: full, tag: digest ?? tag ?? 'latest', ...(platform ? { platform } : {}) };
}

/** Pulls `image`; throws with the reason the CLI or the engine gave. */
export async function pullImage(image: string, options: { platform?: string; quiet?: boolean } = {}): Promise<void> {
  if (hasDockerCli()) {
    const args = ['pull', ...(options.platform ? ['--platform', options.platform] : []), '--quiet', image];
    // No deadline: a pull takes as long as the image is large.
    const pulled = await docker(args, { timeoutMs: 0 });
    if (pulled.exitCode !== 0) throw new Error(lastLine(pulled.stderr) || 'docker pull failed');
    return;
  }
  await apiPull(pullQuery(image, options.platform)).catch((err: Error) => {
    throw new Error(
      `${err.message} (pulled through the Engine API without registry credentials, since no docker CLI is on PATH: ` +
        'pull the image in an earlier step, or put the docker CLI in the job image)',
    );
  });
}
