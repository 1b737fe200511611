// Faults in buildfence's own process during a run: an exception nobody caught, a promise
// rejection nobody handled, in the resolver, the reader, the set feed or anything else that runs
// beside the build. Node's default ends the process on the spot: no teardown, no record, the
// build left running behind its fence. Here the first fault stops the build, no further set-up
// step starts, and the run unwinds through its own teardown with what it recorded, then fails
// with the fault as its reason (like a cancellation, run/cancel.ts, but the run's evidence is
// kept and its step fails instead of exiting).
import type { Log } from './log.js';

export interface FaultGuard {
  /** A fault caught where it happened (the resolver's, answered SERVFAIL), which must fail the run all the same. */
  fail(err: unknown): void;
  /** Throws once a fault came: call before each step that creates something. */
  check(): void;
  /** Why the run failed, once a fault came. */
  reason(): string | undefined;
  /** The run has unwound: stop listening (a later fault is Node's again). */
  done(): void;
}

/** `stop` ends the build (its errors are ignored). */
export function onFault(log: Log, stop: () => Promise<unknown>): FaultGuard {
  let reason: string | undefined;
  const handler = (err: unknown) => {
    const what = err instanceof Error ? err.message : String(err);
    if (err instanceof Error && err.stack) log.debug(err.stack);
    if (reason !== undefined) return;
    reason = `buildfence failed in its own process: ${what}. The build was stopped and the evidence recorded until then is kept.`;
    log.warning(reason);
    void stop().catch(() => undefined);
  };
  process.on('uncaughtException', handler);
  process.on('unhandledRejection', handler);
  return {
    fail: handler,
    check() {
      if (reason !== undefined) throw new Error(reason);
    },
    reason: () => reason,
    done() {
      process.off('uncaughtException', handler);
      process.off('unhandledRejection', handler);
    },
  };
}
