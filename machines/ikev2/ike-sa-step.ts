/**
 * How the IKE SA machine's handlers work: a handler gets a `Step` (the context so far plus a list
 * of effects), decides, and returns; the machine then assigns the new context and carries out
 * the effects in order as XState actions (send, arm/cancel timers, spawn or message a Child SA,
 * report to the supervisor, raise the event that moves the state chart, log). Handlers never
 * touch a port that acts on the world; they only read the clock and draw randomness and crypto,
 * which replay reproduces.
 *
 * Also here: sending our requests (Message ID, retransmission, RFC 7296 2.1/2.3) and responses
 * (the cached answer for retransmitted requests), shared by every exchange.
 */
import type { ConnectionConfig, RetransmitPolicy } from '../../src/config/model.js';
import { DEFAULT_RETRANSMIT } from '../../src/config/model.js';
import type { EnginePorts, SaEvent } from '../../src/engine/engine-ports.js';
import type { IkeSaKeys } from '../../src/kernel/ikev2-keylog-writer.js';
import { headerFor, sealMessage, spiHex } from '../../src/ikev2/ike-sa-session.js';
import type { TimerEvent } from '../../src/ports.js';
import { nextRetransmit, retransmitSchedule } from '../../src/timers/retransmit.js';
import type { Payload } from '../../src/wire/index.js';
import { exchangeName } from '../../src/ikev2/exchanges/message-rules.js';
import { fragmentForSending } from './ike-sa-fragments.js';
import type { ChildSaEvent, ChildSaInput } from './child-sa.js';
import type { IkeSaContext, IkeSaInternalEvent, IkeSaReport, RequestPurpose } from './ike-sa-context.js';

export type Effect =
  | { readonly kind: 'send'; readonly datagrams: readonly Buffer[]; readonly local: IkeSaContext['local']; readonly remote: IkeSaContext['remote'] }
  | { readonly kind: 'arm'; readonly name: string; readonly atMs: number; readonly event: TimerEvent }
  | { readonly kind: 'cancel'; readonly name: string }
  | { readonly kind: 'cancel-all' }
  | { readonly kind: 'spawn-child'; readonly input: ChildSaInput }
  | { readonly kind: 'to-child'; readonly actorId: string; readonly event: ChildSaEvent }
  | { readonly kind: 'stop-child'; readonly actorId: string }
  | { readonly kind: 'to-supervisor'; readonly event: IkeSaReport }
  | { readonly kind: 'raise'; readonly event: IkeSaInternalEvent }
  | { readonly kind: 'report'; readonly event: SaEvent }
  /** An inbound Child SA SPI no longer in use goes back to the allocator. */
  | { readonly kind: 'release-spi'; readonly spi: number }
  /** The keys of the now established IKE SA, for the key log port (never logged). */
  | { readonly kind: 'keylog'; readonly keys: IkeSaKeys }
  | { readonly kind: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly fields: object; readonly message: string };

export const TIMER = {
  retransmit: 'retransmit',
  rekey: 'rekey',
  expire: 'expire',
  dpd: 'dpd',
  halfOpen: 'half-open',
  close: 'close',
  handover: 'handover',
  redundant: 'redundant',
} as const;

export class Step {
  readonly effects: Effect[] = [];
  readonly now: number;

  constructor(
    public ctx: IkeSaContext,
    readonly ports: EnginePorts,
  ) {
    this.now = ports.clock.now();
  }

  set(patch: Partial<IkeSaContext>): void {
    this.ctx = { ...this.ctx, ...patch };
  }

  count(counter: keyof IkeSaContext['counters']): void {
    this.set({ counters: { ...this.ctx.counters, [counter]: this.ctx.counters[counter] + 1 } });
  }

  send(datagrams: readonly Buffer[]): void {
    this.effects.push({ kind: 'send', datagrams, local: this.ctx.local, remote: this.ctx.remote });
  }

  arm(name: string, atMs: number, event: TimerEvent): void {
    this.effects.push({ kind: 'arm', name, atMs, event });
  }

  cancel(name: string): void {
    this.effects.push({ kind: 'cancel', name });
  }

  cancelAllTimers(): void {
    this.effects.push({ kind: 'cancel-all' });
  }

  spawnChild(input: ChildSaInput): void {
    this.effects.push({ kind: 'spawn-child', input });
  }

  toChild(actorId: string, event: ChildSaEvent): void {
    this.effects.push({ kind: 'to-child', actorId, event });
  }

  stopChild(actorId: string): void {
    this.effects.push({ kind: 'stop-child', actorId });
  }

  toSupervisor(event: IkeSaReport): void {
    this.effects.push({ kind: 'to-supervisor', event });
  }

  raise(event: IkeSaInternalEvent): void {
    this.effects.push({ kind: 'raise', event });
  }

  report(event: SaEvent): void {
    this.effects.push({ kind: 'report', event });
  }

  releaseSpi(spi: number | Buffer | undefined): void {
    if (spi === undefined) return;
    this.effects.push({ kind: 'release-spi', spi: typeof spi === 'number' ? spi : spi.readUInt32BE(0) });
  }

  /** Allocates an inbound Child SA SPI unique on this node (a port call, like a random draw). */
  readonly allocateSpi = (): Buffer => this.ports.spis.allocate();

  keylog(keys: IkeSaKeys): void {
    if (this.ports.keylog !== undefined) this.effects.push({ kind: 'keylog', keys });
  }

  debug(fields: object, message: string): void {
    this.effects.push({ kind: 'log', level: 'debug', fields, message });
  }

  info(fields: object, message: string): void {
    this.effects.push({ kind: 'log', level: 'info', fields, message });
  }

  warn(fields: object, message: string): void {
    this.effects.push({ kind: 'log', level: 'warn', fields, message });
  }

