// Where progress and the build's output go: the workflow log (action-log.ts) or a terminal (CLI).
// This module stays free of @actions/core, so the CLI does not load it.

export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Runs fn while the build's output streams through `write`, unable to issue workflow commands. */
  untrusted<T>(fn: (write: OutputWriter) => Promise<T>): Promise<T>;
}

export type OutputWriter = (data: Buffer, stream: 'stdout' | 'stderr') => void;

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
