// Where progress and the build's output go: the workflow log (src/action-log.ts) or a terminal
// (src/terminal-log.ts). Only the shape lives here.

export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Runs fn while the build's output streams through `write`, unable to issue workflow commands. */
  untrusted<T>(fn: (write: OutputWriter) => Promise<T>): Promise<T>;
}

export type OutputWriter = (data: Buffer, stream: 'stdout' | 'stderr') => void;
