// A created build container run to its end, its output streamed as it comes: the docker and the
// host runtimes' builds are both containers on the engine.
import { attach, inspectContainer, killContainer, startContainer, waitExit } from './engine.js';
import type { RunGuard } from './run-guard.js';
import type { Log } from '../run/log.js';

/**
 * Runs the build to its end. If the holder goes away meanwhile (`holderLost` settles: its reader
 * ended on its own), the evidence can no longer be complete: the build is stopped and the run fails.
 * `guard` stops it too (a cancellation, a fault).
 */
export async function runContainer(
  names: { build: string; holder: string },
  log: Log,
  holderLost: Promise<void>,
  guard: Pick<RunGuard, 'check'>,
): Promise<{ exitCode: number; imageId: string }> {
  const info = await inspectContainer(names.build);
  let lost = false;
  void holderLost.then(async () => {
    lost = true;
    await killContainer(names.build).catch(() => undefined);
  });
  // Attached before the start, so that not a byte of the output is missed.
  const output = await attach(names.build, info.Config.Tty === true);
  await log.untrusted(async (write) => {
    const ends = (['stdout', 'stderr'] as const).map(
      (name) =>
        new Promise<void>((resolve) => {
          output[name].on('data', (d: Buffer) => write(d, name));
          output[name].on('end', resolve);
        }),
    );
    try {
      // A stop that came while the build was being attached found nothing running to kill.
      guard.check();
      await startContainer(names.build);
    } catch (err) {
      output.close();
      throw new Error(`Cannot start the build container: ${(err as Error).message}`, { cause: err });
    }
    // Nor did one that came while it was being started.
    try {
      guard.check();
    } catch {
      await killContainer(names.build).catch(() => undefined);
    }
    await Promise.all(ends);
  });
  const exit = await waitExit(names.build);
  if (exit.error) log.warning(`The build container reported: ${exit.error}`);
  if (lost) {
    throw new Error(
      `The holder container ${names.holder} stopped during the build, so its denied attempts could no longer be recorded. ` +
        'The build was stopped and the step fails. Did something remove the container?',
    );
  }
  return { exitCode: exit.exitCode, imageId: info.Image };
}
