// The evidence record as the predicate of an in-toto Statement (v1) that names the artifacts the
// build made: what actions/attest signs, and what `buildfence verify` checks. Pure.
import type { EvidenceRecord } from './record.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** Ours, versioned with the record's format: a change that breaks readers gets a new one. */
export const PREDICATE_TYPE = 'https://github.com/buildfence/buildfence/attestation/run/v1';

export interface Subject {
  /** The path as the subject-path input named it, relative to the workspace. */
  name: string;
  digest: { sha256: string };
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: typeof PREDICATE_TYPE;
  predicate: EvidenceRecord;
}

export function buildStatement(record: EvidenceRecord, subjects: Subject[]): Statement {
  return { _type: STATEMENT_TYPE, subject: subjects, predicateType: PREDICATE_TYPE, predicate: record };
}
