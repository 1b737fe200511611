import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import schema from '../../schema/buildfence-policy.schema.json' with { type: 'json' };
import { formatEntry } from '../../src/policy/allowlist.js';
import { resolveGrades, type GradeSpec } from '../../src/policy/grades.js';
import { builtinPolicy, gradeOf, parsePolicy, PolicyError, type Policy } from '../../src/policy/policy.js';
import { loadYaml, YamlError } from '../../src/policy/yaml.js';

const F = '.github/buildfence.yml';
const lines = (...l: string[]) => l.join('\n') + '\n';
const grade = (policy: Policy, name: string) => gradeOf(policy, name, "Input 'grade'");
const allow = (policy: Policy, name: string) => grade(policy, name).allow.map(formatEntry);
const deny = (policy: Policy, name: string) => grade(policy, name).deny.map(formatEntry);

/** The problems a policy is refused with, one per line, without the count header. */
function problems(text: string): string[] {
  try {
    parsePolicy(text, F);
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    assert.equal(err.file, F);
    return err.problems;
  }
  assert.fail('the policy was accepted');
}

const ISSUE_EXAMPLE = lines(
  'grades:',
  '  base:',
  '    allow: [preset:npm, "artifacts.example.com:443"]',
  '    deny: ["gist.github.com"]',
  '  dev:',
  '    extends: base',
  '    mode: audit',
  '  release:',
  '    extends: base',
  '    mode: block',
  '    allow: ["*.maven.example.com:443", "10.20.0.0/16"]',
  '    fail-on-denied: true',
);

