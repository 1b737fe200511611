// The action's two entries: main runs the fenced build, post removes what main may have left.
// Both take what they use of @actions/core and of the runtimes as arguments, so that a unit test
// can drive them with fakes (test/unit/action.test.ts).
import * as core from '@actions/core';
import * as os from 'node:os';
import * as path from 'node:path';
import { actionLog } from './action-log.js';
import { cleanupRun, runFenced } from './choose-runtime.js';
import { readRunSpec } from './inputs.js';
import { annotations, renderSummary } from './report/summary.js';
import { verdictOf } from './report/verdict.js';
import { githubRun } from './report/github-run.js';
import { writeEvidence } from './report/write-record.js';
import { VERSION } from './run/version.js';
import type { Log } from './run/log.js';
import { saveRun, savedRun } from './state.js';

/** What the entries use of @actions/core. */
export interface ActionCore {
  getInput(name: string): string;
  setOutput(name: string, value: string): void;
  warning(message: string, properties?: { title?: string }): void;
  setFailed(message: string): void;
  saveState(name: string, value: string): void;
  getState(name: string): string;
  /** Appends to the job summary (GITHUB_STEP_SUMMARY); absent when the runner has none. */
  writeSummary?(html: string): Promise<void>;
}

export interface ActionDeps {
  core: ActionCore;
  log: Log;
  run: typeof runFenced;
  cleanup: typeof cleanupRun;
  env: NodeJS.ProcessEnv;
}

function realDeps(): ActionDeps {
  return {
    core: {
      getInput: (name) => core.getInput(name),
      setOutput: (name, value) => core.setOutput(name, value),
      warning: (message, properties) => core.warning(message, properties),
      setFailed: (message) => core.setFailed(message),
      saveState: (name, value) => core.saveState(name, value),
      getState: (name) => core.getState(name),
      ...(process.env.GITHUB_STEP_SUMMARY ? { writeSummary: async (html: string) => void (await core.summary.addRaw(html).write()) } : {}),
    },
    log: actionLog(),
    run: runFenced,
    cleanup: cleanupRun,
    env: process.env,
  };
}

export async function runAction(deps: ActionDeps = realDeps()): Promise<void> {
  const { core: c, env } = deps;
  const spec = readRunSpec((name) => c.getInput(name), { workspace: env.GITHUB_WORKSPACE || process.cwd(), via: 'action' });
  const result = await deps.run(spec, deps.log, { onStart: (run) => saveRun(c, run) });
  const dir = env.RUNNER_TEMP || os.tmpdir();
  const files = {
    record: path.join(dir, `buildfence-report-${result.runId}.json`),
    statement: path.join(dir, `buildfence-attestation-${result.runId}.json`),
  };
  const { record, statement, problem } = await writeEvidence(spec, result, { github: githubRun(env), version: VERSION }, files);
  c.setOutput('exit-code', String(record.exitCode));
  c.setOutput('denied', String(record.deniedTotal));
  c.setOutput('report', files.record);
  if (statement) c.setOutput('attestation', files.statement);
  for (const message of annotations(record)) c.warning(message, { title: 'buildfence' });
  await c.writeSummary?.(renderSummary(record));
  const failure = [verdictOf(record, spec.failOnDenied), problem].filter(Boolean).join(' ');
  if (failure) c.setFailed(failure);
}

/** Post never fails a job: whatever it cannot remove is a warning. */
export async function cleanupAction(deps: ActionDeps = realDeps()): Promise<void> {
  const run = savedRun(deps.core);
  if (!run) return;
  for (const problem of await deps.cleanup(run)) deps.core.warning(`buildfence cleanup: ${problem}`);
}
