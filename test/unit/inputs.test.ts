// Every input validator, table-driven, and getInputs/toRunSpec as a whole: defaults, the CLI's
// flag names in messages, and combinations that only toRunSpec can judge.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  checkWorkspace,
  getInputs,
  listInput,
  readBoolean,
  readChoice,
  readEnv,
  readMode,
  readNetwork,
  readRunSpec,
  readSeconds,
  readShell,
} from '../../src/inputs.js';
import { BUILD_IMAGE, DNS_TTL, INPUT_DEFAULTS } from '../../src/run/defaults.js';

const L = "Input 'x'";

describe('listInput', () => {
  const cases: Array<[string, Parameters<typeof listInput>[1], string[]]> = [
    ['', {}, []],
    ['a\nb\r\nc\rd', {}, ['a', 'b', 'c', 'd']],
    ['  a  \n\n  \n b ', {}, ['a', 'b']],
    ['a, b,,c', {}, ['a, b,,c']],
    ['a, b,,c', { commas: true }, ['a', 'b', 'c']],
    ['a # x, y\n# all of it\nb', { commas: true, comments: true }, ['a', 'b']],
    ['a # x', { commas: true }, ['a # x']],
  ];
  for (const [value, options, expected] of cases) {
    it(`${JSON.stringify(value)} with ${JSON.stringify(options)}`, () => assert.deepEqual(listInput(value, options), expected));
  }
});

describe('validators', () => {
  it('readBoolean: true, false, any case, unset; anything else names the input', () => {
    assert.equal(readBoolean('true', L), true);
    assert.equal(readBoolean(' FALSE ', L), false);
    assert.equal(readBoolean('', L), undefined);
    assert.throws(() => readBoolean('yes', L), { message: "Input 'x' has invalid value 'yes'. Expected 'true' or 'false'." });
  });

  it('readSeconds: whole seconds from 1 to ipset’s limit, the fallback when empty', () => {
    assert.equal(readSeconds('', L, 60), 60);
    assert.equal(readSeconds(' 90 ', L, 60), 90);
    assert.equal(readSeconds('2147483', L, 60), 2147483);
    for (const bad of ['0', '-1', '1.5', '2147484', '1e3', 'ten']) {
      assert.throws(() => readSeconds(bad, L, 60), {
        message: `Input 'x' has invalid value '${bad}'. Expected whole seconds from 1 to 2147483.`,
      });
    }
  });

  it('readMode: block, audit, or unset (the grade decides)', () => {
    assert.equal(readMode('block', L), 'block');
    assert.equal(readMode('audit', L), 'audit');
    assert.equal(readMode('', L), undefined);
    assert.throws(() => readMode('Block', L), /Input 'x' has invalid value 'Block'\. Expected 'block' or 'audit'/);
  });

  it('readChoice: one of the choices, or an error listing them', () => {
    assert.equal(readChoice('never', L, ['missing', 'never'], "'missing' or 'never'"), 'never');
    assert.throws(() => readChoice('always', L, ['missing', 'never'], "'missing' or 'never'"), {
      message: "Input 'x' has invalid value 'always'. Expected 'missing' or 'never'.",
    });
  });

  it('readShell: words as a shell splits them, never empty', () => {
    assert.deepEqual(readShell('bash -e {0}', L), ['bash', '-e', '{0}']);
    assert.deepEqual(readShell("sh -c 'a b'", L), ['sh', '-c', 'a b']);
    assert.throws(() => readShell('  ', L), /Input 'x' is empty/);
    assert.throws(() => readShell('sh $X', L), /Input 'x' refuses '\$X'/);
  });

  it('readEnv: KEY=VALUE lines, the value as written', () => {
    assert.deepEqual(readEnv(['A=1', 'B = x=y # z', '_C='], L), [
      ['A', '1'],
      ['B', ' x=y # z'],
      ['_C', ''],
    ]);
    for (const bad of ['NOEQUALS', '1A=x', 'A-B=x', '=x']) {
      assert.throws(() => readEnv([bad], L), {
        message: `Input 'x' has invalid line '${bad}'. Expected KEY=VALUE, one per line, KEY made of letters, digits and '_'.`,
      });
    }
  });

  it('readNetwork: a network name; not host, none or another container', () => {
    assert.equal(readNetwork('', L), undefined);
    assert.equal(readNetwork('ci-net', L), 'ci-net');
    for (const bad of ['host', 'none', 'container:abc'])
      assert.throws(() => readNetwork(bad, L), new RegExp(`Input 'x' cannot be '${bad}'`));
  });

  it("checkWorkspace: refuses a directory that is, holds or lies inside an engine's socket or state", () => {
    assert.equal(checkWorkspace('/home/runner/work/app'), '/home/runner/work/app');
    for (const dir of ['/', '/var', '/run', '/var/run', '/home/runner', '/var/lib/docker/volumes/ws/_data', '/run/containerd/s']) {
      assert.throws(
        () => checkWorkspace(dir),
        new RegExp(`^Error: The workspace '${dir}' would be mounted into the build: .*Run from a project directory\\.$`),
      );
    }
  });

  it('checkWorkspace: judges where a workspace link leads', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-ws-link-'));
    fs.symlinkSync('/run', path.join(tmp, 'ws'));
    assert.throws(() => checkWorkspace(path.join(tmp, 'ws')), /\(it leads to \/run\): \/run holds \/run\/docker\.sock/);
    fs.rmSync(tmp, { recursive: true });
  });
});