describe('policy file: grades and extends', () => {
  const policy = parsePolicy(ISSUE_EXAMPLE, F);

  it('reads the shape from the issue', () => {
    assert.equal(policy.file, F);
    assert.deepEqual([...policy.grades.keys()], ['base', 'dev', 'release']);
    const release = grade(policy, 'release');
    assert.deepEqual([release.chain, release.mode, release.failOnDenied, release.builtIn], [['release', 'base'], 'block', true, false]);
    assert.deepEqual([grade(policy, 'dev').mode, grade(policy, 'dev').failOnDenied], ['audit', false]);
  });

  it("puts the ancestor's entries first, then the grade's own", () => {
    assert.deepEqual(allow(policy, 'release'), [
      'tcp://registry.npmjs.org:443',
      'tcp://registry.yarnpkg.com:443',
      'tcp://artifacts.example.com:443',
      'tcp://*.maven.example.com:443',
      '10.20.0.0/16',
    ]);
    assert.deepEqual(deny(policy, 'release'), ['gist.github.com']);
    assert.deepEqual(deny(policy, 'dev'), ['gist.github.com']);
  });

  it('keeps deny beside allow, even for the same destination: deny beats allow where the rules are made', () => {
    const p = parsePolicy(
      lines('grades:', '  g:', '    allow: [10.0.0.0/8, "203.0.113.7:443"]', '    deny: ["203.0.113.7:443", 10.9.0.0/16]'),
      F,
    );
    assert.deepEqual(allow(p, 'g'), ['10.0.0.0/8', 'tcp://203.0.113.7/32:443']);
    assert.deepEqual(deny(p, 'g'), ['tcp://203.0.113.7/32:443', '10.9.0.0/16']);
  });

  it('follows a long chain: the nearest mode and fail-on-denied win, lists accumulate from the root', () => {
    const p = parsePolicy(
      lines(
        'grades:',
        '  a: {extends: b, allow: [10.0.0.1]}',
        '  b: {extends: c, allow: [10.0.0.2], fail-on-denied: false, deny: [10.9.0.1]}',
        '  c: {extends: d, allow: [10.0.0.3], mode: audit, fail-on-denied: true}',
        '  d: {allow: [10.0.0.4, 10.0.0.1], mode: block, deny: [10.9.0.1]}',
      ),
      F,
    );
    const a = grade(p, 'a');
    assert.deepEqual(a.chain, ['a', 'b', 'c', 'd']);
    assert.equal(a.mode, 'audit');
    assert.equal(a.failOnDenied, false);
    assert.deepEqual(allow(p, 'a'), ['10.0.0.4/32', '10.0.0.1/32', '10.0.0.3/32', '10.0.0.2/32']);
    assert.deepEqual(deny(p, 'a'), ['10.9.0.1/32']);
  });

  it('blocks when no grade in the chain sets a mode', () => {
    const p = parsePolicy(lines('grades:', '  base: {allow: [10.0.0.1]}', '  ci: {extends: base}'), F);
    assert.equal(grade(p, 'ci').mode, 'block');
    assert.equal(grade(p, 'ci').failOnDenied, false);
  });

  it('keeps the built-in grades the file does not define, also as extends targets', () => {
    const p = parsePolicy(
      lines('grades:', '  nightly:', '    extends: dev', '  hardened:', '    extends: release', '    fail-on-denied: true'),
      F,
    );
    assert.deepEqual([...p.grades.keys()], ['nightly', 'hardened', 'dev', 'release']);
    assert.equal(grade(p, 'nightly').mode, 'audit');
    assert.equal(grade(p, 'hardened').mode, 'block');
    assert.equal(grade(p, 'dev').builtIn, true);
    assert.deepEqual(grade(p, 'hardened').chain, ['hardened', 'release']);
  });

  it("replaces a built-in grade with the file's definition of the same name, whole", () => {
    const p = parsePolicy(lines('grades:', '  dev:', '    allow: [10.0.0.1]', '  release:', '    mode: audit'), F);
    assert.deepEqual([grade(p, 'dev').mode, grade(p, 'dev').builtIn], ['block', false]);
    assert.deepEqual([grade(p, 'release').mode, grade(p, 'release').builtIn], ['audit', false]);
    assert.deepEqual(allow(p, 'dev'), ['10.0.0.1/32']);
  });

  it('without a file, has the built-in dev (audit) and release (block)', () => {
    const p = builtinPolicy();
    assert.equal(p.file, undefined);
    assert.deepEqual(
      [...p.grades.values()].map((g) => [g.name, g.mode, g.builtIn, g.allow.length, g.deny.length]),
      [
        ['dev', 'audit', true, 0, 0],
        ['release', 'block', true, 0, 0],
      ],
    );
  });

  it('accepts an empty grade and an empty grades mapping', () => {
    assert.equal(grade(parsePolicy('grades:\n  x: {}\n', F), 'x').mode, 'block');
    assert.deepEqual([...parsePolicy('grades: {}\n', F).grades.keys()], ['dev', 'release']);
  });

  it('expands presets in allow and deny, each entry keeping the preset as its text, once', () => {
    const p = parsePolicy(
      lines('grades:', '  g:', '    allow: [preset:pypi, "files.pythonhosted.org:443", PRESET:PyPI]', '    deny: [preset:go-proxy]'),
      F,
    );
    assert.deepEqual(allow(p, 'g'), ['tcp://pypi.org:443', 'tcp://files.pythonhosted.org:443']);
    assert.deepEqual(
      grade(p, 'g').allow.map((e) => e.text),
      ['preset:pypi', 'preset:pypi'],
    );
    assert.deepEqual(deny(p, 'g'), ['tcp://proxy.golang.org:443', 'tcp://sum.golang.org:443']);
  });

  it('an unknown grade is an error that lists the known ones', () => {
    const p = parsePolicy(ISSUE_EXAMPLE, F);
    assert.throws(() => gradeOf(p, 'relase', "Input 'grade'"), {
      message: `Input 'grade' has unknown grade 'relase'. Known grades: base, dev, release (the policy file ${F} and the built-in grades).`,
    });
    assert.throws(() => gradeOf(builtinPolicy(), 'base', '--grade'), {
      message:
        "--grade has unknown grade 'base'. Known grades: dev, release (built in; a policy file (.github/buildfence.yml) can add more).",
    });
  });
});

