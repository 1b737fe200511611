// The action's two entries: main runs the fenced build, post removes what main may have left.
import * as core from '@actions/core';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRunSpec } from './inputs.js';
import { actionLog } from './action-log.js';
import { removeRun } from './docker/resources.js';
import { buildRecord } from './report/record.js';
import { annotations, renderSummary } from './report/summary.js';
import { verdictOf, writeRecord } from './report/outcome.js';
import { deleteRunPod } from './kubernetes/cluster.js';
import { runFenced } from './runtime.js';
import { saveRun, savedRun } from './state.js';

export async function runAction(): Promise<void> {
  const spec = readRunSpec((name) => core.getInput(name), {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    allowlistSource: "input 'allowlist'",
  });
  const result = await runFenced(spec, actionLog(), { onStart: saveRun });
  const record = buildRecord(spec, result);
  const reportPath = path.join(process.env.RUNNER_TEMP || os.tmpdir(), `buildfence-report-${result.runId}.json`);
  await writeRecord(record, reportPath);
  core.setOutput('exit-code', String(record.exitCode));
  core.setOutput('denied', String(record.deniedTotal));
  core.setOutput('report', reportPath);
  for (const message of annotations(record)) core.warning(message, { title: 'buildfence' });
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderSummary(record)).write();
  const failure = verdictOf(record, spec.failOnDenied);
  if (failure) core.setFailed(failure);
}

export async function cleanupAction(): Promise<void> {
  const run = savedRun();
  if (!run) return;
  const problems =
    run.runtime === 'kubernetes'
      ? [await deleteRunPod(run.runId, run.namespace ?? 'default')].filter((p): p is string => p !== undefined)
      : await removeRun(run.runId);
  for (const problem of problems) core.warning(`buildfence cleanup: ${problem}`);
}
