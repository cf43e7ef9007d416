/**
 * The inspector page's view of a record (src/replay/record-entry.ts): one step per input, each
 * with what it was, the datagrams it sent, and the state values it left. A step is plain JSON, the
 * same whether it comes from a record file or from a live daemon's journal stream.
 *
 * What a step never carries: random draws and load readings (a draw is a DH private value or a
 * nonce; the page has no use for them), and no datagram's protected contents: a message is
 * shown by its header and its cleartext payload types, as a capture without keys shows it.
 */
import type { JournalInput } from '../engine/engine-journal.js';
import type { Datagram } from '../ports.js';
import type { RecordEntry } from '../replay/record-entry.js';
import { ByteReader, decodeMessage, exchangeTypeName, ikeSpiHex, payloadTypeName, readHeader, type IkeHeader } from '../wire/index.js';

/** One datagram, in or out, as the page draws it. */
export interface MessageView {
  readonly direction: 'in' | 'out';
  readonly local: string;
  readonly remote: string;
  /** Exchange name (IKE_AUTH…), or `exchange N` for one we do not name. */
  readonly exchange: string;
  readonly response: boolean;
  /** The I flag: sent by the original initiator of the IKE SA (RFC 7296 3.1). */
  readonly initiator: boolean;
  readonly messageId: number;
  readonly spiI: string;
  readonly spiR: string;
  /** Payload types in order; a protected message shows only SK (or SKF). */
  readonly payloads: readonly string[];
  readonly octets: number;
  /** The same octets went out before (a retransmission, RFC 7296 2.1), or came in before. */
  readonly repeat: boolean;
  /** Why it is not shown decoded, when it does not decode. */
  readonly undecodable?: string;
}

export interface StepInput {
  readonly kind: JournalInput['kind'];
  /** One line for the step list: `IKE_AUTH request #1 in`, `RETRANSMIT for ike-…`, `command initiate lab`. */
  readonly text: string;
  /** The actor a timer's event or an effect's answer was for (`ike-<SPI>`, `ike-<SPI>/child-<SPI>`). */
  readonly owner?: string;
  readonly message?: MessageView;
}

export interface InspectorStep {
  /** Its place among the inputs, from 0. */
  readonly index: number;
  /** The engine's clock when the input came, in ms since the epoch. */
  readonly at: number;
  readonly input: StepInput;
  readonly outputs: readonly MessageView[];
  /** Each actor's state value after this step, in the order they changed. */
  readonly states: readonly { readonly actor: string; readonly value: unknown }[];
}

/**
 * Turns record entries into steps as they come: `push` each entry; a step is complete when the
 * next input begins (or `flush` is called, as a live source does once the daemon has gone quiet).
 */
export class InspectorStepBuilder {
  private current: { index: number; at: number; input: StepInput; outputs: MessageView[]; states: { actor: string; value: unknown }[] } | undefined;
  private nextIndex = 0;
  private lastAt: number | undefined;
  /** Datagrams seen, by direction and octets: a repeat is marked. Bounded (a live daemon runs long). */
  private readonly seen = new Set<string>();
  private static readonly MAX_SEEN = 100_000;

  constructor(private readonly emit: (step: InspectorStep) => void) {}

  push(entry: RecordEntry): void {
    switch (entry.t) {
      case 'header':
      case 'draw':
      case 'load':
        return;
      case 'in':
        this.flush();
        this.lastAt = entry.at;
        this.current = { index: this.nextIndex++, at: entry.at, input: this.describeInput(entry.input), outputs: [], states: [] };
        return;
      case 'out':
        this.open().outputs.push(this.messageView('out', entry.datagram));
        return;
      case 'state':
        this.open().states.push({ actor: entry.actor, value: entry.value });
        return;
    }
  }

  /** Emits the step in progress, if any. */
  flush(): void {
    if (this.current !== undefined) this.emit(this.current);
    this.current = undefined;
  }

  /**
   * The step in progress; a live stream's first entries (the actors' states when it joined) come
   * before any input, and make a step of their own; so do entries that come after a live step
   * was flushed (what followed from its input a little later).
   */
  private open(): NonNullable<InspectorStepBuilder['current']> {
    const text = this.nextIndex === 0 ? 'the state of each actor when the inspector joined' : 'more that followed from the input before';
    this.current ??= { index: this.nextIndex++, at: this.lastAt ?? Date.now(), input: { kind: 'command', text }, outputs: [], states: [] };
    return this.current;
  }

  private describeInput(input: JournalInput): StepInput {
    switch (input.kind) {
      case 'datagram': {
        const message = this.messageView('in', input.datagram);
        return { kind: 'datagram', text: `${messageTitle(message)} in`, message };
      }
      case 'deliver':
        return { kind: 'deliver', text: `${input.event.type} for ${input.owner}`, owner: input.owner };
      case 'command': {
        const c = input.command;
        const about = 'connection' in c ? ` ${c.connection}` : 'id' in c ? ` ${c.id}` : 'target' in c ? ` ${'id' in c.target ? c.target.id : c.target.connection}` : '';
        return { kind: 'command', text: `command ${c.name}${about}`, ...('id' in c ? { owner: c.id } : 'target' in c && 'id' in c.target ? { owner: c.target.id } : {}) };
      }
    }
  }

  private messageView(direction: 'in' | 'out', d: Datagram): MessageView {
    const bytes = Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength);
    const key = `${direction}:${bytes.toString('base64')}`;
    const repeat = this.seen.has(key);
    if (!repeat) {
      if (this.seen.size >= InspectorStepBuilder.MAX_SEEN) this.seen.clear();
      this.seen.add(key);
    }
    const where = { direction, local: `${d.local.address}:${d.local.port}`, remote: `${d.remote.address}:${d.remote.port}`, octets: bytes.length, repeat };
    const decoded = decodeMessage(bytes);
    if (decoded.ok) {
      return { ...where, ...headerView(decoded.value.header), payloads: decoded.value.payloads.map((p) => payloadTypeName(p.type)) };
    }
    // The header alone, when only what follows it does not decode: the page still places it on its SA.
    let header: IkeHeader | undefined;
    try {
      header = readHeader(ByteReader.of(bytes)).header;
    } catch {
      header = undefined;
    }
    const fields = header === undefined ? { exchange: 'not IKE', response: false, initiator: false, messageId: 0, spiI: '', spiR: '' } : headerView(header);
    return { ...where, ...fields, payloads: [], undecodable: decoded.error.message };
  }
}

function headerView(h: IkeHeader): Pick<MessageView, 'exchange' | 'response' | 'initiator' | 'messageId' | 'spiI' | 'spiR'> {
  return { exchange: exchangeTypeName(h.exchangeType), response: h.flags.response, initiator: h.flags.initiator, messageId: h.messageId, spiI: ikeSpiHex(h.spiI), spiR: ikeSpiHex(h.spiR) };
}

/** `IKE_AUTH request #1`, as the step list and the sequence diagram label a message. */
export function messageTitle(m: MessageView): string {
  return `${m.exchange} ${m.response ? 'response' : 'request'} #${m.messageId}`;
}

/** All the steps of a whole record (a file: nothing more will come). */
export function recordSteps(entries: Iterable<RecordEntry>): InspectorStep[] {
  const steps: InspectorStep[] = [];
  const builder = new InspectorStepBuilder((s) => steps.push(s));
  for (const entry of entries) builder.push(entry);
  builder.flush();
  return steps;
}
