// Proof for auditors, end to end against the real engine: a release run names the artifact its
// build wrote, the statement binds its digest and the policy file's, and `buildfence verify`
// (the bundled CLI, offline) passes it against the policy used, and fails it against a narrower
// grade and once the artifact changes.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LOOPBACK_UPSTREAM, PROBE_IMAGE, ROOT, cli, fixture } from './harness.js';
import type { Statement } from '../../src/report/statement.js';

const fx = fixture({ servers: 1 });
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The bundled CLI's verify: its exit code and what it printed. */
async function verify(args: string[]): Promise<{ code: number; out: string }> {
  return promisify(execFile)(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'verify', ...args], { cwd: fx.ws }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
  );
}

let policy = '';
before(async () => {
  await fx.ready;
  const [s0] = fx.net.servers;
  policy = [
    'grades:',
    '  release:',
    '    mode: block',
    `    allow: ["${s0.ipv4}:8080"]`,
    '  narrow:',
    '    mode: block',
    '    allow: []',
    '',
  ].join('\n');
  await fs.writeFile(path.join(fx.ws, 'fence.yml'), policy);
});

describe('attestation and buildfence verify', () => {
  it('a release run with --subject-path writes a statement binding the artifact; verify passes it, and fails it against a narrower grade and a changed artifact', async () => {
    const [s0] = fx.net.servers;
    const r = await cli(
      [
        'run',
        '--policy',
        'fence.yml',
        '--grade',
        'release',
        '--network',
        fx.net.name,
        '--pull',
        'never',
        '--image',
        PROBE_IMAGE,
        '--dns-upstream',
        LOOPBACK_UPSTREAM,
        '--subject-path',
        'out/app.bin',
        '--report',
        'record.json',
        '--attestation',
        'attestation.json',
        '--',
        `./probe tcp ${s0.ipv4} 8080 && mkdir -p out && printf 'built behind the fence\\n' > out/app.bin`,
      ],
      fx.ws,
    );
    assert.equal(r.code, 0, r.stderr);
    const artifact = await fs.readFile(path.join(fx.ws, 'out/app.bin'));
    const statement = JSON.parse(await fs.readFile(path.join(fx.ws, 'attestation.json'), 'utf8')) as Statement;
    assert.deepEqual(statement.subject, [{ name: 'out/app.bin', digest: { sha256: sha256(artifact) } }]);
    assert.deepEqual(statement.predicate.policy, { path: 'fence.yml', sha256: sha256(policy) });
    assert.equal(statement.predicate.mode, 'block');
    assert.match(statement.predicate.images.build.id, /^sha256:[0-9a-f]{64}$/);

    const ok = await verify(['attestation.json', '--policy', 'fence.yml', '--grade', 'release', '--subject', 'out/app.bin']);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /^verdict: pass/m);

    // The verify action (verify/action.yml), as the runner runs it: inputs in INPUT_*, outputs in a file.
    const outputs = path.join(fx.ws, 'verify-outputs');
    const action = async (grade: string) => {
      await fs.writeFile(outputs, '');
      return promisify(execFile)(process.execPath, [path.join(ROOT, 'dist/verify.js')], {
        cwd: fx.ws,
        env: {
          PATH: process.env.PATH,
          GITHUB_WORKSPACE: fx.ws,
          GITHUB_OUTPUT: outputs,
          INPUT_ATTESTATION: 'attestation.json',
          INPUT_POLICY: 'fence.yml',
          INPUT_GRADE: grade,
          'INPUT_SUBJECT-PATH': 'out/app.bin',
        },
      }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
      );
    };
    const passed = await action('release');
    assert.equal(passed.code, 0, passed.out);
    assert.match(await fs.readFile(outputs, 'utf8'), /^verdict<<.*\npass\n/m);
    const refused = await action('narrow');
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /^::error::verdict: FAIL \(2 of 9 checks failed\)$/m);
    assert.match(await fs.readFile(outputs, 'utf8'), /^verdict<<.*\nfail\n/m);

    const narrower = await verify(['attestation.json', '--policy', 'fence.yml', '--grade', 'narrow', '--subject', 'out/app.bin']);
    assert.equal(narrower.code, 1, narrower.out);
    assert.match(
      narrower.out,
      new RegExp(`^FAIL  allowlist  allowlist: beyond grade narrow: tcp://${s0.ipv4.replaceAll('.', '\\.')}/32:8080$`, 'm'),
    );

    await fs.appendFile(path.join(fx.ws, 'out/app.bin'), 'x');
    const changed = await verify(['attestation.json', '--policy', 'fence.yml', '--grade', 'release', '--subject', 'out/app.bin']);
    assert.equal(changed.code, 1, changed.out);
    assert.match(
      changed.out,
      /^FAIL {2}subject +subject: out\/app\.bin \(sha256 [0-9a-f]{64}\) is not among the attested artifacts \(out\/app\.bin\)$/m,
    );

    await fs.appendFile(path.join(fx.ws, 'fence.yml'), '# edited\n');
    const edited = await verify(['record.json', '--policy', 'fence.yml', '--grade', 'release']);
    assert.equal(edited.code, 1, edited.out);
    assert.match(edited.out, /^FAIL {2}policy/m);
  });

  it('a subject the build did not write fails the step, with the record still written and no statement', async () => {
    const r = await cli(
      [
        'run',
        '--grade',
        'release',
        '--pull',
        'never',
        '--image',
        PROBE_IMAGE,
        '--dns-upstream',
        LOOPBACK_UPSTREAM,
        '--subject-path',
        'missing.bin',
        '--report',
        'record2.json',
        '--attestation',
        'attestation2.json',
        '--',
        'true',
      ],
      fx.ws,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /--subject-path names what the build did not leave in the workspace: 'missing\.bin'/);
    await fs.access(path.join(fx.ws, 'record2.json'));
    await assert.rejects(fs.access(path.join(fx.ws, 'attestation2.json')));
  });
});
