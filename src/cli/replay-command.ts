/**
 * `ikekm replay FILE [--config FILE] [--pcap OUT] [--keys DIR] [--step [--sa SPI] [--show-keys]]`:
 * runs a record made with `ikekm daemon --record` through
 * fresh machines (src/replay/replay.ts) and says whether every datagram out and every state came
 * out as recorded; if not, where it diverged first: the input (its number and what it was), what
 * the record has and what the replay made, datagrams decoded to their header and payloads.
 * The PSKs, which a record never holds, come from the configuration file (default: the daemon's).
 * `--pcap OUT` writes the datagrams in and out as a capture (libpcap, raw IP; the NAT-T port's
 * with their non-ESP marker), `--keys DIR` the IKE SAs' keys as Wireshark's ikev2_decryption_table
 * (DIR 0700, the file 0600): together the negotiation opens decrypted in Wireshark.
 * `--inspect URL` sends the replaying machines' inspection events to a WebSocket as
 * `ikekm daemon --inspect` does (redacted the same way).
 * `--step` stops at each input (of the IKE SA with SPI SPI only, with `--sa`): it shows the
 * input decoded, then the state of every IKE SA and Child SA after it, and waits: Enter for the
 * next, `c` to run to the end, `q` to stop. `--show-keys` adds the IKE SAs' keys of that moment:
 * an explicit export of secrets, as `--keys` is.
 * Exits 0 when the replay matches, 1 when it diverges or cannot run, 2 on a usage error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { formatDiagnostic } from '../config/config-diagnostic.js';
import { loadConfigFile } from '../config/load-config.js';
import { cryptoRegistry } from '../crypto/registry.js';
import { createDaemonInspector } from '../daemon/daemon-inspector.js';
import { IKEV2_TABLE_FILE } from '../daemon/runtime-ports.js';
import type { JournalInput } from '../engine/engine-journal.js';
import { Ikev2KeylogWriter } from '../kernel/ikev2-keylog-writer.js';
import { silentLogger } from '../log/silent-logger.js';
import { PcapWriter, type UdpDatagram } from '../record/pcap-writer.js';
import type { Datagram } from '../ports.js';
import type { RecordEntry } from '../replay/record-entry.js';
import { readRecordFile } from '../replay/record-file.js';
import { IKEKM_VERSION } from '../replay/record-journal.js';
import { summarizeMessage } from '../replay/message-summary.js';
import { replayRecord, statePathText, summarizeOnItsSa, type Divergence, type ReplayView } from '../replay/replay.js';
import { ikeSpiHex } from '../wire/index.js';
import { encodeNattIke } from '../wire/natt.js';
import { DEFAULT_CONFIG_FILE } from './daemon-command.js';

export const REPLAY_USAGE = 'usage: ikekm replay FILE [--config FILE] [--pcap OUT] [--keys DIR] [--step [--sa SPI] [--show-keys]] [--inspect ws://HOST:PORT]';

/** Where `--step` asks what next (the terminal; a test answers itself). */
export type StepPrompt = (question: string) => Promise<string>;

async function terminalPrompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

