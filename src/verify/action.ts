// The verify action (verify/action.yml): the same checks as `buildfence verify`, for a gate job
// before publishing. Fails the step unless every check passes.
import * as core from '@actions/core';
import { listInput, readBoolean } from '../inputs.js';
import { verify } from './verify.js';

export async function runVerifyAction(): Promise<void> {
  const outcome = await verify({
    evidence: core.getInput('attestation', { required: true }),
    policy: core.getInput('policy', { required: true }),
    grade: core.getInput('grade', { required: true }),
    subjects: listInput(core.getInput('subject-path'), { commas: true }),
    allowDenied: readBoolean(core.getInput('allow-denied'), "Input 'allow-denied'") ?? false,
    dir: process.env.GITHUB_WORKSPACE || process.cwd(),
    label: (name) => `input '${name === 'evidence' ? 'attestation' : name === 'subject' ? 'subject-path' : name}'`,
  });
  core.info(outcome.text.trimEnd());
  core.setOutput('verdict', outcome.exitCode === 0 ? 'pass' : 'fail');
  if (process.env.GITHUB_STEP_SUMMARY && outcome.checks.length > 0) {
    await core.summary
      .addHeading('buildfence verify', 2)
      .addTable([
        [
          { data: 'check', header: true },
          { data: 'result', header: true },
          { data: 'detail', header: true },
        ],
        // Each value a detail takes from the record is shown(): the prose around it is buildfence's.
        ...outcome.checks.map((c) => [c.name, c.pass ? 'pass' : 'FAIL', c.detail]),
      ])
      .write();
  }
  if (outcome.exitCode !== 0) core.setFailed(outcome.text.trimEnd().split('\n').pop() ?? 'buildfence verify failed');
}
