// The translation of `docker create` options into the Engine API's create request, against what
// the docker CLI itself sends for the same options (fixtures/docker-create: cases.ts, bodies.json
// as capture.ts recorded them from the CLI).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRequest, checkFenced, type BuildRequestOptions } from '../../src/docker/build-container.js';
import type { MountInspect } from '../../src/engine/engine.js';
import { hostFile } from '../../src/engine/job-container.js';
import { createRequest, NOT_FOR_THE_BUILD, NOT_TRANSLATED, TRANSLATED, type CreateContext } from '../../src/docker/create-body.js';
import { BOOLEAN_FLAGS, VALUE_FLAGS } from '../../src/docker/options-guard.js';
import { pullQuery } from '../../src/engine/pull.js';
import { CASES, CWD, ENV, FILES, PROXIES, normalize } from './fixtures/docker-create/cases.js';

interface Captured {
  name: string;
  query?: string;
  body?: unknown;
  refused?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const captured = JSON.parse(fs.readFileSync(path.join(here, 'fixtures/docker-create/bodies.json'), 'utf8')) as {
  cli: string;
  cases: Captured[];
};

function context(api = '1.41', proxies = false): CreateContext {
  return {
    label: "Input 'docker-options'",
    cwd: CWD,
    env: ENV,
    readFile: (file) => {
      if (!(file in FILES)) throw new Error(`ENOENT: no such file, open '${file}'`);
      return FILES[file];
    },
    apiVersion: api,
    ...(proxies ? { proxies: PROXIES } : {}),
  };
}

describe(`createRequest, against docker CLI ${captured.cli}`, () => {
  for (const c of CASES) {
    const cli = captured.cases.find((x) => x.name === c.name);
    it(c.name, () => {
      assert.ok(cli, `no capture for '${c.name}': run test/unit/fixtures/docker-create/capture.ts`);
      const cmd = { options: c.args, image: c.image ?? 'img:1', command: c.command ?? ['true'] };
      if (cli.refused) {
        assert.throws(() => createRequest(cmd, context(c.api, c.proxies)), /refuses/, `the CLI said: ${cli.refused}`);
        return;
      }
      const req = createRequest(cmd, context(c.api, c.proxies));
      assert.deepEqual(normalize(req.body) ?? {}, cli.body);
      const query = new URLSearchParams([...(req.name ? [['name', req.name]] : []), ...(req.platform ? [['platform', req.platform]] : [])]);
      assert.equal(query.size > 0 ? `?${query}` : '', cli.query);
    });
  }
});

describe('createRequest, beyond the captures', () => {
  it('reads, or refuses with a reason, every flag the options guard knows; each flag it reads has a capture', () => {
    const known = [...BOOLEAN_FLAGS, ...VALUE_FLAGS].sort();
    const accounted = [...TRANSLATED, ...Object.keys(NOT_TRANSLATED), ...NOT_FOR_THE_BUILD].sort();
    assert.deepEqual(accounted, known);
    const captured = new Set(
      CASES.flatMap((c) => c.args.filter((a) => a.startsWith('-')).map((a) => a.replace(/^--?/, '').replace(/=.*$/, ''))),
    );
    const short: Record<string, string> = {
      e: 'env',
      l: 'label',
      v: 'volume',
      u: 'user',
      w: 'workdir',
      m: 'memory',
      c: 'cpu-shares',
      h: 'hostname',
      a: 'attach',
      i: 'interactive',
      it: 'tty',
      q: 'quiet',
      eD: 'env',
    };
    const seen = new Set([...captured].map((f) => short[f] ?? f));
    assert.deepEqual(
      [...TRANSLATED].filter((f) => !seen.has(f)),
      [],
    );
  });

  const cmd = (options: string[], image = 'img:1') => ({ options, image, command: [] });

  it('keeps the env files first and the flags after, so a flag wins where the engine reads the last value', () => {
    const env = createRequest(cmd(['-e', 'A=flag', '--env-file', `${CWD}/env.list`]), context()).body.Env!;
    assert.ok(env.indexOf('A=flag') > env.indexOf('A=from-file') && env.indexOf('A=flag') > env.indexOf('A=again'), env.join(' '));
  });

  it('refuses what it does not translate, naming the option and what to do, and never drops it', () => {
    assert.throws(
      () => createRequest(cmd(['--frobnicate=1']), context()),
      /refuses '--frobnicate=1': buildfence does not translate docker's '--frobnicate'.*Remove it/,
    );
    assert.throws(
      () => createRequest(cmd(['-p', '8080:80', '--cidfile', '/x']), context()),
      (err: Error) => {
        assert.match(err.message, /refuses '-p 8080:80': the build joins the holder's network namespace/);
        assert.match(err.message, /refuses '--cidfile \/x': buildfence creates the build container through the Engine API/);
        return true;
      },
    );
  });

  it('with DOCKER_CONTENT_TRUST, refuses a tagged image it cannot verify; an image by digest is what it names', () => {
    const trust = { ...context(), contentTrust: true };
    assert.throws(() => createRequest(cmd([]), trust), /refuses 'DOCKER_CONTENT_TRUST'.*name the image by digest/);
    assert.doesNotThrow(() => createRequest(cmd([], `img@sha256:${'a'.repeat(64)}`), trust));
    assert.doesNotThrow(() => createRequest(cmd(['--disable-content-trust']), trust));
  });

  it('pulls as the CLI does: the pull policy, and the query of its pull', () => {
    assert.equal(createRequest(cmd(['--pull', 'always']), context()).pull, 'always');
    assert.equal(createRequest(cmd([]), context()).pull, 'missing');
    assert.equal(createRequest(cmd(['--pull=']), context()).pull, 'never');
    const cli = captured.cases.find((c) => c.name === 'pull always, quietly') as Captured & { pulls: string[] };
    assert.deepEqual([`?${new URLSearchParams(pullQuery('img:1'))}`], cli.pulls);
    assert.deepEqual(pullQuery(`registry.test:5000/team/app@sha256:${'a'.repeat(64)}`, 'linux/arm64'), {
      fromImage: 'registry.test:5000/team/app',
      tag: `sha256:${'a'.repeat(64)}`,
      platform: 'linux/arm64',
    });
    assert.deepEqual(pullQuery('team/app'), { fromImage: 'docker.io/team/app', tag: 'latest' });
  });
});

describe('the build container, as it goes to the engine', () => {
  // No docker config.json of this machine's (its proxies would go into the body).
  const NO_CONFIG = { DOCKER_CONFIG: '/nonexistent' };
  const holder = 'buildfence-abc-holder';
  const fenced = [
    '--network',
    `container:${holder}`,
    '--cap-drop',
    'NET_ADMIN',
    '--cap-drop',
    'NET_RAW',
    '--security-opt',
    'no-new-privileges',
  ];
  const opts = (extra: Partial<BuildRequestOptions> = {}): BuildRequestOptions => ({
    label: "Input 'docker-options'",
    apiVersion: '1.41',
    ...extra,
  });

  it('is refused unless it joins the holder, drops NET_ADMIN and NET_RAW, and keeps no-new-privileges', () => {
    const body = (options: string[]) => buildRequest({ options, image: 'img:1', command: [] }, opts(), NO_CONFIG).body;
    assert.doesNotThrow(() => checkFenced(body(fenced), holder));
    assert.throws(() => checkFenced(body(fenced.slice(2)), holder), /network mode is 'default', not the holder's namespace/);
    assert.throws(() => checkFenced(body(fenced.slice(0, 4)), holder), /it keeps NET_RAW/);
    assert.throws(() => checkFenced(body([...fenced, '--cap-add', 'net_raw']), holder), /it adds CAP_NET_RAW/);
    assert.throws(() => checkFenced(body(fenced.slice(0, 6)), holder), /lacks no-new-privileges/);
  });

  it("in a job container, mounts the host's paths; a path only the job container has is refused, with what to mount", () => {
    const toHost = (file: string) => (file.startsWith('/__w/') ? { path: `/home/runner/work/${file.slice(5)}` } : undefined);
    const req = buildRequest(
      {
        options: ['-v', '/__w/repo/repo:/__w/repo/repo', '-v', 'cache:/cache', '--mount', 'type=bind,src=/__w/_temp/x,dst=/x,readonly'],
        image: 'img:1',
        command: [],
      },
      opts({ toHost, where: 'job container j' }),
      NO_CONFIG,
    );
    assert.deepEqual(req.body.HostConfig.Binds, ['/home/runner/work/repo/repo:/__w/repo/repo', 'cache:/cache']);
    assert.deepEqual(req.body.HostConfig.Mounts?.[0], { Type: 'bind', Source: '/home/runner/work/_temp/x', Target: '/x', ReadOnly: true });
    assert.throws(
      () =>
        buildRequest(
          { options: ['-v', '/opt/data:/data'], image: 'img:1', command: [] },
          opts({ toHost, where: 'job container j' }),
          NO_CONFIG,
        ),
      /Input 'docker-options': '\/opt\/data:\/data' mounts \/opt\/data, which is not on any mount of job container j.*Mount a directory the job container has from the host/,
    );
  });

  it("in a job container, a source that is an engine's socket or state on the host is refused; a volume's files are the volume's", () => {
    const mounts: MountInspect[] = [
      { Type: 'bind', Source: '/home/runner/work', Destination: '/__w' },
      { Type: 'bind', Source: '/var/run', Destination: '/host-run' },
      { Type: 'bind', Source: '/var/lib', Destination: '/host-lib' },
      { Type: 'volume', Name: 'cache', Source: '/var/lib/docker/volumes/cache/_data', Destination: '/cache', Driver: 'local' },
    ];
    const job = opts({ toHost: (file) => hostFile(mounts, file), where: 'job container j' });
    const request = (options: string[]) => buildRequest({ options, image: 'img:1', command: [] }, job, NO_CONFIG);
    const refusals: Array<[string[], RegExp]> = [
      [
        ['-v', '/host-run/docker:/x'],
        /'\/host-run\/docker:\/x' mounts \/host-run\/docker, which is \/var\/run\/docker on the engine's host: .*Docker's run state/,
      ],
      [['-v', '/host-run:/x:ro'], /which is \/var\/run on the engine's host: \/var\/run holds \/run\/docker\.sock/],
      [
        ['--mount', 'type=bind,src=/host-lib/docker/overlay2,dst=/x'],
        /which is \/var\/lib\/docker\/overlay2 on the engine's host: .*inside Docker's images/,
      ],
      [['-v', '/host-lib/containerd:/x'], /containerd's images and snapshots/],
    ];
    for (const [options, message] of refusals) {
      assert.throws(
        () => request(options),
        (err: Error) => message.test(err.message) && /Remove it/.test(err.message),
        options.join(' '),
      );
    }
    const ok = request(['-v', '/cache/npm:/root/.npm', '-v', '/host-lib/apt:/apt']);
    assert.deepEqual(ok.body.HostConfig.Binds, ['/var/lib/docker/volumes/cache/_data/npm:/root/.npm', '/var/lib/apt:/apt']);
    assert.deepEqual(ok.throughVolumes, ['cache']);
  });
});
