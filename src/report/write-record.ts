// Where a run's evidence goes: the JSON record (the action's `report` output, the CLI's --report)
// and, when the run names artifacts, the in-toto Statement that binds them (`attestation`,
// --attestation). The action and the CLI both finish a run here.
import * as fs from 'node:fs/promises';
import type { RunSpec } from '../run/spec.js';
import { buildRecord, type EvidenceRecord, type RunContext, type RunResult } from './record.js';
import { buildStatement, type Statement } from './statement.js';
import { hashSubjects } from './subjects.js';

export async function writeJson(value: unknown, file: string): Promise<void> {
  await fs.writeFile(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
}

export interface Evidence {
  record: EvidenceRecord;
  /** Present when the run names artifacts and every one was there. */
  statement?: Statement;
  /** Why no statement was written although the run names artifacts: the step fails with it. */
  problem?: string;
}

/** Builds the record, and the statement when `spec.subjectPaths` names artifacts, and writes each to its file. */
export async function writeEvidence(
  spec: RunSpec,
  result: RunResult,
  context: RunContext,
  files: { record?: string; statement?: string },
): Promise<Evidence> {
  const record = buildRecord(spec, result, context);
  if (files.record) await writeJson(record, files.record);
  if (spec.subjectPaths.length === 0) return { record };
  try {
    const statement = buildStatement(record, await hashSubjects(spec));
    if (files.statement) await writeJson(statement, files.statement);
    return { record, statement };
  } catch (err) {
    return { record, problem: err instanceof Error ? err.message : String(err) };
  }
}
