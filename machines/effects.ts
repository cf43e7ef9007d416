/**
 * Effects: everything a machine does to the world, as plain data. A machine never calls a port
 * that acts; it emits an `Effect` (an XState action `perform` whose params are the effect, so
 * the inspector shows each one), and after the step the engine's effect interpreter carries it
 * out (src/engine/effect-interpreter.ts). Effects that have an answer (the kernel, SPI
 * allocation) name the actor that waits for it (`replyTo`); the answer comes back to that actor
 * as an ordinary event (`EffectAnswer`), like a timer firing.
 *
 * Reads are not effects: the clock, random draws, the crypto registry and the configuration are
 * inputs a machine takes synchronously (machines/ports.ts): the same inputs give the same steps.
 */
import type { ChildSaPlacement } from '../src/ikev2/child-sa-kernel.js';
import type { KeptChildSaParams } from '../src/ikev2/exchanges/child-sa-negotiation.js';
import type { IkeSaSecurity } from '../src/ikev2/ike-sa-session.js';
import type { PeerCertificateVerdict } from '../src/ikev2/peer-certificates.js';
import type { SignatureScheme } from '../src/pki/signature-algorithm.js';
import type { Identity } from '../src/wire/index.js';
import type { Endpoint, TimerEvent } from '../src/ports.js';

/** What happened to an SA, for `ikekm watch`, status counters and tests. Plain data, no secrets. */
/**
 * Why an established IKE SA ended: `local` (a command, a reload, shutdown, the peer's
 * INITIAL_CONTACT replacing it), `rekeyed` (2.18: its successor carries on), `peer-deleted` (the
 * peer's Delete, 1.4.1), `peer-dead` (a request unanswered, 2.4), `peer-rejected` (the initiator
 * refused our IKE_AUTH answer, 2.21.2), `expired` (its hard lifetime ran out without a rekey, 2.8),
 * `internal-error` (its actor threw and was torn down).
 */
export type IkeSaEndCause = 'local' | 'rekeyed' | 'peer-deleted' | 'peer-dead' | 'peer-rejected' | 'expired' | 'internal-error';

export type SaEvent =
  | {
      readonly kind: 'ike-sa-up';
      readonly connection: string;
      readonly id: string;
      readonly spiI: string;
      readonly spiR: string;
      readonly role: 'initiator' | 'responder';
      readonly rekeyed: boolean;
      readonly rekeyAtMs: number;
      readonly expireAtMs: number;
      readonly atMs: number;
      /**
       * We are behind a NAT (RFC 7296 2.23): the NAT-T endpoints NAT-keepalives go between
       * (RFC 3948 2.3), so the daemon keeps the mapping open without reading every SA's status.
       */
      readonly natKeepalive?: { readonly local: Endpoint; readonly remote: Endpoint };
    }
  | {
      readonly kind: 'ike-sa-down';
      readonly connection: string;
      readonly id: string;
      readonly spiI: string;
      readonly spiR: string;
      readonly reason: string;
      /** Why, for the daemon's restart policy (`dpdAction`, `closeAction`); `reason` says it to the user. */
      readonly cause: IkeSaEndCause;
      readonly atMs: number;
    }
  | { readonly kind: 'ike-sa-rekeyed'; readonly connection: string; readonly id: string; readonly newId: string; readonly atMs: number }
  | { readonly kind: 'ike-sa-failed'; readonly connection: string; readonly id: string; readonly reason: string; readonly notify?: string; readonly atMs: number }
  | {
      readonly kind: 'child-sa-up';
      readonly connection: string;
      readonly ikeSa: string;
      readonly inboundSpi: string;
      readonly outboundSpi: string;
      readonly rekeyOf?: string;
      readonly rekeyAtMs: number;
      readonly expireAtMs: number;
      readonly atMs: number;
    }
  | { readonly kind: 'child-sa-down'; readonly connection: string; readonly ikeSa: string; readonly inboundSpi: string; readonly outboundSpi: string; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'child-sa-failed'; readonly connection: string; readonly ikeSa: string; readonly reason: string; readonly notify?: string; readonly atMs: number };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The mark of a log record of a repeatable network event (the `summary` of a `log` effect). */
export interface LogSummary {
  /** Records with the same key are counted together, e.g. 'ike-sa-init-unknown-peer'. */
  readonly key: string;
  /** What they are, plural, for the summary record: 'IKE_SA_INIT from peers no connection is configured for'. */
  readonly events: string;
}

/** Who asked for an inbound SPI, when one IKE SA may wait for two at once (our request and the peer's). */
export type SpiPurpose = 'ike-auth' | 'our-request' | 'peer-request';

