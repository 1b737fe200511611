// The pre step's background pull: started detached, so that it outlives the pre step and runs
// while the job's first steps do theirs (the runner ends it with the job). A fenced step that
// finds the image still absent pulls it too, and the engine joins the two into one download.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

/** Starts `docker pull` of `image` unless the engine has it; its output goes to `logFile`. */
export function startPrefetch(image: string, logFile: string): number | undefined {
  const log = fs.openSync(logFile, 'a');
  try {
    const child = spawn('sh', ['-c', 'docker image inspect "$1" >/dev/null 2>&1 || exec docker pull --quiet "$1"', 'prefetch', image], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}
