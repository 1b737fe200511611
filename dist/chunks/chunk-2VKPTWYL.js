#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  VERSION,
  cleanupRun,
  githubRun,
  isRunId,
  runFenced,
  verdictOf,
  writeEvidence
} from "./chunk-NQHFRU63.js";
import {
  debug,
  getInput,
  getState,
  group,
  info,
  saveState,
  setFailed,
  setOutput,
  summary,
  warning
} from "./chunk-P45E2RWN.js";
import {
  annotations,
  readRunSpec,
  renderSummary
} from "./chunk-NYJPTFVT.js";

// src/action.ts
import * as os from "node:os";
import * as path from "node:path";

// src/action-log.ts
import { randomBytes } from "node:crypto";
function actionLog() {
  return {
    info: (m) => info(m),
    warning: (m) => warning(m),
    debug: (m) => debug(m),
    group: (name, fn) => group(name, fn),
    untrusted: async (fn) => {
      const token = randomBytes(16).toString("hex");
      process.stdout.write(`::stop-commands::${token}
`);
      let endsWithNewline = true;
      try {
        return await fn((data) => {
          if (data.length > 0) endsWithNewline = data[data.length - 1] === 10;
          process.stdout.write(data);
        });
      } finally {
        process.stdout.write(`${endsWithNewline ? "" : "\n"}::${token}::
`);
      }
    }
  };
}

// src/state.ts
var RUN_ID = "run-id";
var RUNTIME = "runtime";
var NAMESPACE = "namespace";
var WORKSPACE = "workspace";
var RUNTIMES = ["docker", "kubernetes", "host"];
function saveRun(store, run) {
  store.saveState(RUN_ID, run.runId);
  store.saveState(RUNTIME, run.runtime);
  if (run.namespace) store.saveState(NAMESPACE, run.namespace);
  if (run.workspace) store.saveState(WORKSPACE, run.workspace);
}
function savedRun(store) {
  const runId = store.getState(RUN_ID);
  if (!isRunId(runId)) return void 0;
  const runtime = store.getState(RUNTIME);
  return {
    runId,
    runtime: RUNTIMES.includes(runtime) ? runtime : "docker",
    namespace: store.getState(NAMESPACE) || void 0,
    ...store.getState(WORKSPACE) ? { workspace: store.getState(WORKSPACE) } : {}
  };
}

// src/action.ts
function realDeps() {
  return {
    core: {
      getInput: (name) => getInput(name),
      setOutput: (name, value) => setOutput(name, value),
      warning: (message, properties) => warning(message, properties),
      setFailed: (message) => setFailed(message),
      saveState: (name, value) => saveState(name, value),
      getState: (name) => getState(name),
      ...process.env.GITHUB_STEP_SUMMARY ? { writeSummary: async (html) => void await summary.addRaw(html).write() } : {}
    },
    log: actionLog(),
    run: runFenced,
    cleanup: cleanupRun,
    env: process.env
  };
}
async function runAction(deps = realDeps()) {
  const { core: c, env } = deps;
  const spec = readRunSpec((name) => c.getInput(name), { workspace: env.GITHUB_WORKSPACE || process.cwd(), via: "action" });
  const result = await deps.run(spec, deps.log, { onStart: (run) => saveRun(c, run) });
  const dir = env.RUNNER_TEMP || os.tmpdir();
  const files = {
    record: path.join(dir, `buildfence-report-${result.runId}.json`),
    statement: path.join(dir, `buildfence-attestation-${result.runId}.json`)
  };
  const { record, statement, problem } = await writeEvidence(spec, result, { github: githubRun(env), version: VERSION }, files);
  c.setOutput("exit-code", String(record.exitCode));
  c.setOutput("denied", String(record.deniedTotal));
  c.setOutput("report", files.record);
  if (statement) c.setOutput("attestation", files.statement);
  for (const message of annotations(record)) c.warning(message, { title: "buildfence" });
  await c.writeSummary?.(renderSummary(record));
  const failure = [verdictOf(record, spec.failOnDenied), problem].filter(Boolean).join(" ");
  if (failure) c.setFailed(failure);
}
async function cleanupAction(deps = realDeps()) {
  const run = savedRun(deps.core);
  if (!run) return;
  for (const problem of await deps.cleanup(run)) deps.core.warning(`buildfence cleanup: ${problem}`);
}

export {
  runAction,
  cleanupAction
};
