// The artifacts an attestation names: each subject-path file's sha256, read once the build ended.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { sha256File } from '../run/digest.js';
import { inputLabel, type RunSpec } from '../run/spec.js';
import type { Subject } from './statement.js';

/** Throws, naming the input and every path that is not a file the build left in the workspace. */
export async function hashSubjects(spec: Pick<RunSpec, 'subjectPaths' | 'workspace' | 'via'>): Promise<Subject[]> {
  const problems: string[] = [];
  const subjects: Subject[] = [];
  for (const name of spec.subjectPaths) {
    const file = path.resolve(spec.workspace, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat?.isFile()) {
      problems.push(`'${name}' (${file}) ${stat ? 'is not a regular file' : 'does not exist'}`);
      continue;
    }
    subjects.push({ name, digest: { sha256: await sha256File(file) } });
  }
  if (problems.length > 0) {
    throw new Error(
      `${inputLabel(spec.via, 'subject-path')} names what the build did not leave in the workspace: ${problems.join('; ')}. ` +
        'Name the files the build writes, relative to the workspace; no attestation was written.',
    );
  }
  return subjects;
}