export async function replayCommand(args: readonly string[], prompt: StepPrompt = terminalPrompt): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string', default: DEFAULT_CONFIG_FILE },
        pcap: { type: 'string' },
        keys: { type: 'string' },
        step: { type: 'boolean', default: false },
        sa: { type: 'string' },
        'show-keys': { type: 'boolean', default: false },
        inspect: { type: 'string' },
      },
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
  const stepper = parsed.values.step ? new Stepper(prompt, parsed.values.sa, parsed.values['show-keys']) : undefined;
  // A replay runs faster than a WebSocket opens: every event is held until it is.
  const inspector = parsed.values.inspect === undefined ? undefined : createDaemonInspector({ url: parsed.values.inspect, maxDeferredEvents: Number.MAX_SAFE_INTEGER });
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
      ...(stepper === undefined ? {} : { onInput: stepper.before, afterInput: stepper.after }),
      ...(inspector === undefined ? {} : { inspect: inspector.inspect }),
      ...(keylog === undefined ? {} : { keylog }),
      ...(capture === undefined ? {} : { onDatagram: (direction, d, atMs) => capture.addUdp(udpOf(direction, d, atMs, nattPort)) }),
    });
    await keylog?.flush();
    // The inspector sends from idle callbacks: let the last events go before it closes.
    if (inspector !== undefined) await new Promise((resolve) => setTimeout(resolve, 500));
    if (capture !== undefined && parsed.values.pcap !== undefined) await writeFile(parsed.values.pcap, capture.toBuffer());
    if (outcome.ok) {
      process.stdout.write(`ikekm replay: ${file}: ${outcome.inputs} inputs; ${outcome.outputs} datagrams out and ${outcome.states} state changes as recorded\n`);
      return 0;
    }
    process.stdout.write(`${describeDivergence(file, outcome.divergence)}\n`);
    // Another version's machines may differ by design: say which made the record.
    if (header?.t === 'header' && header.ikekm !== IKEKM_VERSION) process.stdout.write(`  the record was made by ikekm ${header.ikekm}; this is ikekm ${IKEKM_VERSION}\n`);
    // A record begun mid-run keeps an input that also acted on the SAs it leaves out whole.
    if (header?.t === 'header' && header.midRun !== undefined) {
      process.stdout.write(
        `  the record began on a running daemon (ikekm record start) with ${header.midRun.existingIkeSas.length} IKE SA(s) it leaves out; an input that also acted on them (reload, down of their connection, stop) diverges by design\n`,
      );
    }
    return 1;
  } catch (error) {
    if (stepper?.stopped === true) {
      process.stdout.write('ikekm replay: stopped\n');
      return 0;
    }
    process.stderr.write(`ikekm replay: ${(error as Error).message}\n`);
    return 1;
  } finally {
    // An open WebSocket would keep the command from exiting.
    inspector?.stop();
  }
}

/** A datagram of the replay as the capture has it: from its sender, with the non-ESP marker on the NAT-T port. */
function udpOf(direction: 'in' | 'out', d: Datagram, atMs: number, nattPort: number): UdpDatagram {
  const natt = d.local.port === nattPort || d.remote.port === nattPort;
  return {
    src: direction === 'in' ? d.remote : d.local,
    dst: direction === 'in' ? d.local : d.remote,
    payload: natt ? encodeNattIke(d.bytes) : d.bytes,
    timestampMicros: Math.round(atMs * 1000),
  };
}

/** `--step`: the input, the states after it, and a question; `c` runs on, `q` stops. */
class Stepper {
  private running = false;
  /** `q` was answered: the replay ends at the next input. */
  stopped = false;

  constructor(
    private readonly prompt: StepPrompt,
    private readonly sa: string | undefined,
    private readonly showKeys: boolean,
  ) {}

  private concerns(entry: Extract<RecordEntry, { t: 'in' }>): boolean {
    if (this.sa === undefined) return true;
    const spi = this.sa.toLowerCase();
    const input = entry.input;
    switch (input.kind) {
      case 'datagram':
        // SPIi or SPIr, each whole (a match across the two would be no SPI of the message).
        return ikeSpiHex(input.datagram.bytes.subarray(0, 8)) === spi || ikeSpiHex(input.datagram.bytes.subarray(8, 16)) === spi;
      case 'deliver':
        return input.owner.includes(spi);
      case 'command':
        return true;
    }
  }

