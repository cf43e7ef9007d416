/**
 * `ikekm replay FILE [--config FILE]`: runs a record made with `ikekm daemon --record` through
 * fresh machines (src/replay/replay.ts) and says whether every datagram out and every state came
 * out as recorded; if not, where it diverged first: the input (its number and what it was), what
 * the record has and what the replay made, datagrams decoded to their header and payloads.
 * The PSKs, which a record never holds, come from the configuration file (default: the daemon's).
 * Exits 0 when the replay matches, 1 when it diverges or cannot run, 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { formatDiagnostic } from '../config/config-diagnostic.js';
import { loadConfigFile } from '../config/load-config.js';
import { cryptoRegistry } from '../crypto/registry.js';
import type { JournalInput } from '../engine/engine-journal.js';
import type { Datagram } from '../ports.js';
import type { RecordEntry } from '../replay/record-entry.js';
import { readRecordFile } from '../replay/record-file.js';
import { replayRecord, type Divergence } from '../replay/replay.js';
import { ExchangeType, decodeMessage, ikeSpiHex } from '../wire/index.js';
import { DEFAULT_CONFIG_FILE } from './daemon-command.js';

export const REPLAY_USAGE = 'usage: ikekm replay FILE [--config FILE]';

export async function replayCommand(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { config: { type: 'string', default: DEFAULT_CONFIG_FILE } }, strict: true, allowPositionals: true });
  } catch (error) {
    process.stderr.write(`ikekm replay: ${(error as Error).message}\n${REPLAY_USAGE}\n`);
    return 2;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) {
    process.stderr.write(`${REPLAY_USAGE}\n`);
    return 2;
  }
  const loaded = await loadConfigFile(parsed.values.config);
  if (!loaded.ok) {
    process.stderr.write(`ikekm replay: ${parsed.values.config} is not a valid configuration (the PSKs come from it):\n${loaded.error.map(formatDiagnostic).join('\n')}\n`);
    return 1;
  }
  try {
    const entries = await readRecordFile(file);
    const outcome = await replayRecord(entries, { registry: cryptoRegistry, secrets: loaded.value.engine });
    if (outcome.ok) {
      process.stdout.write(`ikekm replay: ${file}: ${outcome.inputs} inputs; ${outcome.outputs} datagrams out and ${outcome.states} state changes as recorded\n`);
      return 0;
    }
    process.stdout.write(`${describeDivergence(file, outcome.divergence)}\n`);
    return 1;
  } catch (error) {
    process.stderr.write(`ikekm replay: ${(error as Error).message}\n`);
    return 1;
  }
}

const EXCHANGES = new Map<number, string>(Object.entries(ExchangeType).map(([name, value]) => [value as number, name]));

/** A datagram as a line: endpoints, exchange, request or response, Message ID, SPIs, payload types. */
export function describeDatagram(d: Datagram): string {
  const where = `${d.local.address}:${d.local.port} ↔ ${d.remote.address}:${d.remote.port}`;
  const m = decodeMessage(d.bytes);
  if (!m.ok) return `${where}, ${d.bytes.length} octets that do not decode (${m.error.message})`;
  const h = m.value.header;
  const exchange = EXCHANGES.get(h.exchangeType) ?? `exchange ${h.exchangeType}`;
  const payloads = m.value.payloads.map((p) => p.type).join(',');
  return `${where}, ${exchange} ${h.flags.response ? 'response' : 'request'}, Message ID ${h.messageId}, SPIs ${ikeSpiHex(h.spiI)}/${ikeSpiHex(h.spiR)}, payloads [${payloads}], ${d.bytes.length} octets`;
}

function describeInput(input: JournalInput | undefined): string {
  if (input === undefined) return 'before the first input';
  switch (input.kind) {
    case 'datagram':
      return `datagram in: ${describeDatagram(input.datagram)}`;
    case 'deliver':
      return `${input.event.type} for ${input.owner}`;
    case 'command':
      return `command ${input.command.name}`;
  }
}

function describeEntry(entry: RecordEntry | undefined): string {
  if (entry === undefined) return '(nothing)';
  switch (entry.t) {
    case 'out':
      return `datagram out: ${describeDatagram(entry.datagram)}`;
    case 'state':
      return `${entry.actor} in ${JSON.stringify(entry.value)}`;
    case 'draw':
      return `a random draw of ${entry.bytes.length} octets`;
    case 'load':
      return `a load reading (${entry.value})`;
    case 'in':
      return `input: ${describeInput(entry.input)}`;
    case 'header':
      return 'the header';
  }
}

export function describeDivergence(file: string, d: Divergence): string {
  return [
    `ikekm replay: ${file} diverges after input ${d.inputIndex} (${describeInput(d.input)}): ${d.detail}`,
    `  recorded: ${describeEntry(d.expected)}`,
    `  replayed: ${describeEntry(d.got)}`,
  ].join('\n');
}
