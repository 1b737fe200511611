#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  actionLog,
  annotations,
  buildRecord,
  getInput,
  getState,
  readRunSpec,
  removeRun,
  renderSummary,
  runSandbox,
  saveState,
  setFailed,
  setOutput,
  summary,
  verdictOf,
  warning,
  writeRecord
} from "./chunk-WEERDOOH.js";

// src/action.ts
import * as os from "node:os";
import * as path from "node:path";

// src/state.ts
var RUN_ID = "run-id";
var OWN_NETWORK = "own-network";
function saveRun(run) {
  saveState(RUN_ID, run.runId);
  saveState(OWN_NETWORK, String(run.ownNetwork));
}
function savedRun() {
  const runId = getState(RUN_ID);
  if (!/^[0-9a-f]{12}$/.test(runId)) return void 0;
  return { runId, ownNetwork: getState(OWN_NETWORK) === "true" };
}

// src/action.ts
async function runAction() {
  const spec = readRunSpec((name) => getInput(name), {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    allowlistSource: "input 'allowlist'"
  });
  const result = await runSandbox(spec, actionLog(), { onStart: saveRun });
  const record = buildRecord(spec, result);
  const reportPath = path.join(process.env.RUNNER_TEMP || os.tmpdir(), `buildfence-report-${result.runId}.json`);
  await writeRecord(record, reportPath);
  setOutput("exit-code", String(record.exitCode));
  setOutput("denied", String(record.deniedTotal));
  setOutput("report", reportPath);
  for (const message of annotations(record)) warning(message, { title: "buildfence" });
  if (process.env.GITHUB_STEP_SUMMARY) await summary.addRaw(renderSummary(record)).write();
  const failure = verdictOf(record, spec.failOnDenied);
  if (failure) setFailed(failure);
}
async function cleanupAction() {
  const run = savedRun();
  if (!run) return;
  for (const problem of await removeRun(run.runId, run.ownNetwork)) warning(`buildfence cleanup: ${problem}`);
}

export {
  runAction,
  cleanupAction
};