describe('policy file: every error names file, line, column, key and what was expected', () => {
  const cases: Array<[string, string, string[]]> = [
    ['an empty file', '', [`${F}:1:1: (top level): expected a mapping (key: value lines), found nothing.`]],
    ['a list at the top', '- a\n', [`${F}:1:1: (top level): expected a mapping (key: value lines), found a list.`]],
    [
      'no grades',
      'grade: {}\n',
      [
        `${F}:1:1: (top level): missing key 'grades'; expected 'grades:' with one or more grades.`,
        `${F}:1:1: grade: unknown key 'grade'; expected one of: grades.`,
      ],
    ],
    ['grades as a list', 'grades:\n  - dev\n', [`${F}:2:3: grades: expected a mapping (key: value lines), found a list.`]],
    [
      'an empty grade, at its key',
      'grades:\n  dev:\n  ci: {}\n',
      [`${F}:2:3: grades.dev: expected a mapping (key: value lines), found nothing.`],
    ],
    [
      'a misspelt key, at the key',
      lines('grades:', '  base:', '    mode: audit', '    alow: [10.0.0.1]'),
      [`${F}:4:5: grades.base.alow: unknown key 'alow'; expected one of: description, extends, mode, fail-on-denied, allow, deny.`],
    ],
    [
      'a bad mode',
      lines('grades:', '  release: {mode: blok}'),
      [`${F}:2:19: grades.release.mode: expected one of 'block', 'audit', found 'blok'.`],
    ],
    [
      'fail-on-denied as a word',
      lines('grades:', '  r:', '    fail-on-denied: yes'),
      [`${F}:3:21: grades.r.fail-on-denied: expected true or false, found 'yes'.`],
    ],
    ['allow as a string', lines('grades:', '  r:', '    allow: github'), [`${F}:3:12: grades.r.allow: expected a list, found 'github'.`]],
    [
      'an entry that is a number',
      lines('grades:', '  r:', '    deny:', '      - 10.0.0.1', '      - 443'),
      [`${F}:5:9: grades.r.deny[1]: expected a string, found number 443.`],
    ],
    [
      'an empty entry',
      lines('grades:', '  r:', '    allow: ["10.0.0.1", ""]'),
      [`${F}:3:25: grades.r.allow[1]: expected an entry, found an empty string.`],
    ],
    [
      'a grade name with a space',
      lines('grades:', '  "my grade": {}'),
      [
        `${F}:2:3: grades["my grade"]: 'my grade' is not a grade name; expected letters, digits, '-' and '_', starting with a letter or digit.`,
      ],
    ],
    [
      'extends that is not a name',
      lines('grades:', '  a:', '    extends: "b c"'),
      [`${F}:3:14: grades.a.extends: expected a grade name (letters, digits, '-' and '_'), found 'b c'.`],
    ],
    ['extends a list', lines('grades:', '  a:', '    extends: [b]'), [`${F}:3:14: grades.a.extends: expected a string, found a list.`]],
    [
      'extends an unknown grade',
      lines('grades:', '  base: {}', '  ci:', '    extends: bsae'),
      [`${F}:4:14: grades.ci.extends: unknown grade 'bsae'; expected one of: base, ci, dev, release.`],
    ],
    [
      'a grade extending itself',
      lines('grades:', '  a:', '    extends: a'),
      [`${F}:3:14: grades.a.extends: extends loops: a -> a; expected a chain that ends at a grade without 'extends'.`],
    ],
    [
      'a loop of three, reported once, and a grade leading into it',
      lines('grades:', '  x: {extends: a}', '  a: {extends: b}', '  b: {extends: c}', '  c: {extends: a}'),
      [`${F}:3:16: grades.a.extends: extends loops: a -> b -> c -> a; expected a chain that ends at a grade without 'extends'.`],
    ],
    [
      'a loop through a built-in name the file redefines',
      lines('grades:', '  release: {extends: base}', '  base: {extends: release}'),
      [
        `${F}:2:22: grades.release.extends: extends loops: release -> base -> release; expected a chain that ends at a grade without 'extends'.`,
      ],
    ],
    [
      'a bad entry',
      lines('grades:', '  r:', '    allow:', '      - 10.0.0.1', '      - 10.1.2.3/8   # typo'),
      [
        `${F}:5:9: grades.r.allow[1]: Invalid entry '10.1.2.3/8': host bits are set; did you mean 10.0.0.0/8? ` +
          'Accepted forms: 203.0.113.7, 10.0.0.0/8, [2001:db8::1]:443, 10.0.0.0/8:8000-8100, udp://203.0.113.7:5000, example.com, *.example.com:443, opaque://git.example.com:22, preset:npm.',
      ],
    ],
    [
      'an unknown preset',
      lines('grades:', '  r:', '    deny: [preset:nmp]'),
      [
        `${F}:3:12: grades.r.deny[0]: Invalid entry 'preset:nmp': unknown preset 'nmp'; known presets: crates, debian, docker-hub, github, go-proxy, gradle, maven-central, npm, pypi, rubygems, ubuntu. ` +
          'Accepted forms: 203.0.113.7, 10.0.0.0/8, [2001:db8::1]:443, 10.0.0.0/8:8000-8100, udp://203.0.113.7:5000, example.com, *.example.com:443, opaque://git.example.com:22, preset:npm.',
      ],
    ],
    [
      'YAML that does not parse',
      lines('grades:', '  r:', '    allow: [10.0.0.1', '  s: {}'),
      [`${F}:4:3: invalid YAML: missed comma between flow collection entries.`],
    ],
    ['a duplicated key', lines('grades:', '  r: {}', '  r: {}'), [`${F}:3:3: invalid YAML: duplicated mapping key.`]],
    [
      'two documents',
      'grades: {}\n---\ngrades: {}\n',
      [`${F}:3:1: invalid YAML: expected a single document in the stream, but found more.`],
    ],
  ];
  for (const [what, text, expected] of cases) it(what, () => assert.deepEqual(problems(text), expected));

  it('reports every problem of one kind at once, in file order, under a count', () => {
    const text = lines('grades:', '  b: {mode: x}', '  a:', '    allow: 1', '    what: 2');
    assert.throws(() => parsePolicy(text, F), {
      message: [
        `3 problems in policy file ${F}:`,
        `${F}:2:13: grades.b.mode: expected one of 'block', 'audit', found 'x'.`,
        `${F}:4:12: grades.a.allow: expected a list, found number 1.`,
        `${F}:5:5: grades.a.what: unknown key 'what'; expected one of: description, extends, mode, fail-on-denied, allow, deny.`,
      ].join('\n'),
    });
  });

  it('reports entry and extends problems together once the shape is right', () => {
    assert.deepEqual(
      problems(lines('grades:', '  a: {extends: nope, allow: ["x:0"]}')).map((p) => p.split(': ').slice(0, 2).join(': ')),
      [`${F}:2:16: grades.a.extends`, `${F}:2:30: grades.a.allow[0]`],
    );
  });
});

