#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  actionLog,
  getInput,
  getState,
  readRunSpec,
  removeRun,
  runSandbox,
  saveState,
  setFailed,
  setOutput,
  warning
} from "./chunk-4SCDSTUQ.js";

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
  setOutput("exit-code", String(result.exitCode));
  if (result.exitCode !== 0) setFailed(`The build exited with code ${result.exitCode}.`);
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
