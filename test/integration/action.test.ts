// The bundled action, run the way the runner runs it: node dist/main.js with INPUT_* variables,
// then node dist/post.js with the state main saved.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import MarkdownIt from 'markdown-it';
import { LOOPBACK_UPSTREAM, PROBE_IMAGE, ROOT, fixture, resourcesOf, verdicts } from './harness.js';
import type { EvidenceRecord } from '../../src/report/record.js';

const fx = fixture({ servers: 1 });

interface Step {
  code: number | null;
  stdout: string;
  files: { output: string; state: string; summary: string };
  pid: number;
}

function runEntry(
  entry: 'main' | 'post',
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
  onStdout?: (all: string, kill: () => void) => void,
): Promise<Step> {
  return (async () => {
    const files = {
      output: path.join(fx.ws, `output-${Math.random()}`),
      state: path.join(fx.ws, `state-${Math.random()}`),
      summary: path.join(fx.ws, `summary-${Math.random()}`),
    };
    for (const f of Object.values(files)) await fs.writeFile(f, '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GITHUB_WORKSPACE: fx.ws,
      RUNNER_TEMP: fx.ws,
      GITHUB_OUTPUT: files.output,
      GITHUB_STATE: files.state,
      GITHUB_STEP_SUMMARY: files.summary,
      ...extraEnv,
    };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', `${entry}.js`)], {
      env,
      cwd: fx.ws,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(stdout, () => child.kill('SIGKILL'));
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return {
      code,
      stdout,
      pid: child.pid!,
      files: {
        output: await fs.readFile(files.output, 'utf8'),
        state: await fs.readFile(files.state, 'utf8'),
        summary: await fs.readFile(files.summary, 'utf8'),
      },
    };
  })();
}

const common = () => ({ network: fx.net.name, pull: 'never', image: PROBE_IMAGE, shell: 'sh', 'dns-upstream': LOOPBACK_UPSTREAM });

/** Reads `name<<DELIM\nvalue\nDELIM` records that @actions/core writes to GITHUB_OUTPUT and GITHUB_STATE. */
function fileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3];
  return out;
}