describe('YAML positions', () => {
  const doc = loadYaml(
    lines(
      '# a comment',
      'grades:',
      '  base:   # another',
      '    allow:',
      '      -   "a.example:443"',
      '      - b.example',
      '    deny: [ c.example,',
      '            d.example ]',
      '  empty:',
      '  ref: &r {mode: audit}',
      '  alias: *r',
      '  merged:',
      '    <<: *r',
      '    allow: [e.example]',
      '  block: |',
      '    text',
    ),
  );
  const at = (path: Array<string | number>, key = false) => {
    const p = doc.locate(path, key);
    return `${p.line}:${p.column}`;
  };

  it('finds block and flow nodes past blanks and comments', () => {
    assert.equal(at([]), '2:1');
    assert.equal(at(['grades']), '3:3');
    assert.equal(at(['grades'], true), '2:1');
    assert.equal(at(['grades', 'base']), '4:5');
    assert.equal(at(['grades', 'base', 'allow', 0]), '5:11');
    assert.equal(at(['grades', 'base', 'allow', 1]), '6:9');
    assert.equal(at(['grades', 'base', 'deny']), '7:11');
    assert.equal(at(['grades', 'base', 'deny', 1]), '8:13');
    assert.equal(at(['grades', 'block']), '15:10');
  });

  it('gives the key for an empty value, and the nearest node for a path that leaves the tree', () => {
    assert.equal(at(['grades', 'empty']), '9:3');
    assert.equal(at(['grades', 'alias', 'mode']), '11:10');
    assert.equal(at(['grades', 'merged', 'mode']), '13:5');
    assert.equal(at(['grades', 'merged', 'allow', 0]), '14:13');
    assert.equal(at(['grades', 'nothing', 'here']), '3:3');
  });

  it('counts lines the same with CRLF and after a byte order mark', () => {
    const crlf = loadYaml('\uFEFFa: 1\r\nb:\r\n  - x\r\n');
    assert.deepEqual(crlf.locate(['b', 0]), { line: 3, column: 5 });
    assert.deepEqual(crlf.locate(['a']), { line: 1, column: 4 });
  });

  it('reports a syntax error with its line and column', () => {
    assert.throws(
      () => loadYaml('a: 1\n  b: 2\n'),
      (err: unknown) => {
        assert.ok(err instanceof YamlError);
        assert.deepEqual([err.reason, err.position], ['bad indentation of a mapping entry', { line: 2, column: 4 }]);
        return true;
      },
    );
  });

  it('reads YAML 1.2 core: no dates, yes is a string', () => {
    assert.deepEqual(loadYaml('a: 2024-01-01\nb: yes\nc: true\n').value, { a: '2024-01-01', b: 'yes', c: true });
  });
});

