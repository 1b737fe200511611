#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  getInput,
  info,
  setFailed,
  setOutput,
  summary
} from "./chunks/chunk-P45E2RWN.js";
import {
  verify
} from "./chunks/chunk-NMQYI222.js";
import {
  listInput,
  readBoolean
} from "./chunks/chunk-NYJPTFVT.js";
import "./chunks/chunk-UND5B5GE.js";

// src/verify/action.ts
async function runVerifyAction() {
  const outcome = await verify({
    evidence: getInput("attestation", { required: true }),
    policy: getInput("policy", { required: true }),
    grade: getInput("grade", { required: true }),
    subjects: listInput(getInput("subject-path"), { commas: true }),
    allowDenied: readBoolean(getInput("allow-denied"), "Input 'allow-denied'") ?? false,
    dir: process.env.GITHUB_WORKSPACE || process.cwd(),
    label: (name) => `input '${name === "evidence" ? "attestation" : name === "subject" ? "subject-path" : name}'`
  });
  info(outcome.text.trimEnd());
  setOutput("verdict", outcome.exitCode === 0 ? "pass" : "fail");
  if (process.env.GITHUB_STEP_SUMMARY && outcome.checks.length > 0) {
    await summary.addHeading("buildfence verify", 2).addTable([
      [
        { data: "check", header: true },
        { data: "result", header: true },
        { data: "detail", header: true }
      ],
      // Each value a detail takes from the record is shown(): the prose around it is buildfence's.
      ...outcome.checks.map((c) => [c.name, c.pass ? "pass" : "FAIL", c.detail])
    ]).write();
  }
  if (outcome.exitCode !== 0) setFailed(outcome.text.trimEnd().split("\n").pop() ?? "buildfence verify failed");
}

// src/verify-main.ts
runVerifyAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
