// The action's two entries: main runs the fenced build, post removes what main may have left.
import * as core from '@actions/core';
import { readRunSpec } from './inputs.js';
import { actionLog } from './log.js';
import { removeRun } from './docker/resources.js';
import { runSandbox } from './sandbox.js';
import { saveRun, savedRun } from './state.js';

export async function runAction(): Promise<void> {
  const spec = readRunSpec((name) => core.getInput(name), {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    allowlistSource: "input 'allowlist'",
  });
  const result = await runSandbox(spec, actionLog(), { onStart: saveRun });
  core.setOutput('exit-code', String(result.exitCode));
  if (result.exitCode !== 0) core.setFailed(`The build exited with code ${result.exitCode}.`);
}

export async function cleanupAction(): Promise<void> {
  const run = savedRun();
  if (!run) return;
  for (const problem of await removeRun(run.runId, run.ownNetwork)) core.warning(`buildfence cleanup: ${problem}`);
}
