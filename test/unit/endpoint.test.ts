import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { contextEngine } from '../../src/engine/endpoint.js';

const hash = (name: string) => createHash('sha256').update(name).digest('hex');

function files(map: Record<string, string>, dirs: string[] = []) {
  return { read: (f: string) => map[f], exists: (f: string) => dirs.includes(f) || f in map };
}

describe('contextEngine', () => {
  const meta = (name: string, host: string, skip = false) =>
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: skip } } });

  it('leaves DOCKER_HOST alone, and the default context', () => {
    assert.equal(contextEngine({ DOCKER_HOST: 'unix:///x.sock', DOCKER_CONTEXT: 'remote', HOME: '/h' }, files({})), undefined);
    assert.equal(contextEngine({ HOME: '/h' }, files({})), undefined);
    assert.equal(contextEngine({ HOME: '/h', DOCKER_CONTEXT: 'default' }, files({})), undefined);
    assert.equal(contextEngine({ HOME: '/h' }, files({ '/h/.docker/config.json': '{"auths":{}}' })), undefined);
  });

  it("turns the selected context (DOCKER_CONTEXT, then config.json's currentContext) into DOCKER_HOST", () => {
    const fs = files({
      [`/h/.docker/contexts/meta/${hash('rootless')}/meta.json`]: meta('rootless', 'unix:///run/user/1000/docker.sock'),
      [`/h/.docker/contexts/meta/${hash('other')}/meta.json`]: meta('other', 'tcp://10.0.0.1:2375'),
      '/h/.docker/config.json': '{"currentContext":"rootless"}',
    });
    assert.deepEqual(contextEngine({ HOME: '/h' }, fs), { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' });
    assert.deepEqual(contextEngine({ HOME: '/h', DOCKER_CONTEXT: 'other' }, fs), { DOCKER_HOST: 'tcp://10.0.0.1:2375' });
  });

  it("uses DOCKER_CONFIG, and the context's TLS material with verification unless the context skips it", () => {
    const tls = `/c/contexts/tls/${hash('secure')}/docker`;
    const fs = files({ [`/c/contexts/meta/${hash('secure')}/meta.json`]: meta('secure', 'tcp://h:2376') }, [tls]);
    assert.deepEqual(contextEngine({ DOCKER_CONFIG: '/c', DOCKER_CONTEXT: 'secure' }, fs), {
      DOCKER_HOST: 'tcp://h:2376',
      DOCKER_CERT_PATH: tls,
      DOCKER_TLS_VERIFY: '1',
    });
    const skip = files({ [`/c/contexts/meta/${hash('secure')}/meta.json`]: meta('secure', 'tcp://h:2376', true) }, [tls]);
    assert.deepEqual(contextEngine({ DOCKER_CONFIG: '/c', DOCKER_CONTEXT: 'secure' }, skip), {
      DOCKER_HOST: 'tcp://h:2376',
      DOCKER_CERT_PATH: tls,
    });
  });

  it('refuses a selected context it cannot read, naming the fix', () => {
    assert.throws(
      () => contextEngine({ HOME: '/h', DOCKER_CONTEXT: 'gone' }, files({})),
      /Docker context 'gone' is selected, but .*meta\.json names no engine\. .*set DOCKER_HOST/,
    );
    assert.throws(
      () => contextEngine({ HOME: '/h' }, files({ '/h/.docker/config.json': '{' })),
      /config\.json is not valid JSON.*set DOCKER_HOST/,
    );
  });
});
