// The README's tables and the CLI's flags must say what action.yml says (its defaults: defaults.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const action = yaml.load(fs.readFileSync(path.join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, unknown>;
  runs: { using: string; pre: string; main: string; post: string };
};
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function tableNames(heading: string): string[] {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([\w-]+)` \|/gm)].map((m) => m[1]);
}

describe('docs', () => {
  it('runs on node24 with pre, main and post', () => {
    assert.deepEqual(action.runs, { using: 'node24', pre: 'dist/pre.js', main: 'dist/main.js', post: 'dist/post.js' });
  });

  it('the README documents every input and output, and no other', () => {
    assert.deepEqual(tableNames('Inputs'), Object.keys(action.inputs));
    assert.deepEqual(tableNames('Outputs'), Object.keys(action.outputs));
  });

  it('the CLI has a flag for every input', () => {
    const help = execFileSync(process.execPath, [path.join(root, 'dist/cli.js'), '--help'], { encoding: 'utf8' });
    const flagFor: Record<string, string> = { allowlist: '--allow', env: '--env', run: '-- COMMAND' };
    for (const input of Object.keys(action.inputs)) {
      assert.ok(help.includes(flagFor[input] ?? `--${input} `), `--help lacks the flag for input '${input}'`);
    }
  });
});
