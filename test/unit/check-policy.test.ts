import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { formatEntry, parseEntry } from '../../src/policy/allowlist.js';
import { describePolicy } from '../../src/policy/describe.js';
import { builtinPolicy, gradeOf, parsePolicy } from '../../src/policy/policy.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const POLICY = [
  'grades:',
  '  base:',
  '    allow: [preset:go-proxy, "artifacts.example.com:443"]',
  '    deny: ["gist.github.com", "*.evil.example"]',
  '  release:',
  '    description: What we ship',
  '    extends: base',
  '    allow: [10.20.0.0/16, "udp://[2001:db8::1]:53", preset:go-proxy]',
  '    fail-on-denied: true',
  '',
].join('\n');

const EXPECTED = `# policy.yml: valid; 2 grades, and the built-in dev.
base:
  mode: block
  fail-on-denied: false
  allow:
    - tcp://proxy.golang.org:443       # preset:go-proxy
    - tcp://sum.golang.org:443         # preset:go-proxy
    - tcp://artifacts.example.com:443
  deny:
    - gist.github.com
    - "*.evil.example"
release:  # extends base
  description: "What we ship"
  mode: block
  fail-on-denied: true
  allow:
    - tcp://proxy.golang.org:443       # preset:go-proxy
    - tcp://sum.golang.org:443         # preset:go-proxy
    - tcp://artifacts.example.com:443
    - 10.20.0.0/16
    - udp://[2001:db8::1/128]:53
  deny:
    - gist.github.com
    - "*.evil.example"
dev:  # built in
  description: "everything allowed and recorded"
  mode: audit
  fail-on-denied: false
  allow: []
  deny: []
`;

describe('check-policy output', () => {
  it('prints every grade with mode, fail-on-denied and the effective lists, presets expanded', () => {
    assert.equal(describePolicy(parsePolicy(POLICY, 'policy.yml')), EXPECTED);
  });

  it('is YAML whose lists read back as the same entries', () => {
    const policy = parsePolicy(POLICY, 'policy.yml');
    const printed = yaml.load(EXPECTED) as Record<string, { allow: string[]; deny: string[] }>;
    assert.deepEqual(Object.keys(printed), [...policy.grades.keys()]);
    for (const [name, g] of Object.entries(printed)) {
      assert.deepEqual(
        g.allow.map((t) => formatEntry(parseEntry(t))),
        gradeOf(policy, name, 'grade').allow.map(formatEntry),
      );
      assert.deepEqual(
        g.deny.map((t) => formatEntry(parseEntry(t))),
        gradeOf(policy, name, 'grade').deny.map(formatEntry),
      );
    }
  });

  it('says when only the built-in grades apply', () => {
    assert.match(describePolicy(builtinPolicy()), /^# no policy file: valid; 0 grades, and the built-in dev and release\.\n/);
  });
});

describe('buildfence check-policy', () => {
  let dir: string;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'src/cli.ts'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-check-'));
    fs.writeFileSync(path.join(dir, 'policy.yml'), POLICY);
    fs.writeFileSync(path.join(dir, 'bad.yml'), 'grades:\n  a: {extends: b}\n  b: {extends: a}\n  c: {allow: ["10.1.2.3/8"]}\n');
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints a valid policy and exits 0', () => {
    const r = cli('check-policy', 'policy.yml');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, EXPECTED);
  });

  it('exits 1 with every problem, FILE:LINE:COLUMN first', () => {
    const r = cli('check-policy', 'bad.yml');
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      [
        '2 problems in policy file bad.yml:',
        "bad.yml:2:16: grades.a.extends: extends loops: a -> b -> a; expected a chain that ends at a grade without 'extends'.",
        "bad.yml:4:15: grades.c.allow[0]: Invalid entry '10.1.2.3/8': host bits are set; did you mean 10.0.0.0/8? " +
          'Accepted forms: 203.0.113.7, 10.0.0.0/8, [2001:db8::1]:443, 10.0.0.0/8:8000-8100, udp://203.0.113.7:5000, example.com, *.example.com:443, opaque://git.example.com:22, preset:npm.',
        '',
      ].join('\n'),
    );
  });

  it('reads .github/buildfence.yml by default, and --policy like FILE', () => {
    fs.mkdirSync(path.join(dir, '.github'), { recursive: true });
    fs.copyFileSync(path.join(dir, 'policy.yml'), path.join(dir, '.github/buildfence.yml'));
    try {
      const r = cli('check-policy');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^# \.github\/buildfence\.yml: valid; 2 grades/);
      assert.equal(cli('check-policy', '--policy', 'bad.yml').status, 1);
    } finally {
      fs.rmSync(path.join(dir, '.github'), { recursive: true });
    }
  });

  it('exits 2 when there is no file to check, or two', () => {
    const none = cli('check-policy');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /there is no \.github\/buildfence\.yml here; name the policy file/);
    const missing = cli('check-policy', 'nope.yml');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /check-policy names 'nope\.yml', which does not exist/);
    assert.equal(cli('check-policy', 'policy.yml', 'bad.yml').status, 2);
  });
});
