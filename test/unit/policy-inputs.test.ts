// The policy file as readRunSpec sees it: found or named, its grade turned into mode, allow,
// deny and fail-on-denied, with the allowlist and mode inputs on top.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatEntry } from '../../src/policy/allowlist.js';
import { readRunSpec } from '../../src/inputs.js';

let ws: string;

before(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-policy-'));
});

after(() => fs.rmSync(ws, { recursive: true, force: true }));

function writePolicy(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
  fs.writeFileSync(path.join(ws, rel), text);
}

function spec(inputs: Record<string, string>) {
  const all: Record<string, string> = { run: 'make', ...inputs };
  return readRunSpec((name) => all[name] ?? '', { workspace: ws, via: 'action' });
}

const POLICY = [
  'grades:',
  '  base:',
  '    allow: ["10.1.0.1:443"]',
  '    deny: [10.1.0.9]',
  '  release:',
  '    extends: base',
  '    allow: [10.2.0.0/16]',
  '    fail-on-denied: true',
  '  nightly:',
  '    extends: dev',
  '',
].join('\n');

describe('readRunSpec with a policy file', () => {
  it('without any file, uses the built-in grades', () => {
    const s = spec({ grade: 'release', allowlist: '10.0.0.1' });
    assert.deepEqual([s.grade, s.mode, s.failOnDenied, s.deny], ['release', 'block', false, []]);
    assert.deepEqual(s.allow.map(formatEntry), ['10.0.0.1/32']);
  });

  it('reads .github/buildfence.yml in the workspace when it exists', () => {
    writePolicy('.github/buildfence.yml', POLICY);
    try {
      const s = spec({ grade: 'release', allowlist: '10.3.0.1, preset:npm' });
      assert.deepEqual([s.grade, s.mode, s.failOnDenied], ['release', 'block', true]);
      assert.deepEqual(s.allow.map(formatEntry), [
        'tcp://10.1.0.1/32:443',
        '10.2.0.0/16',
        '10.3.0.1/32',
        'tcp://registry.npmjs.org:443',
        'tcp://registry.yarnpkg.com:443',
      ]);
      assert.deepEqual(s.deny.map(formatEntry), ['10.1.0.9/32']);
    } finally {
      fs.rmSync(path.join(ws, '.github'), { recursive: true });
    }
  });

  it('reads the file the policy input names, relative to the workspace', () => {
    writePolicy('policies/ci.yml', POLICY);
    const s = spec({ policy: 'policies/ci.yml', grade: 'nightly' });
    assert.deepEqual([s.grade, s.mode, s.failOnDenied, s.allow, s.deny], ['nightly', 'audit', false, [], []]);
  });

  it('keeps deny when the allowlist input names the same destination', () => {
    writePolicy('policies/ci.yml', POLICY);
    const s = spec({ policy: 'policies/ci.yml', grade: 'release', allowlist: '10.1.0.9' });
    assert.ok(s.allow.some((e) => formatEntry(e) === '10.1.0.9/32'));
    assert.deepEqual(s.deny.map(formatEntry), ['10.1.0.9/32']);
  });

  it('lets the mode input override the grade', () => {
    writePolicy('policies/ci.yml', POLICY);
    assert.equal(spec({ policy: 'policies/ci.yml', grade: 'release', mode: 'audit' }).mode, 'audit');
    assert.equal(spec({ policy: 'policies/ci.yml', grade: 'nightly', mode: 'block' }).mode, 'block');
  });

  it('refuses a named file that does not exist', () => {
    assert.throws(() => spec({ policy: 'nope.yml' }), {
      message: `Input 'policy' names 'nope.yml', which does not exist (${path.join(ws, 'nope.yml')}). Give a policy file's path relative to ${ws}, or leave it empty to use .github/buildfence.yml when it exists.`,
    });
  });

  it('refuses a directory', () => {
    fs.mkdirSync(path.join(ws, 'dir'), { recursive: true });
    assert.throws(() => spec({ policy: 'dir' }), {
      message: `Input 'policy': 'dir' is a directory (${path.join(ws, 'dir')}). Expected a policy file (YAML).`,
    });
  });

  it('refuses an unknown grade, listing the known ones', () => {
    writePolicy('policies/ci.yml', POLICY);
    assert.throws(() => spec({ policy: 'policies/ci.yml', grade: 'relaese' }), {
      message:
        "Input 'grade' has unknown grade 'relaese'. Known grades: base, dev, nightly, release (the policy file policies/ci.yml and the built-in grades).",
    });
  });

  it('fails the step on a broken policy, whatever the grade, with file, line and column', () => {
    writePolicy('policies/bad.yml', 'grades:\n  release:\n    mode: blok\n');
    assert.throws(
      () => spec({ policy: 'policies/bad.yml', grade: 'dev' }),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.equal(err.message, "policies/bad.yml:3:11: grades.release.mode: expected one of 'block', 'audit', found 'blok'.");
        return true;
      },
    );
  });
});

describe('readRunSpec and links in docker-options mounts', () => {
  it('refuses a workspace path that an earlier step turned into a link to the socket directory', () => {
    // What a compromised earlier step could leave in the workspace for a fenced step to mount.
    fs.symlinkSync('/var/run', path.join(ws, 'cache'));
    fs.mkdirSync(path.join(ws, 'data'));
    fs.symlinkSync(path.join(ws, 'data'), path.join(ws, 'data-link'));
    assert.throws(
      () => spec({ grade: 'dev', 'docker-options': `-v ${ws}/cache:/cache` }),
      (err: Error) => {
        assert.match(err.message, new RegExp(`refuses '-v ${ws}/cache:/cache': ${ws}/cache leads to /(var/)?run: .*Docker socket`));
        return true;
      },
    );
    assert.doesNotThrow(() => spec({ grade: 'dev', 'docker-options': `-v ${ws}/data-link:/data` }));
  });
});
