/**
 * `ikekm record redact IN OUT`: a copy of a record (`ikekm daemon --record`) that can be shared:
 * the random draws that were secrets (DH private values, COOKIE secrets) withheld
 * (src/replay/redact-record.ts). `ikekm replay OUT` then follows the record up to the first use
 * of a withheld secret and says so there. OUT is written 0600 all the same.
 */
import { writeFile } from 'node:fs/promises';
import { encodeRecordLine } from '../replay/record-entry.js';
import { readRecordFile } from '../replay/record-file.js';
import { redactRecord } from '../replay/redact-record.js';

export const RECORD_USAGE = 'usage: ikekm record redact IN OUT';

export async function recordCommand(args: readonly string[]): Promise<number> {
  const [sub, input, output, ...extra] = args;
  if (sub !== 'redact' || input === undefined || output === undefined || extra.length > 0) {
    process.stderr.write(`${RECORD_USAGE}\n`);
    return 2;
  }
  try {
    const { entries, kept, withheld } = redactRecord(await readRecordFile(input));
    await writeFile(output, entries.map((e) => `${encodeRecordLine(e)}\n`).join(''), { mode: 0o600, flag: 'w' });
    process.stdout.write(
      `ikekm record: ${output}: ${withheld} secret random draws withheld (DH private values, COOKIE secrets), ${kept} kept (sent in datagrams, or too short to be keys); it replays up to the first use of a withheld one\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`ikekm record: ${(error as Error).message}\n`);
    return 1;
  }
}