describe('the action (dist/)', () => {
  it('runs a release build, sets exit-code, and the build cannot issue workflow commands', async () => {
    const s = fx.net.servers[0];
    const step = await runEntry('main', {
      ...common(),
      grade: 'release',
      allowlist: `${s.ipv4}:8080`,
      run: [`probe tcp ${s.ipv4} 8080`, `probe tcp ${s.ipv4} 9090`, 'echo "::error::forged annotation"', 'echo "::add-mask::x"'].join('\n'),
    });
    assert.equal(step.code, 0, step.stdout);
    assert.equal(fileCommands(step.files.output)['exit-code'], '0');
    const v = verdicts(step.stdout);
    assert.equal(v.get(`tcp ${s.ipv4}:8080`), 'ok');
    assert.equal(v.get(`tcp ${s.ipv4}:9090`), 'refused');
    const token = /^::stop-commands::([0-9a-f]{32})$/m.exec(step.stdout)?.[1];
    assert.ok(token, 'workflow commands are paused during the build');
    const paused = step.stdout.slice(step.stdout.indexOf(`::stop-commands::${token}`), step.stdout.indexOf(`::${token}::`));
    assert.ok(paused.includes('::error::forged annotation'), 'the forged command is inside the pause');
    assert.ok(step.stdout.indexOf(`::${token}::`) > step.stdout.indexOf('forged'), 'commands resume only after the build');

    // The evidence: outputs, one annotation per denied destination (after the pause), the summary.
    const outputs = fileCommands(step.files.output);
    assert.equal(outputs.denied, '1');
    const record = JSON.parse(await fs.readFile(outputs.report, 'utf8')) as EvidenceRecord;
    assert.equal(record.format, 'buildfence-report/2');
    assert.equal(record.denied[0].port, 9090);
    assert.match(
      step.stdout.slice(step.stdout.indexOf(`::${token}::`)),
      new RegExp(`^::warning title=buildfence::buildfence denied tcp ${s.ipv4.replaceAll('.', '\\.')}:9090, 1 time`, 'm'),
    );
    assert.match(step.files.summary, /<h2>buildfence: grade release, block mode<\/h2>/);
    assert.match(
      step.files.summary,
      new RegExp(`<code>${s.ipv4.replaceAll('.', '\\.')}</code></td><td>9090</td><td>tcp</td><td>1</td><td>refused</td>`),
    );
    assert.ok(!step.files.summary.includes('forged'), 'build output never reaches the summary');
  });

  it('a queried name cannot forge the summary: no heading, list or HTML of its own (issue 12)', async () => {
    // Labels with blank lines, a setext heading, a list item and HTML: today's summary ended its
    // table there, and GitHub rendered "all clear" as a top-level heading.
    const forged = [
      'x',
      '\\n\\nall clear: 0 attempts denied, 0 names refused\\n===\\n\\n',
      '\\n+ verified by buildfence\\n\\n',
      '</code></td></tr></table><h1>approved</h1>',
      'evil',
      'test',
    ].join('.');
    const step = await runEntry('main', {
      ...common(),
      grade: 'release',
      run: ["ns=$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf)", `probe dns "$ns" "$(printf '${forged}')"`, 'true'].join('\n'),
    });
    assert.equal(step.code, 0, step.stdout);
    const record = JSON.parse(await fs.readFile(fileCommands(step.files.output).report, 'utf8')) as EvidenceRecord;
    assert.ok(
      record.dns.some((d) => d.verdict === 'refused' && d.name.includes('\n\nall clear')),
      'the resolver saw the name as sent',
    );
    const html = new MarkdownIt({ html: true }).render(step.files.summary);
    const headings = [...html.matchAll(/<h([1-6])>(.*?)<\/h\1>/g)].map((m) => `h${m[1]} ${m[2]}`);
    assert.deepEqual(headings, ['h2 buildfence: grade release, block mode', 'h3 Names refused by the resolver'], html);
    assert.doesNotMatch(html, /<li>|<h1>|<ul>/, html);
    assert.match(step.files.summary, /<code>x\.\\010\\010all\\032clear:\\0320\\032attempts/);
  });

  it('fail-on-denied fails a passing build', async () => {
    const s = fx.net.servers[0];
    const step = await runEntry('main', { ...common(), grade: 'release', 'fail-on-denied': 'true', run: `probe tcp ${s.ipv4} 8080; true` });
    assert.equal(step.code, 1);
    assert.match(step.stdout, /^::error::fail-on-denied is set and 1 attempt\(s\) were denied: tcp /m);
    assert.equal(fileCommands(step.files.output)['exit-code'], '0');
  });

  it('fails the step with the exit code when the build fails', async () => {
    const step = await runEntry('main', { ...common(), grade: 'release', run: 'exit 5' });
    assert.equal(step.code, 1);
    assert.match(step.stdout, /^::error::The build exited with code 5\.$/m);
    assert.equal(fileCommands(step.files.output)['exit-code'], '5');
  });

  it('fails with a message naming the input when an input is wrong', async () => {
    const step = await runEntry('main', { ...common(), grade: 'release', allowlist: '10.1.2.3/8', run: 'true' });
    assert.equal(step.code, 1);
    assert.match(step.stdout, /^::error::.*'10\.1\.2\.3\/8'.*input 'allowlist'.*10\.0\.0\.0\/8/m);
  });

  it('post removes what a killed main left behind, and is quiet with no state', async () => {
    const main = await runEntry('main', { ...common(), grade: 'release', run: 'echo building; sleep 60' }, {}, (all, kill) => {
      if (all.includes('building')) kill();
    });
    assert.equal(main.code, null, 'main was killed');
    assert.notDeepEqual(await resourcesOf(main.pid), [], 'a killed main leaves its containers');
    const runId = fileCommands(main.files.state)['run-id'];
    assert.match(runId, /^[0-9a-f]{12}$/);
    const post = await runEntry('post', {}, { 'STATE_run-id': runId });
    assert.equal(post.code, 0);
    assert.deepEqual(await resourcesOf(main.pid), []);
    const empty = await runEntry('post', {});
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout, '');
  });
});