export type Effect =
  /** IKE datagrams (one message, or its RFC 7383 fragments) from `local` to `remote`. */
  | { readonly kind: 'send'; readonly local: Endpoint; readonly remote: Endpoint; readonly datagrams: readonly Buffer[] }
  /** A named one-shot timer of `owner`; re-arming a name replaces it. `event` reaches `owner` at `atMs`. */
  | { readonly kind: 'arm-timer'; readonly owner: string; readonly name: string; readonly atMs: number; readonly event: TimerEvent }
  | { readonly kind: 'cancel-timer'; readonly owner: string; readonly name: string }
  | { readonly kind: 'cancel-timers'; readonly owner: string }
  /**
   * An inbound ESP SPI unique on this node for an SA from `remote` to `local` (outer addresses;
   * XFRM_MSG_ALLOCSPI reserves it); answered by SPI_ALLOCATED or SPI_ALLOCATION_FAILED.
   */
  | { readonly kind: 'allocate-spi'; readonly replyTo: string; readonly purpose: SpiPurpose; readonly local: string; readonly remote: string }
  /** An inbound SPI no Child SA uses (any more) goes back; `local` is the SA's destination. */
  | { readonly kind: 'release-spi'; readonly spi: number; readonly local: string }
  /**
   * The inbound ESP SA of a Child SA, its outbound one unless `withOutbound` is false, then its
   * policies; answered by KERNEL_DONE or KERNEL_FAILED. Without the outbound SA: the peer's rekey
   * we answered (RFC 7296 2.8), whose outbound SA waits for `install-outbound-sa`, because the
   * kernel sends on the newest outbound SA of a reqid at once and the peer has no inbound SA for
   * it before it has our response.
   */
  | { readonly kind: 'install-child-sa'; readonly replyTo: string; readonly params: KeptChildSaParams; readonly placement: ChildSaPlacement; readonly withOutbound: boolean }
  /**
   * The outbound ESP SA of a Child SA installed without it; answered likewise. A delete-child-sa
   * of the same reqid made while it is under way waits for it (the kernel always keeps an
   * outbound SA to send on).
   */
  | { readonly kind: 'install-outbound-sa'; readonly replyTo: string; readonly params: KeptChildSaParams; readonly placement: ChildSaPlacement }
  /**
   * The inbound ESP SA, the outbound one if it was installed (`withOutbound`) and, unless a
   * sibling still uses them, the policies; answered likewise.
   */
  | {
      readonly kind: 'delete-child-sa';
      readonly replyTo: string;
      readonly params: KeptChildSaParams;
      readonly placement: ChildSaPlacement;
      readonly withOutbound: boolean;
      readonly keepPolicies: boolean;
    }
  /** Octets through the busier direction so far (RFC 7296 2.8: lifetimes apply per SA); answered by USAGE. */
  | { readonly kind: 'read-child-sa-usage'; readonly replyTo: string; readonly params: KeptChildSaParams; readonly placement: ChildSaPlacement }
  /**
   * Signature authentication (RFC 7296 2.15): `octets` signed with the private key of
   * `connection`'s certificate; answered by SIGNED or SIGNING_FAILED. The key stays with the
   * signing port: no machine, journal or record ever holds it.
   */
  | { readonly kind: 'sign'; readonly replyTo: string; readonly connection: string; readonly scheme: SignatureScheme; readonly octets: Buffer }
  /**
   * The peer's certificates (CERT payloads, end entity first) checked for `connection`: the chain
   * to its trusted CAs, revocation, and that the certificate names `peerId` (RFC 7296 3.5);
   * answered by PEER_CERTIFICATES_CHECKED.
   */
  | { readonly kind: 'check-peer-certificates'; readonly replyTo: string; readonly connection: string; readonly certificates: readonly Buffer[]; readonly peerId: Identity }
  | { readonly kind: 'report'; readonly event: SaEvent }
  /** An IKE SA for the key log the user asked for (its keys stay in their redacted set until written). */
  | { readonly kind: 'keylog'; readonly security: IkeSaSecurity }
  /**
   * A log record. `summary` marks a repeatable network event (anyone can cause one per datagram,
   * from spoofed addresses): records of one key are logged a few per window and then counted
   * into one summary record (src/log/log-summarizer.ts), so a flood cannot fill the disk.
   */
  | { readonly kind: 'log'; readonly level: LogLevel; readonly bindings: object; readonly fields: object; readonly message: string; readonly summary?: LogSummary | undefined };

/** The answer to an effect, delivered to its `replyTo` actor as an event. */
export type EffectAnswer =
  | { readonly type: 'SPI_ALLOCATED'; readonly spi: number; readonly purpose: SpiPurpose }
  | { readonly type: 'SPI_ALLOCATION_FAILED'; readonly purpose: SpiPurpose; readonly reason: string }
  | { readonly type: 'KERNEL_DONE'; readonly op: KernelChange }
  | { readonly type: 'KERNEL_FAILED'; readonly op: KernelChange; readonly reason: string }
  /** undefined when the kernel could not say (the SA is not there, or the read failed). */
  | { readonly type: 'USAGE'; readonly bytes: number | undefined }
  | { readonly type: 'SIGNED'; readonly signature: Buffer }
  | { readonly type: 'SIGNING_FAILED'; readonly reason: string }
  /** The verdict is plain data (the public key as DER): it is journaled as the answer it is. */
  | { readonly type: 'PEER_CERTIFICATES_CHECKED'; readonly verdict: PeerCertificateVerdict };


export type KernelChange = 'install-child-sa' | 'install-outbound-sa' | 'delete-child-sa';

/**
 * The kernel's own word on an installed Child SA (XFRM_MSG_EXPIRE): a soft limit reached (time,
 * bytes or packets: rekey it) or a hard one (it is gone from the kernel, or about to be).
 */
export interface KernelExpire {
  readonly type: 'KERNEL_EXPIRE';
  readonly hard: boolean;
}

/**
 * A named action with params, for `enqueue(...)` inside a machine's own `setup()` actions: XState
 * types that argument against the action set still being defined, so the object is passed
 * untyped; XState resolves the name when it runs the action.
 */
export const namedAction = <P>(type: string, params: P): never => ({ type, params }) as never;

/** The `perform` action carrying an effect (every machine defines `perform` as the interpreter's door). */
export const performAction = (effect: Effect): never => namedAction('perform', effect);
