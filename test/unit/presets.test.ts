import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AllowlistError, formatEntry, parseAllowlist, parseEntry, parseItem } from '../../src/policy/allowlist.js';
import { PRESETS, presetNames } from '../../src/policy/presets.js';
import schema from '../../schema/buildfence-policy.schema.json' with { type: 'json' };
import { listInput } from '../../src/inputs.js';

const allowItems = (value: string) => listInput(value, { commas: true, comments: true });

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REQUIRED = ['github', 'npm', 'pypi', 'maven-central', 'gradle', 'docker-hub', 'debian', 'ubuntu', 'rubygems', 'crates', 'go-proxy'];

describe('presets', () => {
  it('cover the ecosystems the issue names', () => {
    for (const name of REQUIRED) assert.ok(Object.hasOwn(PRESETS, name), name);
  });

  for (const name of presetNames()) {
    it(`${name}: names with a port, each with a reason, no address`, () => {
      const preset = PRESETS[name];
      assert.ok(preset.entries.length > 0 && preset.description.length > 0);
      for (const { entry, why } of preset.entries) {
        const parsed = parseEntry(entry);
        assert.equal(parsed.kind, 'name', `${entry} is not a name`);
        assert.ok(
          parsed.ports && parsed.ports.from === parsed.ports.to && [80, 443].includes(parsed.ports.from),
          `${entry}: port 80 or 443`,
        );
        assert.ok(why.length > 10, `${entry} has no reason`);
      }
      const texts = preset.entries.map((e) => formatEntry(parseEntry(e.entry)));
      assert.equal(new Set(texts).size, texts.length, 'an entry is listed twice');
    });
  }

  it('are written preset:NAME in the allowlist input, case-insensitively, and expanded in place', () => {
    const entries = parseAllowlist(allowItems('10.0.0.1\npreset:crates, PRESET:Go-Proxy # tools'), "input 'allowlist'");
    assert.deepEqual(entries.map(formatEntry), [
      '10.0.0.1/32',
      'tcp://index.crates.io:443',
      'tcp://static.crates.io:443',
      'tcp://crates.io:443',
      'tcp://proxy.golang.org:443',
      'tcp://sum.golang.org:443',
    ]);
    assert.deepEqual(
      entries.map((e) => e.text),
      ['10.0.0.1', 'preset:crates', 'preset:crates', 'preset:crates', 'preset:go-proxy', 'preset:go-proxy'],
    );
  });

  it('keep an entry once when a preset and an entry overlap', () => {
    assert.deepEqual(
      parseAllowlist(allowItems('registry.npmjs.org:443, preset:npm'), '--allow').map((e) => e.text),
      ['registry.npmjs.org:443', 'preset:npm'],
    );
  });

  it('an unknown preset is an error that lists the known ones, in the input too', () => {
    assert.throws(() => parseAllowlist(allowItems('preset:maven'), "input 'allowlist'"), {
      name: 'AllowlistError',
      message:
        "Invalid entry 'preset:maven' in input 'allowlist': unknown preset 'maven'; known presets: crates, debian, docker-hub, github, go-proxy, gradle, maven-central, npm, pypi, rubygems, ubuntu. " +
        'Accepted forms: 203.0.113.7, 10.0.0.0/8, [2001:db8::1]:443, 10.0.0.0/8:8000-8100, udp://203.0.113.7:5000, example.com, *.example.com:443, opaque://git.example.com:22, preset:npm.',
    });
    assert.throws(() => parseItem('preset:'), AllowlistError);
    assert.throws(() => parseItem('preset:toString'), /unknown preset 'tostring'/);
  });

  it('cannot collide with a host: without the prefix the name is a host, and a host:port needs a number', () => {
    assert.equal(parseEntry('npm').kind, 'name');
    assert.throws(() => parseEntry('preset:npm'), /port 'npm' is not a number/);
  });

  it("the README's presets table lists every preset's entries", () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const table = readme.split('\n### Presets\n')[1]?.split('\n#')[0] ?? '';
    const listed: Record<string, string[]> = {};
    let current = '';
    for (const m of table.matchAll(/^\| (?:`preset:([\w-]+)`)? *\| `([^`]+)` \|/gm)) {
      current = m[1] ?? current;
      (listed[current] ??= []).push(m[2]);
    }
    assert.deepEqual(listed, Object.fromEntries(presetNames().map((n) => [n, PRESETS[n].entries.map((e) => e.entry)])));
  });

  it("the schema offers every preset to editors' completion", () => {
    assert.deepEqual(
      schema.definitions.entry.examples,
      presetNames().map((n) => `preset:${n}`),
    );
  });
});
