// The shell programs of a rendered Pod: the holder init container's, the fence sidecar's, and
// the build's wait for its sidecars. Pure text.
import type { V1EnvVar } from '@kubernetes/client-node';
import { quote } from 'shell-quote';
import { COUNTERS_LINE_SCRIPT } from '../firewall/counters.js';
import { LOAD_SCRIPT } from '../firewall/holder-script.js';
import { RULE_FILES } from '../firewall/rule-files.js';
import { NFLOG_GROUP } from '../firewall/ruleset.js';
import { readerCommand, RECORDED_GROUPS } from '../report/nflog.js';
import { copyFilterProgram, RULES_MOUNT, SCRIPT_NAME } from '../run/build.js';
import { joinedInShell } from './env-pieces.js';
import { failedFile, NOT_READY_EXIT, POD_PATHS, RESOLVER_UID } from './pod-layout.js';

/**
 * How long the build waits for the fence and the resolver, in tenths of a second. A sidecar that
 * fails says so at once (its `.failed` file), so this bounds only one that hangs or was killed.
 */
const READY_WAIT_TENTHS = 600;

/** The env pieces the holder writes its files from: each rule file, and the script (base64). */
export type HolderEnv = Record<keyof typeof RULE_FILES | 'script', V1EnvVar[]>;

/**
 * The holder init container: writes the rule files and the script from its env, puts the build's
 * seccomp filter program beside the script, makes the
 * resolver's FIFOs, loads the rules and writes the read-back (init containers' logs may vanish,
 * a file does not).
 */
export function holderInitScript(env: HolderEnv): string {
  const files = (Object.keys(RULE_FILES) as Array<keyof typeof RULE_FILES>).map(
    (k) => `printf %s ${joinedInShell(env[k])} > ${RULES_MOUNT}/${RULE_FILES[k]}`,
  );
  return [
    'set -e',
    ...files,
    `printf %s ${joinedInShell(env.script)} | base64 -d > ${POD_PATHS.holderScript}/${SCRIPT_NAME}`,
    `chmod 0644 ${POD_PATHS.holderScript}/${SCRIPT_NAME}`,
    // The resolver's user owns the FIFOs; the fence's root (without DAC_OVERRIDE) opens them as group 0.
    `mkfifo -m 0660 ${POD_PATHS.feed}/in ${POD_PATHS.feed}/out ${POD_PATHS.feed}/wire`,
    `chown ${RESOLVER_UID}:0 ${POD_PATHS.feed}/in ${POD_PATHS.feed}/out ${POD_PATHS.feed}/wire`,
    `chmod 0777 ${POD_PATHS.ready}`,
    `(\n${LOAD_SCRIPT}\n) > ${POD_PATHS.readback}`,
    // After the load, whose check of the tools speaks first for an image that is no holder.
    ...copyFilterProgram(),
  ].join('\n');
}

/**
 * The fence sidecar: the denied-attempt reader, whose log is the evidence, then the `ipset -` the
 * resolver feeds through the FIFOs. Beside them it prints the kernel's counters every second and
 * once more when it is stopped: the runtime takes the first line printed after the build ended.
 */
export function fenceScript(): string {
  const reader = quote(readerCommand(RECORDED_GROUPS));
  const wire = quote(readerCommand([NFLOG_GROUP.wire]));
  // tcpdump drops to its own user before it says it listens, and this root holds no CAP_KILL,
  // so not even `kill -0` reaches it then (issue 7): its end is told by the file its subshell writes
  // (read once it holds the status: the shell creates the file before it writes to it).
  const started = (name: string, what: string) => [
    `until grep -q 'listening on' /tmp/${name}.err 2>/dev/null; do`,
    `  [ ! -s /tmp/${name}.exit ] || fail "${what} ended (exit $(cat /tmp/${name}.exit)) before it listened: $(tail -n 3 /tmp/${name}.err)"`,
    '  sleep 0.1',
    'done',
  ];
  return [
    // A restarted sidecar (native sidecars restart) starts without its old failure.
    `rm -f ${failedFile('fence')}`,
    `fail() { printf '%s\\n' "$1" > ${failedFile('fence')}; echo "buildfence fence: $1" >&2; exit 1; }`,
    `( ${reader} 2>/tmp/tcpdump.err; echo $? > /tmp/tcpdump.exit ) &`,
    // The name checker's lines (each checked connection's first packet) go to the resolver's
    // sidecar through a FIFO, opened read-write so that neither side waits for the other.
    `( ${wire} 2>/tmp/wire.err 1<>${POD_PATHS.feed}/wire; echo $? > /tmp/wire.exit ) &`,
    ...started('tcpdump', 'tcpdump'),
    ...started('wire', "the name checker's tcpdump"),
    `touch ${POD_PATHS.ready}/fence`,
    `counters() { ${COUNTERS_LINE_SCRIPT}; }`,
    "trap 'counters; exit 0' TERM",
    '( while :; do counters; sleep 1; done ) &',
    `ipset - < ${POD_PATHS.feed}/in 2> ${POD_PATHS.feed}/out > /dev/null &`,
    'wait $!',
  ].join('\n');
}

/**
 * Run by the build container before its command ("$@"): waits for the ready files (a native
 * sidecar may have failed once and been restarted), and ends at once with a sidecar's own
 * reason when one reports a failure.
 */
export function waitReadyScript(): string {
  const r = POD_PATHS.ready;
  return [
    `i=0; while [ ! -e ${r}/fence ] || [ ! -e ${r}/resolver ]; do`,
    '  for s in fence resolver; do',
    `    [ ! -e ${r}/$s.failed ] || { echo "buildfence: the $s failed, so the build was not run: $(cat ${r}/$s.failed)" >&2; exit ${NOT_READY_EXIT}; }`,
    '  done',
    `  i=$((i+1)); [ $i -le ${READY_WAIT_TENTHS} ] || {`,
    `    echo "buildfence: the$([ -e ${r}/fence ] || echo ' fence')$([ -e ${r}/fence ] || [ -e ${r}/resolver ] || echo ' and the')$([ -e ${r}/resolver ] || echo ' resolver') did not get ready in ${READY_WAIT_TENTHS / 10} s, so the build was not run" >&2`,
    `    exit ${NOT_READY_EXIT}`,
    '  }',
    '  sleep 0.1',
    'done',
    'exec "$@"',
  ].join('\n');
}
