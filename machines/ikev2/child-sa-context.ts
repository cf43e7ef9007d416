/** The Child SA machine's input, context, events and reports (child-sa.ts): plain data. */
import type { Lifetime } from '../../src/config/model.js';
import type { ChildSaPlacement } from '../../src/ikev2/child-sa-kernel.js';
import type { KeptChildSaParams } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import type { LifetimeDeadlines } from '../../src/timers/lifetime.js';
import type { EffectAnswer, KernelExpire } from '../effects.js';

/** Bindings every log record of an SA carries (hex strings only). */
export interface SaLogBindings {
  readonly connection: string;
  readonly spiI: string;
  readonly spiR: string;
}

export interface ChildSaInput {
  /** System id: the owner of this SA's timers and the address of the kernel's answers. */
  readonly id: string;
  readonly ikeSaId: string;
  readonly connection: string;
  readonly params: KeptChildSaParams;
  readonly placement: ChildSaPlacement;
  readonly lifetime: Lifetime;
  /** Inbound SPI of the Child SA this one replaces (CREATE_CHILD_SA with REKEY_SA). */
  readonly rekeyOf: number | undefined;
  /**
   * The peer's rekey that we answered (RFC 7296 2.8): the inbound SA and the policies go into the
   * kernel at once, the outbound SA only on INSTALL_OUTBOUND, when the SA it replaces goes (the
   * peer deleted it, which shows the peer has our response and the new inbound SA). Linux sends
   * on the newest outbound SA of a reqid as soon as it is there, and until then the peer would
   * drop what we send on it.
   */
  readonly outboundDeferred: boolean | undefined;
  /** Moved from an IKE SA that was rekeyed (2.18): already installed, deadlines kept. */
  readonly adopted: { readonly deadlines: LifetimeDeadlines; readonly installedAtMs: number; readonly rekeyed: boolean } | undefined;
  readonly log: SaLogBindings;
  /** How often to read the byte counters for the byte lifetimes; 0: the kernel enforces them. */
  readonly byteLifetimePollMs: number;
}

export interface ChildSaContext extends ChildSaInput {
  /**
   * The outbound ESP SA: in the kernel (or on its way there), awaited (`outboundDeferred`), or
   * due: INSTALL_OUTBOUND came while the inbound SA was still being installed.
   */
  readonly outbound: 'installed' | 'awaited' | 'due';
  /** Why the outbound SA was installed late (the INSTALL_OUTBOUND's reason), for the log. */
  readonly outboundReason: string | undefined;
  readonly deadlines: LifetimeDeadlines | undefined;
  readonly installedAtMs: number | undefined;
  readonly deleteReason: string | undefined;
  readonly keepPolicies: boolean;
}

export type ChildSaEvent =
  | { type: 'SOFT_EXPIRE' }
  | { type: 'HARD_EXPIRE' }
  | { type: 'USAGE_POLL' }
  /** The IKE SA sent the CREATE_CHILD_SA that rekeys this SA. */
  | { type: 'REKEYING' }
  /** The rekey failed or was abandoned; the SA carries on and retries at `retryAtMs`. */
  | { type: 'REKEY_ABORTED'; retryAtMs: number }
  /** The new SA is installed: this one only waits for its delete. */
  | { type: 'REKEYED' }
  /** The SA this one replaces goes (`reason`): our outbound SA goes in now, before it leaves (2.8). */
  | { type: 'INSTALL_OUTBOUND'; reason: string }
  | { type: 'DELETE'; reason: string; keepPolicies: boolean }
  | EffectAnswer
  | KernelExpire;

/** What a Child SA tells its IKE SA. */
export type ChildSaReport =
  | { type: 'CHILD_SA_INSTALLED'; inboundSpi: number; deadlines: LifetimeDeadlines; installedAtMs: number }
  | { type: 'CHILD_SA_INSTALL_FAILED'; inboundSpi: number; reason: string }
  | { type: 'CHILD_SA_REKEY_DUE'; inboundSpi: number }
  | { type: 'CHILD_SA_EXPIRED'; inboundSpi: number }
  | { type: 'CHILD_SA_DELETED'; inboundSpi: number };

