// The shell that loads the rendered rules in the fence's namespace and prints them back (the
// same text on Docker and in a Pod), and the holder container's whole program around it.
import { quote } from 'shell-quote';
import { copyFilterProgram, RULES_MOUNT } from '../run/build.js';
import { RULE_FILES } from './rule-files.js';

/** Printed before each part of the read-back (verify.ts splits on it). */
export const READBACK_MARK = '---buildfence-readback---';
/** Printed first, and once the read-back is complete: the load's time is between them (bench/). */
export const LOADING_MARK = '---buildfence-loading---';
export const LOADED_MARK = '---buildfence-loaded---';

// Runs inside the holder with its own sh: one restore per family (atomic), and any failure stops
// the script before the read-back, so the caller never sees a half fence as whole. The IPv4 file
// holds the filter and the nat table; --noflush keeps Docker's nat chains for 127.0.0.11 (the
// filter table of a new namespace is empty, and the read-back would show anything else in it).
// resolv.conf is shared with the build, which joins this container's network.
const TOOLS_CHECK = [
  'set -e',
  'for tool in ipset iptables-restore ip6tables-restore iptables-save ip6tables-save; do',
  '  command -v "$tool" >/dev/null 2>&1 || { echo "the holder image has no $tool" >&2; exit 127; }',
  'done',
];
const LOAD_AND_READ_BACK = [
  `ipset restore < ${RULES_MOUNT}/${RULE_FILES.ipset}`,
  `iptables-restore --noflush < ${RULES_MOUNT}/${RULE_FILES.v4}`,
  `ip6tables-restore < ${RULES_MOUNT}/${RULE_FILES.v6}`,
  `cat ${RULES_MOUNT}/${RULE_FILES.resolvConf} > /etc/resolv.conf`,
  `echo ${READBACK_MARK}; ipset save`,
  `echo ${READBACK_MARK}; iptables-save -t filter`,
  `echo ${READBACK_MARK}; ip6tables-save -t filter`,
  `echo ${READBACK_MARK}; iptables-save -t nat`,
  `echo ${READBACK_MARK}; cat /etc/resolv.conf`,
  // Last, and allowed to fail: a kernel without IPv6 nat has no such table, and then no rules were meant for it.
  `echo ${READBACK_MARK}; ip6tables-save -t nat 2>/dev/null || true`,
];
export const LOAD_SCRIPT = [...TOOLS_CHECK, ...LOAD_AND_READ_BACK].join('\n');

/** The name check's packet queue program in the holder image (holder/wire-queue.c), run by an exec. */
export const WIRE_QUEUE_PROGRAM = '/usr/lib/buildfence/wire-queue';
/** The unix socket, in the rules directory, where buildfence waits for the packet queue program. */
export const WIRE_QUEUE_SOCKET = 'wire-queue.sock';

/** Where the reader's lines wait, in the holder, until the read-back is out. */
const READER_FIFO = '/tmp/buildfence-reader';

/**
 * The holder container's command. It starts `reader` first (tcpdump takes longer to listen than
 * the load takes, and both must be done before the build starts), loads the rules and prints them
 * back between two marks (before the second it puts the build's seccomp filter program beside the
 * build's script), then passes the reader's lines on for the rest of the run. Until then
 * they wait in a FIFO, held open by fd 3 so that the reader does not block on it. The holder ends
 * when the reader does (cat sees the FIFO's end), and a failed load ends it before the marks.
 */
export function holderScript(reader: string[]): string {
  return [
    `echo ${LOADING_MARK}`,
    ...TOOLS_CHECK,
    `mkfifo ${READER_FIFO}`,
    `exec 3<>${READER_FIFO}`,
    `${quote(reader)} > ${READER_FIFO} &`,
    ...LOAD_AND_READ_BACK,
    // After the load (whose failures say more about an image that is no holder), before the mark
    // that lets the build start.
    ...copyFilterProgram(),
    `echo ${LOADED_MARK}`,
    `exec cat < ${READER_FIFO} 3<&-`,
  ].join('\n');
}
