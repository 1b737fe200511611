// What stops a run on the engine before its end, for every runtime whose build is a container
// there (docker, host): a cancellation (SIGINT, SIGTERM, run/cancel.ts) or a fault in this process
// (run/fault.ts). Either one stops the build container, and no further set-up step starts.
import { killContainer } from './engine.js';
import { CANCEL_DEADLINE_MS, onCancel } from '../run/cancel.js';
import { onFault } from '../run/fault.js';
import type { Log } from '../run/log.js';

export interface RunGuard {
  /** Throws once the run was cancelled or failed: call before each step that creates something. */
  check(): void;
  /** Runs one set-up step, unless the run was cancelled or failed meanwhile. */
  step<T>(fn: () => Promise<T>): Promise<T>;
  /** A fault caught where it happened (the resolver's), which must fail the run all the same. */
  fail(err: unknown): void;
  /** What failed after a fault is its consequence: the fault is the reason. */
  explain(err: unknown): unknown;
  /** Why the run failed, once a fault came. */
  reason(): string | undefined;
  /** The run has unwound. */
  done(): void;
}

export function guardRun(log: Log, build: string): RunGuard {
  const stopBuild = () => killContainer(build, CANCEL_DEADLINE_MS);
  const cancel = onCancel(log, 'stopping the build and removing the fence', stopBuild);
  const fault = onFault(log, stopBuild);
  const check = () => {
    cancel.check();
    fault.check();
  };
  return {
    check,
    async step(fn) {
      check();
      return fn();
    },
    fail: (err) => fault.fail(err),
    explain(err) {
      const reason = fault.reason();
      return reason === undefined ? err : new Error(reason, { cause: err });
    },
    reason: () => fault.reason(),
    done() {
      cancel.done();
      fault.done();
    },
  };
}
