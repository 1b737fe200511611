#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  actionLog,
  annotations,
  buildRecord,
  deleteRunPod,
  getInput,
  getState,
  readRunSpec,
  removeRun,
  renderSummary,
  runFenced,
  saveState,
  setFailed,
  setOutput,
  summary,
  verdictOf,
  warning,
  writeRecord
} from "./chunk-LAEN4M7Q.js";

// src/action.ts
import * as os from "node:os";
import * as path from "node:path";

// src/state.ts
var RUN_ID = "run-id";
var OWN_NETWORK = "own-network";
var RUNTIME = "runtime";
var NAMESPACE = "namespace";
function saveRun(run) {
  saveState(RUN_ID, run.runId);
  saveState(OWN_NETWORK, String(run.ownNetwork));
  saveState(RUNTIME, run.runtime ?? "docker");
  if (run.namespace) saveState(NAMESPACE, run.namespace);
}
function savedRun() {
  const runId = getState(RUN_ID);
  if (!/^[0-9a-f]{12}$/.test(runId)) return void 0;
  return {
    runId,
    ownNetwork: getState(OWN_NETWORK) === "true",
    runtime: getState(RUNTIME) === "kubernetes" ? "kubernetes" : "docker",
    namespace: getState(NAMESPACE) || void 0
  };
}

// src/action.ts
async function runAction() {
  const spec = readRunSpec((name) => getInput(name), {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    allowlistSource: "input 'allowlist'"
  });
  const result = await runFenced(spec, actionLog(), { onStart: saveRun });
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
  const problems = run.runtime === "kubernetes" ? [await deleteRunPod(run.runId, run.namespace ?? "default")].filter((p) => p !== void 0) : await removeRun(run.runId, run.ownNetwork);
  for (const problem of problems) warning(`buildfence cleanup: ${problem}`);
}

export {
  runAction,
  cleanupAction
};
