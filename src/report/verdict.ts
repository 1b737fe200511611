// Whether a run passes: shared by the action and the CLI. Pure.
import type { EvidenceRecord } from './record.js';
import { describeAttempt, failureShown, NAMES_SHOWN, shown } from './summary.js';

/** Why the step fails, or undefined when it passes. */
export function verdictOf(record: EvidenceRecord, failOnDenied: boolean): string | undefined {
  const reasons: string[] = [];
  if (record.failure !== undefined) reasons.push(failureShown(record.failure));
  if (record.exitCode !== 0) reasons.push(`The build exited with code ${record.exitCode}.`);
  if (failOnDenied && record.deniedTotal > 0) {
    const top = record.denied
      .slice(0, 3)
      .map((d) => `${describeAttempt(d)}${d.names.length ? ` (${d.names.slice(0, NAMES_SHOWN).map(shown).join(', ')})` : ''}`);
    reasons.push(
      `fail-on-denied is set and ${record.deniedTotal} attempt(s) were denied: ${top.join('; ')}${record.denied.length > 3 ? '; ...' : ''}. ` +
        'See the job summary or the report; allow what the build needs, or remove what it should not reach.',
    );
  }
  return reasons.length > 0 ? reasons.join(' ') : undefined;
}
