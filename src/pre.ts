import * as core from '@actions/core';
import * as os from 'node:os';
import * as path from 'node:path';
import { prefetchable } from './engine/holder-source.js';
import { startPrefetch } from './docker/prefetch.js';

// The action's pre step: it runs when the job starts, before any step, and starts pulling a
// holder image pinned by digest (the released default) in the background. It never fails or
// warns: whatever it could not do, the fenced step does, and says so.
try {
  const image = core.getInput('holder-image') || '';
  if (prefetchable(image, core.getInput('pull'), core.getInput('runtime'))) {
    const log = path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'buildfence-prefetch.log');
    const pid = startPrefetch(image, log);
    core.info(`Fetching the holder image ${image} in the background (pid ${pid ?? '?'}, log ${log}).`);
  }
} catch (err) {
  core.debug(`buildfence pre: ${err instanceof Error ? err.message : String(err)}`);
}
