// Reads what an auditor was handed: a plain record, an in-toto Statement with the record as its
// predicate, a DSSE envelope around one, or a Sigstore bundle (as `gh attestation download`
// writes them, one per line). Every unreadable input is an InputProblem with a plain reason.
import { Ajv2020 } from 'ajv/dist/2020.js';
import recordSchema from '../../schema/buildfence-report.schema.json' with { type: 'json' };
import { REPORT_FORMAT, type EvidenceRecord } from '../report/record.js';
import { PREDICATE_TYPE, STATEMENT_TYPE, type Statement } from '../report/statement.js';

/** The input cannot be read as evidence: verify exits 2. */
export class InputProblem extends Error {}

export interface Evidence {
  record: EvidenceRecord;
  /** Present when the input was a statement (or wrapped one): it names the artifacts. */
  statement?: Statement;
  /** What the input was, for the report's first line. */
  kind: 'record' | 'statement' | 'DSSE envelope' | 'Sigstore bundle';
}

let validateRecord: ReturnType<Ajv2020['compile']> | undefined;

export function readEvidence(text: string, name: string): Evidence {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  // `gh attestation download` writes one bundle per line, for every attestation of the artifact
  // (build provenance among them): buildfence's is the one to check. A pretty-printed file is one document.
  const jsonLines = lines.length > 1 && lines.every((l) => l.trimStart().startsWith('{') && l.trimEnd().endsWith('}'));
  if (!jsonLines) return fromValue(parseJson(text, name), name);
  const ours = lines.map((line, i) => ({ line, i })).filter(({ line }) => !isOtherPredicate(line));
  if (ours.length !== 1) {
    throw new InputProblem(
      ours.length === 0
        ? `${name} holds ${lines.length} attestations, none of them buildfence's (${PREDICATE_TYPE}).`
        : `${name} holds ${ours.length} buildfence attestations (lines ${ours.map(({ i }) => i + 1).join(', ')}); give a file with the one to check.`,
    );
  }
  return fromValue(parseJson(ours[0].line, `${name} line ${ours[0].i + 1}`), name);
}

/** A line that reads as a bundle, envelope or statement of another predicate type. */
function isOtherPredicate(line: string): boolean {
  try {
    const value = JSON.parse(line) as unknown;
    if (!isObject(value)) return false;
    const envelope = isObject(value.dsseEnvelope) ? value.dsseEnvelope : value;
    const statement: unknown =
      typeof envelope.payload === 'string' ? JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) : envelope;
    return isObject(statement) && '_type' in statement && statement.predicateType !== PREDICATE_TYPE;
  } catch {
    return false;
  }
}

function parseJson(text: string, name: string): unknown {
  if (text.trim() === '') throw new InputProblem(`${name} is empty.`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputProblem(`${name} is not JSON (${(err as Error).message}); is it truncated?`);
  }
}

function fromValue(value: unknown, name: string): Evidence {
  if (!isObject(value)) throw new InputProblem(`${name} is JSON but not an object: expected a record, a statement or a bundle.`);
  if (isObject(value.dsseEnvelope)) return { ...fromEnvelope(value.dsseEnvelope, name), kind: 'Sigstore bundle' };
  if ('payloadType' in value && 'payload' in value) return { ...fromEnvelope(value, name), kind: 'DSSE envelope' };
  if ('_type' in value) return fromStatement(value, name);
  if ('format' in value) return { record: checkRecord(value, name), kind: 'record' };
  throw new InputProblem(`${name} is neither a buildfence record (no 'format') nor an in-toto statement (no '_type') nor a bundle.`);
}

function fromEnvelope(envelope: Record<string, unknown>, name: string): Evidence {
  if (envelope.payloadType !== 'application/vnd.in-toto+json') {
    throw new InputProblem(`${name}: the envelope carries '${String(envelope.payloadType)}', not an in-toto statement.`);
  }
  if (typeof envelope.payload !== 'string') throw new InputProblem(`${name}: the envelope has no payload.`);
  return fromStatement(parseJson(Buffer.from(envelope.payload, 'base64').toString('utf8'), `${name} (payload)`), name);
}

function fromStatement(value: unknown, name: string): Evidence {
  if (!isObject(value) || value._type !== STATEMENT_TYPE) {
    throw new InputProblem(
      `${name}: expected an in-toto statement (${STATEMENT_TYPE}), found _type '${isObject(value) ? String(value._type) : typeof value}'.`,
    );
  }
  if (value.predicateType !== PREDICATE_TYPE) {
    throw new InputProblem(
      `${name} is a statement of another kind (predicateType '${String(value.predicateType)}'); buildfence's is ${PREDICATE_TYPE}.`,
    );
  }
  const subjects = value.subject;
  if (
    !Array.isArray(subjects) ||
    !subjects.every((s) => isObject(s) && typeof s.name === 'string' && isObject(s.digest) && typeof s.digest.sha256 === 'string')
  ) {
    throw new InputProblem(`${name}: the statement's subjects are not a list of {name, digest: {sha256}}.`);
  }
  const record = checkRecord(value.predicate, `${name} (predicate)`);
  return { record, statement: value as unknown as Statement, kind: 'statement' };
}

function checkRecord(value: unknown, name: string): EvidenceRecord {
  if (!isObject(value)) throw new InputProblem(`${name} is not a buildfence record.`);
  if (value.format !== REPORT_FORMAT) {
    throw new InputProblem(
      `${name} has format '${String(value.format)}'; this buildfence reads ${REPORT_FORMAT}. Use the buildfence version that wrote it.`,
    );
  }
  validateRecord ??= new Ajv2020({ allErrors: true, strict: true, validateFormats: false }).compile(recordSchema);
  if (!validateRecord(value)) {
    const problems = (validateRecord.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new InputProblem(`${name} does not match schema/buildfence-report.schema.json: ${problems.join('; ')}.`);
  }
  return value as unknown as EvidenceRecord;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
