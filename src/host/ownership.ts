// On a runner that runs as root the build runs as ROOT_RUNNER_BUILD_ID, which owns nothing: the
// workspace is handed to it for the run (what root owns there becomes the build's) and taken back
// after it (what the build's uid owns, by owner and by group, becomes root's again), also by the
// post step after a killed run. Links are changed, never followed (chown -h, and -R walks without
// following any), and chown clears setuid and setgid bits, so nothing the build left becomes a
// root program.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT_RUNNER_BUILD_ID } from './build-container.js';

const run = promisify(execFile);
const ID = String(ROOT_RUNNER_BUILD_ID);

async function chown(args: string[], dir: string): Promise<void> {
  await run('chown', ['-R', '-h', ...args, dir], { maxBuffer: 1024 * 1024 });
}

export async function handOver(dir: string): Promise<void> {
  await chown([`--from=0`, ID], dir).catch((err: Error & { stderr?: string }) => {
    throw new Error(
      `Cannot hand the workspace ${dir} to the build's uid ${ID}: ${(err.stderr || err.message).trim()}. The build was not started.`,
    );
  });
}

/** Gives back what the build's uid owns; returns the problem, if any, for a warning. */
export async function takeBack(dir: string): Promise<string | undefined> {
  try {
    await chown([`--from=${ID}`, '0'], dir);
    await chown([`--from=:${ID}`, ':0'], dir);
    return undefined;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    return `cannot give the workspace ${dir} back to root: ${(e.stderr || e.message).trim()}`;
  }
}
