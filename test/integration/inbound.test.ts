// Issue 12, hole 7a: anything that can reach the holder could talk to the build. A peer container
// on the same --internal network connects to a listener in the build (TCP and UDP, IPv4 and
// IPv6): in block mode every attempt fails and the record shows each one as inbound; in audit
// mode they reach the listener and are recorded as what block mode would refuse. The build's
// own connection to an allowed server keeps working (its replies come in as established).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { PROBE_IMAGE, dockerText, fixture, probeRunArgs, resourcesOf, startCliUntil, verdicts } from './harness.js';
import type { EvidenceRecord } from '../../src/report/record.js';

const fx = fixture({ servers: 1, ports: [8080] });
const PORT = 7070;

interface Attempted {
  /** The peer's probe verdicts, by `tcp ADDR:PORT`. */
  peer: Map<string, string>;
  peerAddresses: { ipv4: string; ipv6: string };
  buildOutput: string;
  exitCode: number | null;
  record: EvidenceRecord;
}

/** Runs a build that listens on PORT until told to stop, and a peer that tries to reach it meanwhile. */
async function attempt(grade: 'release' | 'dev'): Promise<Attempted> {
  await fx.ready;
  const server = fx.net.servers[0];
  const stop = path.join(fx.ws, `stop-${grade}`);
  const report = path.join(fx.ws, `report-inbound-${grade}.json`);
  const script = [
    `probe serve ${PORT} &`,
    'sleep 0.5',
    `probe tcp ${server.ipv4} 8080`,
    'echo BUILD-LISTENING',
    `i=0; while [ ! -e ${stop} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`,
    `probe tcp ${server.ipv4} 8080`,
  ].join('\n');
  const cli = await startCliUntil(
    probeRunArgs(
      fx.net.name,
      '--grade',
      grade,
      '--allow',
      `${server.ipv4}:8080`,
      '--dns-upstream',
      '127.0.0.1:9',
      '--report',
      report,
      '--',
      script,
    ),
    fx.ws,
    'BUILD-LISTENING',
  );
  try {
    const holder = (await resourcesOf(cli.child.pid!)).find((n) => n.endsWith('-holder'));
    assert.ok(holder, 'no holder container found');
    const net = (field: string) => `{{(index .NetworkSettings.Networks "${fx.net.name}").${field}}}`;
    const [h4, h6] = (await dockerText(['inspect', '--format', `${net('IPAddress')} ${net('GlobalIPv6Address')}`, holder])).split(' ');
    const peer = `${fx.net.name}-peer-${grade}`;
    const probes = [`tcp ${h4}`, `udp ${h4}`, `tcp ${h6}`, `udp ${h6}`].map((p) => `probe ${p} ${PORT} 1500`);
    const output = await dockerText([
      'run',
      '--name',
      peer,
      '--network',
      fx.net.name,
      '--label',
      'buildfence-test=1',
      PROBE_IMAGE,
      'sh',
      '-c',
      `ip addr show eth0 | awk '$1 == "inet" { print $2 } $1 == "inet6" && /global/ { print $2 }'; ${probes.join('; ')}; true`,
    ]);
    await dockerText(['rm', peer]);
    const [peer4, peer6] = output.split('\n');
    await fs.writeFile(stop, '');
    const r = await cli.done;
    return {
      peer: verdicts(output),
      peerAddresses: { ipv4: peer4.replace(/\/\d+$/, ''), ipv6: peer6.replace(/\/\d+$/, '') },
      buildOutput: r.stdout,
      exitCode: r.code,
      record: JSON.parse(await fs.readFile(report, 'utf8')) as EvidenceRecord,
    };
  } finally {
    cli.child.kill('SIGTERM');
  }
}

/** The record holds an inbound row for each of the peer's four attempts, all with `verdict`. */
function assertRecorded(a: Attempted, verdict: 'refused' | 'recorded'): void {
  const rows = a.record.denied
    .filter((d) => d.inbound)
    .map((d) => `${d.protocol} ${d.address} ${d.port} ${d.enforced ? 'refused' : 'recorded'}`);
  for (const address of [a.peerAddresses.ipv4, a.peerAddresses.ipv6]) {
    for (const protocol of ['tcp', 'udp']) {
      const want = `${protocol} ${address} ${PORT} ${verdict}`;
      assert.ok(rows.includes(want), `${want} is not in the record's inbound rows: ${rows.join('; ')}`);
    }
  }
  assert.ok(
    rows.every((r) => r.endsWith(` ${verdict}`)),
    rows.join('; '),
  );
}

describe('inbound connections to the build (issue 12, hole 7a)', () => {
  it('block: a peer on the same network reaches no listener of the build, and every attempt is recorded', async () => {
    const a = await attempt('release');
    for (const [probe, verdict] of a.peer) assert.notEqual(verdict, 'ok', `${probe} reached the build:\n${a.buildOutput}`);
    assert.equal(a.peer.size, 4, [...a.peer.keys()].join(', '));
    assert.doesNotMatch(a.buildOutput, /(tcp|udp) from/, 'the listener in the build saw a peer');
    // The build's own connection, before and during the attempts, got its replies.
    assert.equal((a.buildOutput.match(/^tcp \S+:8080 ok/gm) ?? []).length, 2, a.buildOutput);
    assert.equal(a.exitCode, 0);
    assertRecorded(a, 'refused');
  });

  it('audit: the peer reaches the listener, and the record says block mode would refuse it', async () => {
    const a = await attempt('dev');
    for (const [probe, verdict] of a.peer) assert.equal(verdict, 'ok', probe);
    assertRecorded(a, 'recorded');
    assert.deepEqual(a.record.suggestedAllowlist, []);
  });
});
