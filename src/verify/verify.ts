// `buildfence verify` and the verify action: reads the evidence, the policy file and the
// artifacts (offline: nothing here opens a socket), runs the checks and words the outcome.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPolicy } from '../policy/load.js';
import { gradeOf } from '../policy/policy.js';
import { sha256File } from '../run/digest.js';
import { verifyRun, type Check } from './checks.js';
import { InputProblem, readEvidence } from './evidence-input.js';

export interface VerifyRequest {
  /** The record, statement, envelope or bundle to check. */
  evidence: string;
  policy: string;
  grade: string;
  subjects: string[];
  allowDenied: boolean;
  /** Relative paths are read from here. */
  dir: string;
  /** How messages name each setting: `--policy` in the CLI, "input 'policy'" in the action. */
  label(name: 'evidence' | 'policy' | 'grade' | 'subject'): string;
}

export interface VerifyOutcome {
  /** 0 every check passed, 1 one failed, 2 the input could not be read. */
  exitCode: 0 | 1 | 2;
  checks: Check[];
  /** One line per check, then the verdict; or the reason the input could not be read. */
  text: string;
}

export async function verify(req: VerifyRequest): Promise<VerifyOutcome> {
  try {
    const evidence = readEvidence(readFile(req.evidence, req.dir, req.label('evidence')), req.evidence);
    const policy = loadPolicy(req.policy, req.dir, req.label('policy'));
    if (policy.file === undefined || policy.sha256 === undefined) throw new InputProblem(`${req.label('policy')}: no policy file given.`);
    const grade = gradeOf(policy, req.grade, req.label('grade'));
    const subjects = await Promise.all(
      req.subjects.map(async (file) => {
        const full = path.resolve(req.dir, file);
        if (!fs.statSync(full, { throwIfNoEntry: false })?.isFile())
          throw new InputProblem(`${req.label('subject')} '${file}' is not a file (${full}).`);
        return { file, sha256: await sha256File(full) };
      }),
    );
    const checks = verifyRun({
      ...evidence,
      grade,
      policy: { path: policy.file, sha256: policy.sha256 },
      subjects,
      allowDenied: req.allowDenied,
    });
    const failed = checks.filter((c) => !c.pass).length;
    const lines = [
      `buildfence verify: ${evidence.kind} ${req.evidence}, run ${evidence.record.runId}, against grade ${grade.name} of ${policy.file}`,
      ...checks.map((c) => `${c.pass ? 'pass' : 'FAIL'}  ${c.name.padEnd(9)}  ${c.detail}`),
      failed === 0 ? `verdict: pass (${checks.length} checks)` : `verdict: FAIL (${failed} of ${checks.length} checks failed)`,
    ];
    return { exitCode: failed === 0 ? 0 : 1, checks, text: `${lines.join('\n')}\n` };
  } catch (err) {
    // Unreadable evidence, a policy file with problems, a missing artifact: never a pass, never a stack trace.
    return { exitCode: 2, checks: [], text: `buildfence verify: cannot check: ${err instanceof Error ? err.message : String(err)}\n` };
  }
}

function readFile(file: string, dir: string, label: string): string {
  try {
    return fs.readFileSync(path.resolve(dir, file), 'utf8');
  } catch (err) {
    throw new InputProblem(`${label} '${file}' cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
}
