/**
 * `ikekm record`:
 *
 * - `record start FILE [--connection NAME] [--socket PATH]`: the running daemon records the
 *   negotiations that begin from now on to FILE (src/daemon/mid-run-record.ts), in the format of
 *   `ikekm daemon --record`, for `ikekm replay`. The SAs that exist already are left out, with
 *   every SA rekeyed from them: a replay starts from an empty engine and has not their keys.
 *   With `--connection`, only that connection's new SAs. The daemon creates FILE 0600; it holds
 *   the DH private values and nonces of what it records.
 * - `record stop [--socket PATH]`: ends it, and says how many entries and bytes it holds.
 * - `record redact IN OUT`: a copy of a record that can be shared: the random draws that were
 *   secrets (DH private values, COOKIE secrets) withheld (src/replay/redact-record.ts).
 *   `ikekm replay OUT` then follows the record up to the first use of a withheld secret and says
 *   so there. OUT is written 0600 all the same.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DAEMON_SETTINGS } from '../config/daemon-settings.js';
import { controlRequest } from '../control/control-client.js';
import { encodeRecordLine } from '../replay/record-entry.js';
import { readRecordFile } from '../replay/record-file.js';
import { redactRecord } from '../replay/redact-record.js';

export const RECORD_USAGE = `usage: ikekm record start FILE [--connection NAME] [--socket PATH]
       ikekm record stop [--socket PATH]
       ikekm record redact IN OUT

start: the running daemon records the negotiations that begin from now on to FILE (created 0600
by the daemon), for ikekm replay. It holds key material (DH private values, nonces): treat it as
a key. The SAs that exist already are not in it, nor the SAs rekeyed from them (a replay starts
from an empty engine). What also acted on them (reload, ikekm down of a connection with an old SA,
the daemon stopping) is kept whole and shows in the replay as a divergence at that input.
--connection NAME keeps only that connection's new SAs. One record at a time.
stop: ends it and says what it holds.`;

export async function recordCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'start':
    case 'stop':
      return control(sub, rest);
    case 'redact':
      return redact(rest);
    default:
      process.stderr.write(`${RECORD_USAGE}\n`);
      return 2;
  }
}

async function control(sub: 'start' | 'stop', args: readonly string[]): Promise<number> {
  let values: { socket?: string; connection?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: { socket: { type: 'string', default: DEFAULT_DAEMON_SETTINGS.control }, connection: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    }));
    if (sub === 'stop' && values.connection !== undefined) throw new Error('--connection goes with start');
  } catch (error) {
    process.stderr.write(`ikekm record ${sub}: ${(error as Error).message}\n${RECORD_USAGE}\n`);
    return 2;
  }
  if (positionals.length !== (sub === 'start' ? 1 : 0)) {
    process.stderr.write(`${RECORD_USAGE}\n`);
    return 2;
  }
  const socket = values.socket ?? DEFAULT_DAEMON_SETTINGS.control;
  try {
    if (sub === 'start') {
      // The daemon's working directory is not the user's: it gets the absolute path.
      const file = resolve(positionals[0]!);
      const started = (await controlRequest(socket, { cmd: 'record-start', file, ...(values.connection === undefined ? {} : { connection: values.connection }) })) as {
        file: string;
        existingIkeSas: number;
        connection?: string;
      };
      process.stdout.write(
        `ikekm record: recording ${started.connection === undefined ? 'the negotiations' : `${started.connection}'s negotiations`} that begin from now on to ${started.file} (0600): ` +
          `it holds key material (DH private values, nonces) of what it records, treat it as a key; ` +
          `the ${started.existingIkeSas} IKE SA(s) that exist now are left out, with the SAs rekeyed from them. ikekm record stop ends it.\n`,
      );
      return 0;
    }
    const summary = (await controlRequest(socket, { cmd: 'record-stop' })) as { file: string; entries: number; bytes: number; keptGroups: number; leftOutGroups: number; stopped?: string };
    process.stdout.write(
      `ikekm record: ${summary.file}: ${summary.entries} entries, ${summary.bytes} bytes (${summary.keptGroups} inputs kept with what followed from them, ${summary.leftOutGroups} left out as they concerned SAs older than the record)\n`,
    );
    if (summary.stopped !== undefined) process.stdout.write(`ikekm record: it ended early: ${summary.stopped}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`ikekm record ${sub}: ${(error as Error).message}\n`);
    return 1;
  }
}

async function redact(args: readonly string[]): Promise<number> {
  const [input, output, ...extra] = args;
  if (input === undefined || output === undefined || extra.length > 0) {
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
