import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { HolderOutput, holderCommand } from '../../src/engine/holder.js';
import { LOADED_MARK, LOADING_MARK, LOAD_SCRIPT } from '../../src/firewall/holder-script.js';

function holder(exitCode = 3) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let closed = false;
  const output = new HolderOutput({ stdout, stderr, close: () => (closed = true) }, 'img:1', async () => exitCode);
  return { output, stdout, stderr, closed: () => closed };
}

function text(stream: NodeJS.ReadableStream): Promise<string> {
  let all = '';
  stream.on('data', (d: Buffer) => (all += d.toString()));
  return new Promise((resolve) => stream.on('end', () => resolve(all)));
}

describe('holderCommand', () => {
  it('starts tcpdump on its NFLOG groups (denied, audit, mark, inbound, inbound audit, wire) into a FIFO, loads the rules between the marks, then passes the FIFO on', () => {
    const { entrypoint, cmd } = holderCommand();
    assert.deepEqual(entrypoint, ['sh', '-c']);
    const lines = cmd[0].split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    assert.equal(lines[0], `echo ${LOADING_MARK}`);
    assert.equal(lines[1], 'set -e');
    const reader = at(/^tcpdump -tt -q -n -l -e -i nflog\\:5\\,6\\,7\\,8\\,9\\,10 > \/tmp\/buildfence-reader &$/);
    const restore = at(/^ipset restore/);
    const loaded = at(new RegExp(`^echo ${LOADED_MARK}$`));
    assert.ok(at(/^command -v/) < reader && reader < restore && restore < loaded, cmd[0]);
    assert.ok(at(/^exec 3<>\/tmp\/buildfence-reader$/) < reader);
    // The build's seccomp filter program goes beside its script after the load, before the mark that lets the build start.
    const copy = at(/^cp \/usr\/lib\/buildfence\/seccomp-exec \/__buildfence-script\/seccomp-exec$/);
    assert.ok(at(/^\[ -x \/usr\/lib\/buildfence\/seccomp-exec \]/) === copy - 1 && restore < copy && copy === loaded - 1, cmd[0]);
    assert.equal(lines.at(-1), 'exec cat < /tmp/buildfence-reader 3<&-');
    // Everything the Pod's holder runs, in the same order.
    assert.deepEqual(
      lines.filter((l) => LOAD_SCRIPT.split('\n').includes(l)),
      LOAD_SCRIPT.split('\n'),
    );
  });
});

describe('HolderOutput', () => {
  it('splits the read-back from what follows, whatever the chunk boundaries', async () => {
    const h = holder();
    const after = text(h.output.reader.stdout);
    const all = `rules line 1\nrules line 2\n${LOADED_MARK}\npacket 1\npacket 2\n`;
    for (const ch of all) h.stdout.write(ch);
    h.stdout.end();
    assert.equal(await h.output.loaded, 'rules line 1\nrules line 2\n');
    assert.equal(await after, 'packet 1\npacket 2\n');
  });

  it('a marker in one chunk with packets after it', async () => {
    const h = holder();
    const after = text(h.output.reader.stdout);
    h.stdout.write(`x\n${LOADED_MARK}\np1\n`);
    h.stdout.write('p2\n');
    h.stdout.end();
    assert.equal(await h.output.loaded, 'x\n');
    assert.equal(await after, 'p1\np2\n');
  });

  it('output that ends before the marker is a failed load: the last thing the holder said, or its exit code', async () => {
    const said = holder();
    said.stderr.write('loading\nipset v7.17: Kernel error received: set type not supported\n');
    said.stdout.end('half a read-back\n');
    await assert.rejects(
      said.output.loaded,
      /Loading the fence into the holder \(image img:1\) failed: ipset v7\.17: Kernel error received: set type not supported\. The build was not started\./,
    );

    const reader = holder();
    reader.stderr.write(
      'the holder image has no ipset\ntcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on nflog:5,6, link-type NFLOG\n',
    );
    reader.stdout.end();
    await assert.rejects(reader.output.loaded, /failed: the holder image has no ipset\. The build/);

    const quiet = holder(137);
    quiet.stdout.end();
    await assert.rejects(quiet.output.loaded, /failed: exit code 137\. The build was not started\./);
  });

  it("closing the reader closes the holder's output", () => {
    const h = holder();
    h.output.reader.close();
    assert.ok(h.closed());
  });
});
