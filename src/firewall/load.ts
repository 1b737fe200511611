// Loading the rendered rules into the holder and reading them back: the script that does both,
// and the check of what it printed.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { quote } from 'shell-quote';
import { lastLine } from '../docker/cli.js';
import { RULES_MOUNT } from '../docker/args.js';
import { compareRules, type SavedRules } from './verify.js';
import type { Ruleset } from './ruleset.js';

export const RULE_FILES = { ipset: 'rules.ipset', v4: 'rules.v4', v6: 'rules.v6', resolvConf: 'resolv.conf' } as const;

const MARK = '---buildfence-readback---';
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
  `echo ${MARK}; ipset save`,
  `echo ${MARK}; iptables-save -t filter`,
  `echo ${MARK}; ip6tables-save -t filter`,
  `echo ${MARK}; iptables-save -t nat`,
  `echo ${MARK}; cat /etc/resolv.conf`,
];
export const LOAD_SCRIPT = [...TOOLS_CHECK, ...LOAD_AND_READ_BACK].join('\n');

/** Where the reader's lines wait, in the holder, until the read-back is out. */
const READER_FIFO = '/tmp/buildfence-reader';

/**
 * The holder container's command. It starts `reader` first (tcpdump takes longer to listen than
 * the load takes, and both must be done before the build starts), loads the rules and prints them
 * back between two marks, then passes the reader's lines on for the rest of the run. Until then
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
    `echo ${LOADED_MARK}`,
    `exec cat < ${READER_FIFO} 3<&-`,
  ].join('\n');
}

export class FenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FenceError';
  }
}

export async function writeRuleFiles(dir: string, rules: Ruleset): Promise<void> {
  const files: Record<keyof typeof RULE_FILES, string> = {
    ipset: rules.ipset,
    v4: rules.v4 + rules.nat4,
    v6: rules.v6,
    resolvConf: rules.resolvConf,
  };
  await Promise.all(
    (Object.keys(files) as Array<keyof typeof RULE_FILES>).map((k) =>
      fs.writeFile(path.join(dir, RULE_FILES[k]), files[k], { mode: 0o644 }),
    ),
  );
}

/** Why the load ended before its read-back: what the holder said last, or its exit code. */
export function loadFailure(holderImage: string, stderr: string, exitCode: number | undefined): FenceError {
  // The reader started beside the load and may have spoken since: its lines are not the reason.
  const said = lastLine(
    stderr
      .split('\n')
      .filter((l) => !/^(tcpdump: |listening on )/.test(l))
      .join('\n'),
  );
  return new FenceError(
    `Loading the fence into the holder (image ${holderImage}) failed: ${said || `exit code ${exitCode ?? 'unknown'}`}. ` +
      'The build was not started. The holder image needs sh, ipset, iptables and ip6tables (with their -save and -restore); ' +
      "buildfence's own image has them (scripts/build-holder-image).",
  );
}

/** Throws unless what the kernel holds (the read-back) equals what was rendered. */
export function verifyReadback(rules: Ruleset, readback: string): void {
  const diffs = compareRules(rules, parseReadback(readback));
  if (diffs.length > 0) {
    throw new FenceError(
      `The rules read back from the holder differ from the rules loaded, so the build was not started:\n  ${diffs.slice(0, 20).join('\n  ')}` +
        (diffs.length > 20 ? `\n  ... and ${diffs.length - 20} more` : ''),
    );
  }
}

export function parseReadback(stdout: string): SavedRules {
  const parts = stdout.split(`${MARK}\n`);
  if (parts.length !== 6) throw new FenceError('The holder did not print its rules back; the build was not started.');
  return { ipset: parts[1], v4: parts[2], v6: parts[3], nat4: parts[4], resolvConf: parts[5] };
}
