// Cancellation, shared by both runtimes. A cancelled job gets SIGINT, then SIGTERM. The run is
// not torn down beside its set-up (a request in flight would create something after the
// teardown): `stop` ends the build, the next step refuses to start, and the run unwinds through
// its own teardown; then the process exits, within the deadline even if the engine hangs.
import type { Log } from './log.js';

/** Signals end the run within this time even if the engine does not answer the teardown. */
export const CANCEL_DEADLINE_MS = 9_000;

export interface Cancellation {
  /** Throws once a signal came: call before each step that creates something. */
  check(): void;
  /** The run has unwound: stop listening, and exit now if a signal came. */
  done(): void;
}

/** `doing` completes "Received SIGTERM: ..." in the log; `stop` ends the build (its errors are ignored). */
export function onCancel(log: Log, doing: string, stop: () => Promise<unknown>): Cancellation {
  let signalled: NodeJS.Signals | undefined;
  let finished = false;
  const code = () => (signalled === 'SIGINT' ? 130 : 143);
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = signal;
    log.warning(`Received ${signal}: ${doing}.`);
    void stop().catch(() => undefined);
    setTimeout(() => process.exit(code()), CANCEL_DEADLINE_MS).unref();
    if (finished) process.exit(code());
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    check() {
      if (signalled) throw new Error(`Cancelled by ${signalled}.`);
    },
    done() {
      finished = true;
      // Signalled: exit with the handlers still on, so that the job's next signal, landing while
      // the process exits (which can take a moment), does not end it by the signal instead.
      if (signalled) process.exit(code());
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
