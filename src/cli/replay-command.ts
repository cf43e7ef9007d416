/**
 * `ikekm replay FILE [--config FILE] [--pcap OUT] [--keys DIR]`: runs a record made with `ikekm daemon --record` through
 * fresh machines (src/replay/replay.ts) and says whether every datagram out and every state came
 * out as recorded; if not, where it diverged first: the input (its number and what it was), what
 * the record has and what the replay made, datagrams decoded to their header and payloads.
 * The PSKs, which a record never holds, come from the configuration file (default: the daemon's).
 * `--pcap OUT` writes the datagrams in and out as a capture (libpcap, raw IP; the NAT-T port's
 * with their non-ESP marker), `--keys DIR` the IKE SAs' keys as Wireshark's ikev2_decryption_table
 * (DIR 0700, the file 0600): together the negotiation opens decrypted in Wireshark.
 * Exits 0 when the replay matches, 1 when it diverges or cannot run, 2 on a usage error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDiagnostic } from '../config/config-diagnostic.js';
import { loadConfigFile } from '../config/load-config.js';
import { cryptoRegistry } from '../crypto/registry.js';
import { IKEV2_TABLE_FILE } from '../daemon/runtime-ports.js';
import type { JournalInput } from '../engine/engine-journal.js';
import { Ikev2KeylogWriter } from '../kernel/ikev2-keylog-writer.js';
import { silentLogger } from '../log/silent-logger.js';
import { PcapWriter, type UdpDatagram } from '../record/pcap-writer.js';
import type { Datagram } from '../ports.js';
import type { RecordEntry } from '../replay/record-entry.js';
import { readRecordFile } from '../replay/record-file.js';
import { replayRecord, type Divergence } from '../replay/replay.js';
import { ExchangeType, decodeMessage, ikeSpiHex } from '../wire/index.js';
import { NON_ESP_MARKER } from '../wire/natt.js';
import { DEFAULT_CONFIG_FILE } from './daemon-command.js';

export const REPLAY_USAGE = 'usage: ikekm replay FILE [--config FILE] [--pcap OUT] [--keys DIR]';

export async function replayCommand(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { config: { type: 'string', default: DEFAULT_CONFIG_FILE }, pcap: { type: 'string' }, keys: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
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
    const header = entries[0];
    const nattPort = header?.t === 'header' ? header.config.settings.nattPort : loaded.value.engine.settings.nattPort;
    const capture = parsed.values.pcap === undefined ? undefined : new PcapWriter();
    let keylog: Ikev2KeylogWriter | undefined;
    if (parsed.values.keys !== undefined) {
      await mkdir(parsed.values.keys, { recursive: true, mode: 0o700 });
      keylog = new Ikev2KeylogWriter({ path: join(parsed.values.keys, IKEV2_TABLE_FILE), log: silentLogger });
    }
    const outcome = await replayRecord(entries, {
      registry: cryptoRegistry,
      secrets: loaded.value.engine,
      ...(keylog === undefined ? {} : { keylog }),
      ...(capture === undefined ? {} : { onDatagram: (direction, d, atMs) => capture.addUdp(udpOf(direction, d, atMs, nattPort)) }),
    });
    await keylog?.flush();
    if (capture !== undefined && parsed.values.pcap !== undefined) await writeFile(parsed.values.pcap, capture.toBuffer());
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

/** A datagram of the replay as the capture has it: from its sender, with the non-ESP marker on the NAT-T port. */
function udpOf(direction: 'in' | 'out', d: Datagram, atMs: number, nattPort: number): UdpDatagram {
  const natt = d.local.port === nattPort || d.remote.port === nattPort;
  return {
    src: direction === 'in' ? d.remote : d.local,
    dst: direction === 'in' ? d.local : d.remote,
    payload: natt ? Buffer.concat([NON_ESP_MARKER, d.bytes]) : d.bytes,
    timestampMicros: Math.round(atMs * 1000),
  };
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
    ...(d.withheldSecretUsedAfter === undefined
      ? []
      : [`  the record is redacted: a secret it withholds was used after input ${d.withheldSecretUsedAfter}, and the replay cannot go past it`]),
  ].join('\n');
}