  error(fields: object, message: string): void {
    this.effects.push({ kind: 'log', level: 'error', fields, message });
  }

  /** The connection this SA runs under (responders know it after IKE_AUTH). */
  connection(): ConnectionConfig | undefined {
    const name = this.ctx.connection ?? this.ctx.candidates[0];
    return name === undefined ? undefined : this.ports.config.connection(name);
  }

  retransmitPolicy(): RetransmitPolicy {
    return this.connection()?.ikePolicy.retransmit ?? DEFAULT_RETRANSMIT;
  }
}

/** Bindings of every log record of this SA: connection and both SPIs as hex (never a Buffer). */
export function logBindings(ctx: IkeSaContext): { connection: string; spiI: string; spiR: string } {
  return { connection: ctx.connection ?? ctx.candidates.join('|'), spiI: spiHex(ctx.spiI), spiR: spiHex(ctx.spiR) };
}

function armRetransmit(step: Step): void {
  const o = step.ctx.outstanding;
  if (o === undefined) return;
  const schedule = retransmitSchedule(step.retransmitPolicy());
  const next = nextRetransmit(schedule, o.attempt);
  let at = o.firstSentAtMs + next.atOffsetMs;
  if (o.giveUpAtMs !== undefined) at = Math.min(at, o.giveUpAtMs);
  step.arm(TIMER.retransmit, at, { type: 'RETRANSMIT', messageId: o.messageId } as TimerEvent);
}

/** Sends an unprotected request (IKE_SA_INIT) as Message ID 0 and waits for its response. */
export function sendPlainRequest(step: Step, exchangeType: number, bytes: Buffer, purpose: RequestPurpose): void {
  step.set({
    outstanding: { messageId: 0, exchangeType, purpose, datagrams: [bytes], firstSentAtMs: step.now, attempt: 0 },
    nextRequestId: 1,
  });
  step.send([bytes]);
  armRetransmit(step);
}

/** Seals `inner` under the IKE SA (fragmenting when RFC 7383 applies), as the next request. */
export function sendRequest(
  step: Step,
  exchangeType: number,
  inner: readonly Payload[],
  purpose: RequestPurpose,
  options: { giveUpAtMs?: number } = {},
): void {
  const sa = step.ctx.security;
  if (sa === undefined) throw new Error('sendRequest before the IKE SA has keys');
  const messageId = step.ctx.nextRequestId;
  const header = headerFor(sa, exchangeType, messageId, false);
  const datagrams = sealForSending(step, header, inner);
  step.set({
    outstanding: {
      messageId,
      exchangeType,
      purpose,
      datagrams,
      firstSentAtMs: step.now,
      attempt: 0,
      ...(options.giveUpAtMs === undefined ? {} : { giveUpAtMs: options.giveUpAtMs }),
    },
    nextRequestId: messageId + 1,
  });
  step.debug({ exchange: exchangeName(exchangeType), messageId, purpose: purpose.kind }, 'request sent');
  step.send(datagrams);
  armRetransmit(step);
}

/** Seals and sends our response to the peer's request `messageId`, and caches it (2.1). */
export function sendResponse(step: Step, exchangeType: number, messageId: number, inner: readonly Payload[]): void {
  const sa = step.ctx.security;
  if (sa === undefined) throw new Error('sendResponse before the IKE SA has keys');
  const datagrams = sealForSending(step, headerFor(sa, exchangeType, messageId, true), inner);
  step.set({ lastResponse: { messageId, datagrams }, expectedRequestId: messageId + 1 });
  step.send(datagrams);
}

function sealForSending(step: Step, header: ReturnType<typeof headerFor>, inner: readonly Payload[]): Buffer[] {
  const sa = step.ctx.security!;
  const policy = step.connection()?.ikePolicy.fragmentation;
  if (policy === undefined || !policy.enabled || !step.ctx.peerFragmentation) {
    return [sealMessage(sa, header, inner, step.ports.registry, step.ports.random)];
  }
  const natt = step.ctx.local.port === step.ports.config.current().settings.nattPort;
  // One datagram when it fits (RFC 7383 2.5: fragment only what is too large).
  return fragmentForSending(sa, header, inner, policy.maxDatagramSize, step.ctx.remote.address, natt, step.ports.registry, step.ports.random);
}

/** Gives back the inbound SPI of a Child SA offer that will not become a Child SA. */
export function releaseOffer(step: Step, purpose: RequestPurpose | undefined): void {
  if (purpose?.kind === 'create-child' || purpose?.kind === 'rekey-child') step.releaseSpi(purpose.offer.inboundSpi);
}

/** The response to our outstanding request arrived: stop retransmitting. */
export function completeOutstanding(step: Step): void {
  step.cancel(TIMER.retransmit);
  step.set({ outstanding: undefined });
}

/**
 * A RETRANSMIT timer fired (2.1): resend the same datagrams, or give up once the schedule (or a
 * liveness check's timeout) is exhausted. Returns true when the exchange was abandoned.
 */
export function retransmitOrGiveUp(step: Step, messageId: number): boolean {
  const o = step.ctx.outstanding;
  if (o === undefined || o.messageId !== messageId) return false;
  if (o.giveUpAtMs !== undefined && step.now >= o.giveUpAtMs) return true;
  const schedule = retransmitSchedule(step.retransmitPolicy());
  const next = nextRetransmit(schedule, o.attempt);
  if (next.kind === 'give-up') return true;
  step.set({ outstanding: { ...o, attempt: next.attempt } });
  step.count('retransmissions');
  step.debug({ messageId, attempt: next.attempt, exchange: exchangeName(o.exchangeType) }, 'retransmitting request');
  step.send(o.datagrams);
  armRetransmit(step);
  return false;
}
