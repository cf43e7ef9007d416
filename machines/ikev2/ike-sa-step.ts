/**
 * How the IKE SA machine's handlers work: a handler gets a `Step` (the context so far plus a list
 * of outputs), decides, and returns; the machine then assigns the new context and turns the
 * outputs into XState actions in order (ike-sa.ts): effects for the interpreter (send, timers,
 * SPIs, reports, key log, log records), messages to Child SA actors and the supervisor, and the
 * events that move this chart. Handlers never act on the world; they read the clock and draw
 * randomness and crypto, inputs that give the same steps when given the same values.
 */
import type { ConnectionConfig, RetransmitPolicy } from '../../src/config/model.js';
import { DEFAULT_RETRANSMIT } from '../../src/config/model.js';
import type { IkeSaSecurity } from '../../src/ikev2/ike-sa-session.js';
import type { TimerEvent } from '../../src/ports.js';
import { espSpiNumber, ikeSpiHex, type Identity } from '../../src/wire/index.js';
import type { SignatureScheme } from '../../src/pki/signature-algorithm.js';
import type { Effect, LogLevel, LogSummary, SaEvent, SpiPurpose } from '../effects.js';
import type { MachinePorts } from '../ports.js';
import type { ChildSaEvent, ChildSaInput } from './child-sa-context.js';
import type { IkeSaContext, IkeSaInternalEvent, IkeSaReport } from './ike-sa-context.js';

export type StepOutput =
  | { readonly kind: 'effect'; readonly effect: Effect }
  /** A log record; its SA bindings are taken from the context at the end of the step. */
  | { readonly kind: 'log'; readonly level: LogLevel; readonly fields: object; readonly message: string; readonly summary?: LogSummary | undefined }
  | { readonly kind: 'spawn-child'; readonly input: ChildSaInput }
  | { readonly kind: 'to-child'; readonly actorId: string; readonly event: ChildSaEvent }
  | { readonly kind: 'stop-child'; readonly actorId: string }
  | { readonly kind: 'to-supervisor'; readonly event: IkeSaReport }
  | { readonly kind: 'raise'; readonly event: IkeSaInternalEvent };

/** The IKE SA's timers, by name (one of each at a time; re-arming replaces). */
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
  readonly outputs: StepOutput[] = [];
  readonly now: number;

  constructor(
    public ctx: IkeSaContext,
    readonly ports: MachinePorts,
  ) {
    this.now = ports.clock.now();
  }

  set(patch: Partial<IkeSaContext>): void {
    this.ctx = { ...this.ctx, ...patch };
  }

  count(counter: keyof IkeSaContext['counters']): void {
    this.set({ counters: { ...this.ctx.counters, [counter]: this.ctx.counters[counter] + 1 } });
  }

  private effect(effect: Effect): void {
    this.outputs.push({ kind: 'effect', effect });
  }

  send(datagrams: readonly Buffer[]): void {
    this.effect({ kind: 'send', datagrams, local: this.ctx.local, remote: this.ctx.remote });
  }

  arm(name: string, atMs: number, event: TimerEvent): void {
    this.effect({ kind: 'arm-timer', owner: this.ctx.id, name, atMs, event });
  }

  cancel(name: string): void {
    this.effect({ kind: 'cancel-timer', owner: this.ctx.id, name });
  }

  cancelAllTimers(): void {
    this.effect({ kind: 'cancel-timers', owner: this.ctx.id });
  }

  /** Asks for an inbound Child SA SPI unique on this node; it arrives as SPI_ALLOCATED. */
  allocateSpi(purpose: SpiPurpose): void {
    this.effect({ kind: 'allocate-spi', replyTo: this.ctx.id, purpose, local: this.ctx.local.address, remote: this.ctx.remote.address });
  }

  /** Signature authentication: our AUTH octets signed with `connection`'s key (SIGNED answers). */
  sign(connection: string, scheme: SignatureScheme, octets: Buffer): void {
    this.effect({ kind: 'sign', replyTo: this.ctx.id, connection, scheme, octets });
  }

  /** The peer's certificates checked for `connection` (PEER_CERTIFICATES_CHECKED answers). */
  checkPeerCertificates(connection: string, certificates: readonly Buffer[], peerId: Identity): void {
    this.effect({ kind: 'check-peer-certificates', replyTo: this.ctx.id, connection, certificates, peerId });
  }

  releaseSpi(spi: number | Buffer | undefined): void {
    if (spi === undefined) return;
    this.effect({ kind: 'release-spi', spi: typeof spi === 'number' ? spi : espSpiNumber(spi), local: this.ctx.local.address });
  }

  report(event: SaEvent): void {
    this.effect({ kind: 'report', event });
  }

  keylog(security: IkeSaSecurity): void {
    this.effect({ kind: 'keylog', security });
  }

  spawnChild(input: ChildSaInput): void {
    this.outputs.push({ kind: 'spawn-child', input });
  }

  toChild(actorId: string, event: ChildSaEvent): void {
    this.outputs.push({ kind: 'to-child', actorId, event });
  }

  /** Stops a Child SA actor (and its timers) once it left the kernel. */
  stopChild(actorId: string): void {
    this.outputs.push({ kind: 'stop-child', actorId });
    this.effect({ kind: 'cancel-timers', owner: actorId });
  }

  toSupervisor(event: IkeSaReport): void {
    this.outputs.push({ kind: 'to-supervisor', event });
  }

  raise(event: IkeSaInternalEvent): void {
    this.outputs.push({ kind: 'raise', event });
  }

  /**
   * Log records; `summary` marks a record any sender can cause once per datagram (a half-open
   * SA's), logged a few per window and then counted (machines/effects.ts).
   */
  debug(fields: object, message: string, summary?: LogSummary): void {
    this.outputs.push({ kind: 'log', level: 'debug', fields, message, summary });
  }

  info(fields: object, message: string, summary?: LogSummary): void {
    this.outputs.push({ kind: 'log', level: 'info', fields, message, summary });
  }

  warn(fields: object, message: string, summary?: LogSummary): void {
    this.outputs.push({ kind: 'log', level: 'warn', fields, message, summary });
  }

  error(fields: object, message: string, summary?: LogSummary): void {
    this.outputs.push({ kind: 'log', level: 'error', fields, message, summary });
  }

  /** The connection this SA runs under (responders know it after IKE_AUTH). */
  connection(): ConnectionConfig | undefined {
    const name = this.ctx.connection ?? this.ctx.candidates[0];
    return name === undefined ? undefined : this.ports.config.connection(name);
  }

  retransmitPolicy(): RetransmitPolicy {
    return this.connection()?.ikePolicy.retransmit ?? DEFAULT_RETRANSMIT;
  }

  nonce(): Buffer {
    return this.ports.random(this.ports.config.current().settings.nonceLength);
  }
}

/** Bindings of every log record of this SA: connection and both SPIs as hex (never a Buffer). */
export function logBindings(ctx: IkeSaContext): { connection: string; spiI: string; spiR: string } {
  return { connection: ctx.connection ?? ctx.candidates.join('|'), spiI: ikeSpiHex(ctx.spiI), spiR: ikeSpiHex(ctx.spiR) };
}
