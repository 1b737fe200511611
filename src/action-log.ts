// The workflow log: groups, annotations, and the build's output with workflow commands paused.
import { randomBytes } from 'node:crypto';
import * as core from '@actions/core';
import type { Log } from './run/log.js';

export function actionLog(): Log {
  return {
    info: (m) => core.info(m),
    warning: (m) => core.warning(m),
    debug: (m) => core.debug(m),
    group: (name, fn) => core.group(name, fn),
    untrusted: async (fn) => {
      // Both streams go to stdout, inside the pause. A fresh token per run: the build cannot guess it, so it cannot end the pause itself.
      const token = randomBytes(16).toString('hex');
      process.stdout.write(`::stop-commands::${token}\n`);
      let endsWithNewline = true;
      try {
        return await fn((data) => {
          if (data.length > 0) endsWithNewline = data[data.length - 1] === 0x0a;
          process.stdout.write(data);
        });
      } finally {
        process.stdout.write(`${endsWithNewline ? '' : '\n'}::${token}::\n`);
      }
    },
  };
}
