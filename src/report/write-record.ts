// Where a run's record goes: a JSON file (the action's `report` output, the CLI's --report).
import * as fs from 'node:fs/promises';
import type { EvidenceRecord } from './record.js';

export async function writeRecord(record: EvidenceRecord, file: string): Promise<void> {
  await fs.writeFile(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
}
