// Writes a grade into a policy file's YAML, keeping the rest of the file as it was: its other
// grades, keys and comments (the `yaml` package keeps them; js-yaml, which reads policies, would
// not). Pure: text in, text out.
import { isMap, parseDocument, Scalar, YAMLMap, YAMLSeq, type Document } from 'yaml';
import type { Mode } from '../run/entry.js';

export interface GradeText {
  mode: Mode;
  description?: string;
  allow: Array<{ entry: string; comment?: string }>;
}

/** The policy file `existing` (or a new one) with grade `name` set to `grade`; a comment above it says where it came from. */
export function writeGrade(existing: string | undefined, name: string, grade: GradeText, header: string): string {
  const doc: Document = parseDocument(existing ?? 'grades: {}\n');
  if (doc.errors.length > 0) throw new Error(`the policy file is not valid YAML: ${doc.errors[0].message}`);
  let grades = doc.get('grades');
  if (grades === undefined || grades === null) {
    grades = new YAMLMap();
    doc.set('grades', grades);
  }
  if (!isMap(grades)) throw new Error("the policy file's 'grades' is not a mapping");
  if (grades.flow) grades.flow = false;
  const node = new YAMLMap();
  if (grade.description !== undefined) node.set('description', grade.description);
  node.set('mode', grade.mode);
  const allow = new YAMLSeq();
  for (const item of grade.allow) {
    const scalar = new Scalar(item.entry);
    if (item.comment) scalar.comment = ` ${item.comment}`;
    allow.add(scalar);
  }
  if (grade.allow.length === 0) allow.flow = true;
  node.set('allow', allow);
  const key = new Scalar(name);
  key.commentBefore = ` ${header}`;
  // Replace in place (its position kept), or add at the end.
  const at = grades.items.findIndex((pair) => (pair.key as Scalar | undefined)?.value === name);
  if (at >= 0) grades.items[at] = doc.createPair(key, node);
  else grades.items.push(doc.createPair(key, node));
  return doc.toString({ lineWidth: 0 });
}