describe('getInputs', () => {
  const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';

  it('fills every default from src/run/defaults.ts', () => {
    const inputs = getInputs(read({ run: 'make' }), 'action');
    assert.equal(inputs.grade, INPUT_DEFAULTS.grade);
    assert.equal(inputs.image, BUILD_IMAGE);
    assert.deepEqual(inputs.shell, ['sh', '-e']);
    assert.equal(inputs.holderImage, INPUT_DEFAULTS['holder-image']);
    assert.equal(inputs.agentImage, INPUT_DEFAULTS['agent-image']);
    assert.equal(inputs.pull, 'missing');
    assert.equal(inputs.runtime, 'auto');
    assert.equal(inputs.dnsTtlMin, DNS_TTL.min);
    assert.equal(inputs.dnsTtlMax, DNS_TTL.max);
    assert.equal(inputs.mode, undefined);
    assert.equal(inputs.failOnDenied, undefined);
    assert.equal(inputs.dnsUpstream, undefined);
    assert.equal(inputs.network, undefined);
  });

  it('reads list inputs with one helper: allowlist (commas, comments), dns-upstream (commas), env (lines)', () => {
    const inputs = getInputs(
      read({
        run: 'make',
        allowlist: 'a.test:443, 10.0.0.0/8 # ours\npreset:npm',
        'dns-upstream': '192.0.2.53, [2001:db8::53]:5353',
        env: 'A=1, 2\nB=#x',
      }),
      'action',
    );
    assert.deepEqual(inputs.allowlist, ['a.test:443', '10.0.0.0/8', 'preset:npm']);
    assert.deepEqual(inputs.dnsUpstream, [
      { address: '192.0.2.53', port: 53 },
      { address: '2001:db8::53', port: 5353 },
    ]);
    assert.deepEqual(inputs.env, [
      ['A', '1, 2'],
      ['B', '#x'],
    ]);
  });

  it('names the input in the action and the flag in the CLI', () => {
    const bad = { run: 'make', pull: 'always' };
    assert.throws(() => getInputs(read(bad), 'action'), /^Error: Input 'pull' has invalid value 'always'/);
    assert.throws(() => getInputs(read(bad), 'cli'), /^Error: --pull has invalid value 'always'/);
    assert.throws(() => getInputs(read({}), 'action'), /Input 'run' is required/);
    assert.throws(() => getInputs(read({}), 'cli'), /the command after '--' is required/);
  });

  it('refuses a TTL ceiling below the floor', () => {
    assert.throws(() => getInputs(read({ run: 'x', 'dns-ttl-min': '100', 'dns-ttl-max': '50' }), 'cli'), {
      message: '--dns-ttl-max (50) is below --dns-ttl-min (100). The ceiling must be at least the floor.',
    });
  });
});

describe('toRunSpec', () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-inputs-'));
  const spec = (values: Record<string, string>, via: 'action' | 'cli' = 'action') =>
    readRunSpec((name) => ({ run: 'make', ...values })[name] ?? '', { workspace: ws, via });

  it('takes the mode and fail-on-denied from the grade unless the input sets them', () => {
    assert.equal(spec({}).mode, 'audit');
    assert.equal(spec({ grade: 'release' }).mode, 'block');
    assert.equal(spec({ grade: 'release', mode: 'audit' }).mode, 'audit');
    assert.equal(spec({ grade: 'release' }).failOnDenied, false);
    assert.equal(spec({ grade: 'release', 'fail-on-denied': 'true' }).failOnDenied, true);
  });

  it('judges docker-options with the mode it resolved, naming the grade', () => {
    assert.equal(spec({ 'docker-options': '--device /dev/kvm' }).dockerOptions.length, 2);
    assert.throws(() => spec({ grade: 'release', 'docker-options': '--device /dev/kvm' }), /is refused in block mode \(grade release\)/);
    assert.throws(
      () => spec({ grade: 'release', 'docker-options': '--device /dev/kvm' }, 'cli'),
      /^Error: --docker-options refuses '--device \/dev\/kvm'/,
    );
  });

  it('follows links in a mount source as docker will: cleaned, and as far as the path exists', () => {
    // ws/run -> /run; ws/docker -> /run/docker. A part that does not exist yet is created by
    // docker where the links lead.
    fs.symlinkSync('/run', path.join(ws, 'run'));
    fs.symlinkSync('/run/docker', path.join(ws, 'docker'));
    for (const source of [`${ws}/run`, `${ws}/run/containerd/s`, `${ws}/docker/new/dir`, `${ws}/run/new/../docker`]) {
      assert.throws(
        () => spec({ 'docker-options': `-v ${source}:/x` }),
        /leads to \/run(\/docker)?(\/new\/dir|\/containerd\/s)?: .*Mount the directory you mean by its own path\./,
        source,
      );
    }
    assert.equal(spec({ 'docker-options': `-v ${ws}/new/dir:/x` }).dockerOptions.length, 2);
    for (const link of ['run', 'docker']) fs.rmSync(path.join(ws, link));
  });

  it('names the allowlist input inside the entry message', () => {
    assert.throws(() => spec({ allowlist: '10.1.2.3/8' }), /Invalid entry '10\.1\.2\.3\/8' in input 'allowlist'/);
    assert.throws(() => spec({ allowlist: '10.1.2.3/8' }, 'cli'), /Invalid entry '10\.1\.2\.3\/8' in --allow/);
  });

  it('resolves the working directory against the workspace', () => {
    assert.equal(spec({}).workingDirectory, ws);
    assert.equal(spec({ 'working-directory': 'sub/dir' }).workingDirectory, path.join(ws, 'sub/dir'));
  });

  it('names the grade input or flag for an unknown grade', () => {
    assert.throws(() => spec({ grade: 'nightly' }), /^Error: Input 'grade' has unknown grade 'nightly'/);
    assert.throws(() => spec({ grade: 'nightly' }, 'cli'), /^Error: --grade has unknown grade 'nightly'/);
  });
});