  readonly before = (index: number, entry: Extract<RecordEntry, { t: 'in' }>, engine: ReplayView): void => {
    if (this.stopped) throw new Error('stopped at the user\'s request');
    if (this.running || !this.concerns(entry)) return;
    // A datagram in decoded inside SK too, with the keys its IKE SA has at this step.
    const decoded = entry.input.kind === 'datagram' ? summarizeOnItsSa(engine, entry.input.datagram.bytes, 'in', cryptoRegistry) : undefined;
    process.stdout.write(`\ninput ${index} at ${new Date(entry.at).toISOString()}: ${describeInput(entry.input, decoded)}\n`);
  };

  readonly after = async (_index: number, entry: Extract<RecordEntry, { t: 'in' }>, engine: ReplayView): Promise<void> => {
    if (this.running || !this.concerns(entry)) return;
    for (const sa of engine.status()) {
      if (this.sa !== undefined && sa.spiI !== this.sa && sa.spiR !== this.sa) continue;
      process.stdout.write(`  ${sa.id} (${sa.connection ?? 'no connection yet'}, ${sa.role}): ${JSON.stringify(sa.stateValue)}\n`);
      for (const child of sa.children) process.stdout.write(`    Child SA ${child.inboundSpi}/${child.outboundSpi}: ${child.state}\n`);
      const keys = this.showKeys ? engine.ikeSaContext(sa.id)?.security?.keys : undefined;
      if (keys !== undefined) {
        const hex = (b: Buffer) => (b.length === 0 ? '-' : b.toString('hex'));
        process.stdout.write(`    keys: SK_d ${hex(keys.SK_d)} SK_ei ${hex(keys.SK_ei)} SK_er ${hex(keys.SK_er)} SK_ai ${hex(keys.SK_ai)} SK_ar ${hex(keys.SK_ar)}\n`);
      }
    }
    const answer = (await this.prompt('[Enter] next, c continue, q quit: ')).trim().toLowerCase();
    if (answer === 'c') this.running = true;
    if (answer === 'q') this.stopped = true;
  };
}

/** A datagram as a line: endpoints, exchange, request or response, Message ID, SPIs, payloads (SK contents when `decoded` has them). */
export function describeDatagram(d: Datagram, decoded?: string): string {
  return `${d.local.address}:${d.local.port} ↔ ${d.remote.address}:${d.remote.port}, ${decoded ?? summarizeMessage(d.bytes)}`;
}

function describeInput(input: JournalInput | undefined, decoded?: string): string {
  if (input === undefined) return 'before the first input';
  switch (input.kind) {
    case 'datagram':
      return `datagram in: ${describeDatagram(input.datagram, decoded)}`;
    case 'deliver':
      return `${input.event.type} for ${input.owner}`;
    case 'command':
      return `command ${input.command.name}`;
  }
}

function describeEntry(entry: RecordEntry | undefined, decoded?: string): string {
  if (entry === undefined) return '(nothing)';
  switch (entry.t) {
    case 'out':
      return `datagram out: ${describeDatagram(entry.datagram, decoded)}`;
    case 'state':
      return `${entry.actor} in ${statePathText(entry.value)}`;
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

/**
 * Where a replay diverged: the input it followed from, what the record has and what the replay
 * made (datagrams decoded, inside SK with the keys the replay had for their IKE SA), and the
 * states of that IKE SA in the record up to there.
 */
export function describeDivergence(file: string, d: Divergence): string {
  const place = d.place;
  return [
    `ikekm replay: ${file} diverges after input ${d.inputIndex} (${describeInput(d.input, place?.input)}): ${d.detail}`,
    `  recorded: ${describeEntry(d.expected, place?.expected)}`,
    `  replayed: ${describeEntry(d.got, place?.got)}`,
    ...(place?.sa === undefined ? [] : [`  IKE SA ${place.sa}, its states in the record up to there: ${place.statePath.length === 0 ? '(none yet)' : place.statePath.join(' → ')}`]),
    ...(d.withheldSecretUsedAfter === undefined
      ? []
      : [`  the record is redacted: a secret it withholds was used after input ${d.withheldSecretUsedAfter}, and the replay cannot go past it`]),
  ].join('\n');
}