describe('extends resolution (property)', () => {
  it('every grade resolves to a chain ending at a root, or its chain has a reported problem', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...names), fc.option(fc.constantFrom(...names, 'dev', 'release', 'zz'), { nil: undefined })),
        (graph) => {
          const specs: Record<string, GradeSpec> = {};
          for (const [name, parent] of Object.entries(graph)) specs[name] = { allow: [], deny: [], ...(parent ? { extends: parent } : {}) };
          const { grades, problems } = resolveGrades(specs);
          const all: Record<string, string | undefined> = { dev: undefined, release: undefined, ...graph };
          for (const name of Object.keys(all)) {
            // Walk by hand: does this grade reach a root?
            const seen: string[] = [];
            let g: string | undefined = name;
            while (g !== undefined && Object.hasOwn(all, g) && !seen.includes(g)) {
              seen.push(g);
              g = all[g];
            }
            const ok = g === undefined;
            assert.equal(grades.has(name), ok, name);
            if (ok) assert.deepEqual(grades.get(name)!.chain, seen);
            else
              assert.ok(
                problems.some((p) => seen.includes(p.grade)),
                `${name}: no problem reported on its chain`,
              );
          }
        },
      ),
    );
  });
});

describe('the schema and the README', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

  it('the schema is valid draft-07, with a description on every key', () => {
    const ajv = new Ajv({ strict: true });
    assert.equal(ajv.validateSchema(schema), true, ajv.errorsText());
    const grade = schema.definitions.grade.properties;
    for (const [key, value] of Object.entries({ ...grade, grades: schema.properties.grades, entry: schema.definitions.entry })) {
      assert.ok((value as { description?: string }).description, `${key} has no description`);
    }
  });

  it("the README's example policy is valid", () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const example = /```yaml\n(# yaml-language-server[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'no example policy in the README');
    assert.equal(grade(parsePolicy(example, F), 'release').failOnDenied, true);
  });
});
