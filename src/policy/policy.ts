// A policy file: grades by name, each with a mode, allow and deny lists (entries or presets),
// fail-on-denied, and `extends`. Parsing is pure; every problem is reported at once, each as
// `FILE:LINE:COLUMN: KEY: what is wrong; what was expected`.
import { AllowlistError, parseItem } from './allowlist.js';
import { resolveGrades, type Grade, type GradeSpec } from './grades.js';
import { keyPath, schemaProblems } from './schema.js';
import { loadYaml, YamlError, type LoadedYaml, type Path, type Position } from './yaml.js';
import { POLICY_FILE } from '../run/defaults.js';
import type { Mode } from '../run/entry.js';

export interface Policy {
  /** The file as named to the user; absent when only the built-in grades apply. */
  file?: string;
  /** sha256 of the file's bytes, which an attestation binds (set by load.ts). */
  sha256?: string;
  /** Every grade: the file's in its order, then the built-in grades it does not replace. */
  grades: Map<string, Grade>;
}

export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.length === 1 ? problems[0] : [`${problems.length} problems in policy file ${file}:`, ...problems].join('\n'));
    this.name = 'PolicyError';
  }
}

/** The document's shape once the schema has accepted it. */
interface PolicyDocument {
  grades: Record<
    string,
    { description?: string; extends?: string; mode?: Mode; 'fail-on-denied'?: boolean; allow?: string[]; deny?: string[] }
  >;
}

export function builtinPolicy(): Policy {
  return { grades: resolveGrades({}).grades };
}

export function parsePolicy(text: string, file: string): Policy {
  let doc: LoadedYaml;
  try {
    doc = loadYaml(text);
  } catch (err) {
    if (err instanceof YamlError)
      throw new PolicyError(file, [`${file}:${err.position.line}:${err.position.column}: invalid YAML: ${err.reason}.`]);
    throw err;
  }
  const problems: Array<{ position: Position; text: string }> = [];
  const report = (position: Position, key: string, message: string) =>
    problems.push({ position, text: `${file}:${position.line}:${position.column}: ${key}: ${message}${/[.?]$/.test(message) ? '' : '.'}` });
  const fail = () => {
    problems.sort((a, b) => a.position.line - b.position.line || a.position.column - b.position.column);
    return new PolicyError(
      file,
      problems.map((p) => p.text),
    );
  };

  for (const p of schemaProblems(doc.value, doc.locate)) report(p.position, p.key, p.message);
  if (problems.length > 0) throw fail();

  const specs: Record<string, GradeSpec> = {};
  for (const [name, grade] of Object.entries((doc.value as PolicyDocument).grades)) {
    const entries = (field: 'allow' | 'deny') =>
      (grade[field] ?? []).flatMap((item, i) => {
        try {
          return parseItem(item);
        } catch (err) {
          if (!(err instanceof AllowlistError)) throw err;
          const path: Path = ['grades', name, field, i];
          report(doc.locate(path), keyPath(path), err.message);
          return [];
        }
      });
    specs[name] = {
      description: grade.description,
      extends: grade.extends,
      mode: grade.mode,
      failOnDenied: grade['fail-on-denied'],
      allow: entries('allow'),
      deny: entries('deny'),
    };
  }
  const { grades, problems: chainProblems } = resolveGrades(specs);
  for (const p of chainProblems) {
    const path: Path = ['grades', p.grade, 'extends'];
    report(doc.locate(path), keyPath(path), p.message);
  }
  if (problems.length > 0) throw fail();
  return { file, grades };
}

/** The named grade; an unknown name is an error, naming `source` ("Input 'grade'", "--grade"), that lists the known ones. */
export function gradeOf(policy: Policy, name: string, source: string): Grade {
  const grade = policy.grades.get(name);
  if (grade) return grade;
  const known = [...policy.grades.keys()].sort().join(', ');
  const where = policy.file
    ? `the policy file ${policy.file} and the built-in grades`
    : `built in; a policy file (${POLICY_FILE}) can add more`;
  throw new Error(`${source} has unknown grade '${name}'. Known grades: ${known} (${where}).`);
}
