// scripts/release.ts: what the release workflow checks and rewrites, on the repository's own files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { changelogSection, checkTag, pinActionInput, pinCodeDefault } from '../../scripts/release.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const version = (JSON.parse(read('package.json')) as { version: string }).version;
const digest = `sha256:${'ab'.repeat(32)}`;

const changelog = [
  '# Changelog',
  '',
  '## [Unreleased]',
  '',
  '## [1.2.0] - 2026-12-01',
  '',
  '### Added',
  '',
  '- pulls by digest',
  '',
  '## [1.1.0] - 2026-11-01',
  '',
  '- older',
  '',
  '[1.2.0]: https://example.invalid/compare/v1.1.0...v1.2.0',
].join('\n');

describe('release: tag, version and changelog', () => {
  it("a version's notes are its section, without the next one or the link references", () => {
    assert.equal(changelogSection(changelog, '1.2.0'), '### Added\n\n- pulls by digest');
    assert.equal(changelogSection(changelog, '1.1.0'), '- older');
  });

  it('a tag must match package.json and have a changelog section', () => {
    assert.deepEqual(checkTag('v1.2.0', '1.2.0', changelog), { version: '1.2.0', major: '1' });
    assert.throws(() => checkTag('v1.2.1', '1.2.0', changelog), /Tag 'v1\.2\.1' does not match package\.json's version 1\.2\.0/);
    assert.throws(() => checkTag('v1.3.0', '1.3.0', changelog), /no section '## \[1\.3\.0\] - YYYY-MM-DD'/);
    assert.throws(() => checkTag('v1.2', '1.2', changelog), /not MAJOR\.MINOR\.PATCH/);
    assert.throws(() => changelogSection('## [2.0.0] - 2026-12-02\n\n## [1.0.0] - 2026-01-01\n- x', '2.0.0'), /is empty/);
  });

  it('CHANGELOG.md keeps a changelog: an Unreleased section, released ones newest first, dated', () => {
    const text = read('CHANGELOG.md');
    assert.match(text, /^# Changelog\n/);
    assert.match(text, /^## \[Unreleased\]$/m);
    const released = [...text.matchAll(/^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$/gm)].map((m) => m[1]);
    const newestFirst = [...released].sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
    assert.deepEqual(released, newestFirst);
    for (const heading of text.matchAll(/^## (.*)$/gm)) assert.match(heading[1], /^\[(Unreleased|\d+\.\d+\.\d+)\]( - \d{4}-\d{2}-\d{2})?$/);
    assert.match(version, /^\d+\.\d+\.\d+$/);
  });
});

describe('release: pinning the images by digest', () => {
  it("rewrites exactly action.yml's holder-image and agent-image defaults", () => {
    const before = read('action.yml');
    const holder = `ghcr.io/buildfence/buildfence-holder:${version}@${digest}`;
    const after = pinActionInput(before, 'holder-image', holder);
    type Action = { inputs: Record<string, { default?: string; description: string }> };
    const [a, b] = [before, after].map((t) => yaml.load(t) as Action);
    assert.equal(b.inputs['holder-image'].default, holder);
    assert.deepEqual({ ...b.inputs, 'holder-image': a.inputs['holder-image'] }, a.inputs);
    assert.equal(after.split('\n').length, before.split('\n').length);
    assert.throws(() => pinActionInput(before, 'no-such-input', holder), /no default for input 'no-such-input'/);
  });

  it('rewrites the one literal a code default is assigned, and refuses zero or two', () => {
    const code = "export const HOLDER_IMAGE = 'buildfence/holder:0.1.0';\nexport const OTHER = 'x';\n";
    assert.equal(pinCodeDefault(code, 'HOLDER_IMAGE', 'r/h:1@x'), code.replace('buildfence/holder:0.1.0', 'r/h:1@x'));
    assert.throws(() => pinCodeDefault(code, 'AGENT_IMAGE', 'r'), /assigns AGENT_IMAGE 0 times/);
    assert.throws(() => pinCodeDefault(code + code, 'HOLDER_IMAGE', 'r'), /2 times/);
  });
});
