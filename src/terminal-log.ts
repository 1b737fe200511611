// The CLI's log: progress on stderr, the build's output on its own streams. Free of @actions/core,
// so the CLI does not load it.
import type { Log } from './run/log.js';

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
