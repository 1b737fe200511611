// Where progress and the build's output go: the workflow log (action) or a terminal (CLI).
import { randomBytes } from 'node:crypto';
import * as core from '@actions/core';

export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Runs fn while the build's output streams through `write`, unable to issue workflow commands. */
  untrusted<T>(fn: (write: OutputWriter) => Promise<T>): Promise<T>;
}

export type OutputWriter = (data: Buffer, stream: 'stdout' | 'stderr') => void;

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

export function terminalLog(options: { verbose: boolean }): Log {
  return {
    info: (m) => process.stderr.write(`${m}\n`),
    warning: (m) => process.stderr.write(`warning: ${m}\n`),
    debug: (m) => {
      if (options.verbose) process.stderr.write(`debug: ${m}\n`);
    },
    group: async (name, fn) => {
      process.stderr.write(`== ${name}\n`);
      return fn();
    },
    untrusted: (fn) => fn((data, stream) => process[stream].write(data)),
  };
}
