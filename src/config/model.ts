/**
 * The typed configuration model: IKE policies (phase 1), data policies (phase 2) and connections,
 * as the YAML loader (load-config.ts) produces them after validation and after resolving names and
 * secret files. The engine reads only this model; it never sees YAML.
 *
 * Names follow what an IBM i or strongSwan user knows: an IKE policy is strongSwan's `ike`
 * proposals plus IKE SA lifetime and DPD, a data policy its `esp_proposals` plus Child SA mode and
 * lifetime, a connection ties both to two peers, their IDs, the PSK and the traffic selectors.
 *
 * Units are explicit in every field name (Seconds, Bytes, Ms). Secrets (the PSK) are wrapped in
 * `SecretBytes`, whose JSON and `util.inspect` forms are "[redacted]", so logging a connection
 * object never prints the key.
 */
import type { KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { looksLikeDistinguishedName, nameFromDer, parseDistinguishedName } from '../pki/distinguished-name.js';
import type { AlgorithmSet } from '../policy/proposal-syntax.js';
import type { Identity } from '../wire/index.js';

/** A secret octet string (a PSK). `toJSON()` and every inspection print "[redacted]". */
export interface SecretBytes {
  readonly bytes: Buffer;
  toJSON(): string;
}

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/**
 * A secret in a private field behind a prototype getter, so nothing enumerates it: `console.dir`
 * inspects with customInspect off and would print an own property. JSON and every inspection
 * print "[redacted]".
 */
class Redacted<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
    Object.freeze(this);
  }

  protected get value(): T {
    return this.#value;
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspectCustom](): string {
    return '[redacted]';
  }
}

class RedactedSecret extends Redacted<Buffer> implements SecretBytes {
  get bytes(): Buffer {
    return this.value;
  }
}

export function secretBytes(value: Buffer | string): SecretBytes {
  return new RedactedSecret(typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value));
}

/** A private key (signature authentication). `toJSON()` and every inspection print "[redacted]". */
export interface PrivateKeyHandle {
  readonly key: KeyObject;
  toJSON(): string;
}

class RedactedPrivateKey extends Redacted<KeyObject> implements PrivateKeyHandle {
  get key(): KeyObject {
    return this.value;
  }
}

export function privateKeyHandle(key: KeyObject): PrivateKeyHandle {
  return new RedactedPrivateKey(key);
}

/**
 * Lifetime of an SA (RFC 7296 2.8: lifetimes are local policy, never negotiated).
 * - `rekeySeconds`: soft lifetime; a rekey starts then, minus a random jitter of up to
 *   `jitterSeconds` so two peers with the same policy do not rekey at the same instant.
 * - `lifetimeSeconds`: hard lifetime; the SA is deleted then if the rekey did not succeed.
 * Byte lifetimes (Child SAs only) work the same on the kernel's byte counter.
 */
export interface Lifetime {
  readonly rekeySeconds: number;
  readonly lifetimeSeconds: number;
  readonly jitterSeconds: number;
  readonly rekeyBytes?: number;
  readonly lifetimeBytes?: number;
}

/** IBM i's shortest lifetime; shorter ones need `allowShortLifetimes` (the demo and tests use it). */
export const MINIMUM_LIFETIME_SECONDS = 5 * 60;

/** IKE SA rekey interval when the policy names none: 24 h, as IBM i's default. */
export const IKE_SA_DEFAULT_REKEY_S = 86_400;
/** Child SA rekey interval when the policy names none: 60 min, as IBM i's default. */
export const CHILD_SA_DEFAULT_REKEY_S = 3_600;

/**
 * A lifetime from the single value a policy gives (`lifetime: 24h`): rekey then, hard expiry 10 %
 * later, jitter up to 10 % earlier — the proportions of strongSwan's defaults (rekey_time,
 * over_time = 10 %, rand_time = over_time).
 */
export function lifetimeFromRekeySeconds(rekeySeconds: number, bytes?: { rekeyBytes: number }): Lifetime {
  const margin = Math.max(1, Math.round(rekeySeconds / 10));
  return {
    rekeySeconds,
    lifetimeSeconds: rekeySeconds + margin,
    jitterSeconds: margin,
    ...(bytes === undefined
      ? {}
      : { rekeyBytes: bytes.rekeyBytes, lifetimeBytes: Math.round(bytes.rekeyBytes * 1.1) }),
  };
}

/** Retransmission of requests (RFC 7296 2.1); see src/timers/retransmit.ts for the schedule. */
export interface RetransmitPolicy {
  readonly initialMs: number;
  readonly factor: number;
  readonly tries: number;
  /** Cap on any single wait (strongSwan's retransmit_limit); none by default. */
  readonly limitMs?: number;
}

export const DEFAULT_RETRANSMIT: RetransmitPolicy = Object.freeze({ initialMs: 4000, factor: 1.8, tries: 5 });

/** Dead-peer detection (RFC 7296 2.4): a liveness check after `intervalSeconds` of silence. */
export interface DpdPolicy {
  readonly intervalSeconds: number;
  /** The peer is declared dead when a liveness check is unanswered this long. */
  readonly timeoutSeconds: number;
}

/** IKE fragmentation (RFC 7383). */
export interface FragmentationPolicy {
  /** Announce IKEV2_FRAGMENTATION_SUPPORTED and fragment when the peer announced it too. */
  readonly enabled: boolean;
  /**
   * Largest IP datagram (IP and UDP headers included, RFC 7383 2.5.1) sent unfragmented. The
   * RFC's defaults: 1280 for IPv6, 576 for IPv4; ikekm uses 1280 unless told (strongSwan's
   * fragment_size default is 1280 too).
   */
  readonly maxDatagramSize: number;
}

export const DEFAULT_FRAGMENTATION: FragmentationPolicy = Object.freeze({ enabled: true, maxDatagramSize: 1280 });

/**
 * How the peers authenticate (RFC 7296 2.15): a preshared key, or signatures with the private
 * keys of X.509 certificates (`pubkey`, strongSwan's word; IBM i calls it RSA signature mode).
 */
export type AuthMode = 'psk' | 'pubkey';

/** How a signature-authenticating policy signs and what it accepts. */
export interface SignaturePolicy {
  /**
   * The key type both sides must sign with (`auth: rsa-signature` or `ecdsa-signature`, as
   * strongSwan's `auth = rsa` / `ecdsa`); undefined for any (`auth: pubkey`).
   */
  readonly keyType?: 'rsa' | 'ecdsa';
  /** RSA keys sign with PKCS#1 v1.5 (strongSwan's default) or RSASSA-PSS (its `rsa/pss`). */
  readonly rsaPadding: 'pkcs1' | 'pss';
  /**
   * Digital Signature (AUTH method 14, RFC 7427) when the peer announces hashes for it; false
   * keeps to the older methods (1: RSA with SHA-1, 9-11: ECDSA, RFC 4754) for old peers, and
   * announces no SIGNATURE_HASH_ALGORITHMS, so the peer keeps to them too (RFC 7427 4).
   */
  readonly digitalSignature: boolean;
}

export const DEFAULT_SIGNATURE_POLICY: SignaturePolicy = Object.freeze({ rsaPadding: 'pkcs1', digitalSignature: true });

/** Phase 1: how the IKE SA is negotiated and kept. */
export interface IkePolicy {
  readonly name: string;
  readonly version: 2;
  readonly auth: AuthMode;
  /** For `auth: pubkey` (DEFAULT_SIGNATURE_POLICY when not written). */
  readonly signature?: SignaturePolicy;
  /** strongSwan syntax, in order of preference, e.g. `aes256gcm16-prfsha384-ecp384`. */
  readonly proposals: readonly string[];
  /** The same proposals parsed (src/policy/proposal-syntax.ts), one AlgorithmSet per string. */
  readonly proposalSets: readonly AlgorithmSet[];
  readonly lifetime: Lifetime;
  readonly dpd?: DpdPolicy;
  readonly retransmit: RetransmitPolicy;
  readonly fragmentation: FragmentationPolicy;
}

/** Phase 2: how Child SAs are negotiated and kept. */
export interface DataPolicy {
  readonly name: string;
  readonly protocol: 'esp';
  readonly mode: 'tunnel' | 'transport';
  /** strongSwan syntax; a DH group in a proposal means PFS (a KE payload in CREATE_CHILD_SA). */
  readonly proposals: readonly string[];
  readonly proposalSets: readonly AlgorithmSet[];
  readonly lifetime: Lifetime;
}

/**
 * An identity as configured (RFC 7296 3.5): typed, so no guessing happens in the engine. A remote
 * DN may hold `*` values: a pattern any DN with those attributes matches.
 */
export type IdentityConfig = Extract<Identity, { kind: 'ipv4' | 'ipv6' | 'fqdn' | 'rfc822' | 'key-id' | 'der-asn1-dn' }>;

/** One side of a connection. */
export interface PeerConfig {
  /** Outer (IKE and ESP) address; for the remote side `%any` accepts any initiator. */
  readonly address: string;
  /** UDP port for IKE (500 unless a test or the demo moves it). */
  readonly port: number;
  readonly id: IdentityConfig;
}

/**
 * Our certificate for signature authentication, as the exchanges use it: DER, so a record's
 * configuration (JSON) carries it whole and a replay sends the same CERT payloads.
 */
export interface LocalCertificate {
  /** The end entity first, then the intermediates to send with it (RFC 7296 3.6). */
  readonly chain: readonly Buffer[];
  /**
   * `ifasked` (strongSwan's default): CERT payloads only to a peer that sent a CERTREQ;
   * `always`: in every IKE_AUTH.
   */
  readonly sendCert: 'always' | 'ifasked';
}

export interface LocalPeerConfig extends PeerConfig {
  /** The preshared key both sides use (RFC 7296 2.15); with `auth: psk`. */
  readonly psk?: SecretBytes;
  /** With `auth: pubkey`. */
  readonly certificate?: LocalCertificate;
  /** The certificate's private key, with `auth: pubkey`; only the signing port reads it. */
  readonly privateKey?: PrivateKeyHandle;
}

/** What a signature-authenticated peer's certificate is checked against (RFC 5280 6). */
export interface PeerTrust {
  /** The CA certificates (DER) trusted for this peer: chains must end at one of them. */
  readonly anchors: readonly Buffer[];
  /** Certificate revocation lists (DER), read when the configuration is loaded. */
  readonly crls: readonly Buffer[];
  /** SHA-1 of each anchor's SubjectPublicKeyInfo: what a CERTREQ names (RFC 7296 3.7). */
  readonly caHashes: readonly Buffer[];
}

export interface RemotePeerConfig extends PeerConfig {
  /** With `auth: pubkey`. */
  readonly trust?: PeerTrust;
}

export type StartAction = 'on-load' | 'on-demand' | 'listen';

/**
 * What happens when a liveness check finds the peer dead (RFC 7296 2.4), as strongSwan's
 * `dpd_action`: `clear` leaves the connection down, `restart` initiates it again at once, `trap`
 * leaves it to the connection's trap (start: on-demand), which brings it back with the next packet.
 */
export type DpdAction = 'clear' | 'restart' | 'trap';

/**
 * What happens when the peer deletes the IKE SA (RFC 7296 1.4.1) or it expires without a rekey,
 * as strongSwan's `close_action`: `none`, `start` (initiate again), `trap` (the on-demand trap).
 */
export type CloseAction = 'none' | 'start' | 'trap';

/**
 * The restart policy of a connection: the configured actions, else the defaults by start action.
 * `on-load` keeps its tunnel up (restart, start: strongSwan's settings for a site-to-site tunnel
 * that must come back by itself), `on-demand` leaves it to its trap, `listen` waits for the peer
 * (clear, none: strongSwan's defaults).
 */
export function restartActions(connection: Pick<ConnectionConfig, 'start' | 'dpdAction' | 'closeAction'>): { dpd: DpdAction; close: CloseAction } {
  const defaults: Record<StartAction, { dpd: DpdAction; close: CloseAction }> = {
    'on-load': { dpd: 'restart', close: 'start' },
    'on-demand': { dpd: 'trap', close: 'trap' },
    listen: { dpd: 'clear', close: 'none' },
  };
  const base = defaults[connection.start];
  return { dpd: connection.dpdAction ?? base.dpd, close: connection.closeAction ?? base.close };
}

export interface ConnectionConfig {
  readonly name: string;
  readonly ikePolicy: IkePolicy;
  readonly dataPolicy: DataPolicy;
  readonly local: LocalPeerConfig;
  readonly remote: RemotePeerConfig;
  /** Traffic selectors as CIDR prefixes (RFC 7296 2.9), e.g. `198.51.100.0/24`. */
  readonly traffic: { readonly local: readonly string[]; readonly remote: readonly string[] };
  readonly start: StartAction;
  /** Send INITIAL_CONTACT in the first IKE_AUTH (RFC 7296 2.4). Default true. */
  readonly initialContact?: boolean;
  /** After DPD declared the peer dead; default by `start` (restartActions). */
  readonly dpdAction?: DpdAction;
  /** After the peer's Delete of the IKE SA, or its expiry; default by `start` (restartActions). */
  readonly closeAction?: CloseAction;
}

/**
 * Engine-wide settings (the `daemon:` section as far as the engine needs it). The defences
 * against IKE_SA_INIT floods (RFC 7296 2.6, RFC 8019) follow strongSwan's charon: COOKIEs once
 * `cookieThreshold` SAs are half-open overall or `cookieThresholdPerAddress` from one address,
 * new SAs from an address dropped at `blockThresholdPerAddress` half-open ones, and beyond those
 * what charon has no default for: a rate, a memory budget and a backoff after failed
 * authentications.
 */
export interface EngineSettings {
  /** UDP port for NAT traversal (RFC 3948); IKE moves here when NAT is detected (RFC 7296 2.23). */
  readonly nattPort: number;
  /** COOKIEs (RFC 7296 2.6) are demanded once this many IKE SAs are half-open (charon.cookie_threshold). */
  readonly cookieThreshold: number;
  /**
   * COOKIEs are demanded from one address once it has this many half-open IKE SAs, whatever the
   * total (charon.cookie_threshold_ip, RFC 8019 4.1).
   */
  readonly cookieThresholdPerAddress: number;
  /**
   * New IKE_SA_INIT requests from one address are dropped while it has this many half-open IKE
   * SAs (charon.block_threshold; raised above cookieThresholdPerAddress as charon does).
   */
  readonly blockThresholdPerAddress: number;
  /** New IKE_SA_INIT requests are refused (dropped) beyond this many half-open SAs. */
  readonly maxHalfOpen: number;
  /**
   * Memory all half-open SAs may hold, estimated as each one's IKE_SA_INIT request plus a fixed
   * amount for its state; a request that would pass it is dropped.
   */
  readonly halfOpenBudgetBytes: number;
  /**
   * IKE_SA_INIT requests that start a negotiation (a DH computation) per second, with a burst of
   * as many; the rest are dropped before any DH work.
   */
  readonly ikeSaInitPerSecond: number;
  /**
   * New negotiations (DH work) are refused while the event loop was busy more than this share of
   * the last 100 ms (LoadPort; 0 turns it off): reading the sockets (COOKIE answers, the IKE SAs
   * there are, a configured peer's request) comes before new DH work. strongSwan's charon has
   * this as `init_limit_job_load`, its job queue standing in for our event loop.
   */
  readonly loadLimitPercent: number;
  /** IKE SAs in total; new negotiations beyond it are refused. */
  readonly maxIkeSas: number;
  /**
   * Online guessing of a PSK (RFC 7296 5: PSKs are exposed to it): after this many failed
   * authentications of peers from one address, that address's IKE_SA_INIT requests are dropped
   * for `authBackoffSeconds`, doubling with each further failure up to `authBackoffMaxSeconds`.
   * A successful authentication from the address, or an hour without failures, forgets it.
   */
  readonly authFailuresBeforeBackoff: number;
  readonly authBackoffSeconds: number;
  readonly authBackoffMaxSeconds: number;
  /**
   * INVALID_IKE_SPI answers (RFC 7296 2.21.4) to requests for IKE SAs we do not know, per second
   * (with a burst of as many): they go to any source address, so they are rate-limited.
   */
  readonly invalidSpiAnswersPerSecond: number;
  /** Nonce length in octets (RFC 7296 2.10: at least half the PRF key size, 16..256). */
  readonly nonceLength: number;
  /** How often a Child SA with byte lifetimes polls the kernel's counters. */
  readonly byteLifetimePollSeconds: number;
  /** A responder drops an IKE SA whose IKE_AUTH has not arrived this long after IKE_SA_INIT. */
  readonly halfOpenTimeoutSeconds: number;
  /**
   * Child SAs one IKE SA may carry: beyond it the peer's request for a new one is answered
   * NO_ADDITIONAL_SAS (RFC 7296 3.10.1); rekeys of existing Child SAs still pass.
   */
  readonly maxChildSasPerIkeSa: number;
  /** New Child SAs the peer may create on one IKE SA in any 60 s; beyond, TEMPORARY_FAILURE (2.25). */
  readonly maxNewChildSasPerMinute: number;
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = Object.freeze({
  nattPort: 4500,
  // charon's defaults (5.9): 1000 let ~1 000 spoofed half-open SAs in before the first COOKIE.
  cookieThreshold: 30,
  cookieThresholdPerAddress: 3,
  blockThresholdPerAddress: 5,
  maxHalfOpen: 20_000,
  halfOpenBudgetBytes: 64 * 1024 * 1024,
  ikeSaInitPerSecond: 500,
  loadLimitPercent: 90,
  maxIkeSas: 200_000,
  authFailuresBeforeBackoff: 3,
  authBackoffSeconds: 10,
  authBackoffMaxSeconds: 600,
  invalidSpiAnswersPerSecond: 10,
  nonceLength: 32,
  byteLifetimePollSeconds: 60,
  halfOpenTimeoutSeconds: 30,
  // strongSwan sets no limit; one Child SA per selector pair of a site-to-site tunnel, plus
  // those a rekey overlaps, stays far below these, while a storm from an authenticated peer
  // (each Child SA is kernel state) stops here.
  maxChildSasPerIkeSa: 100,
  maxNewChildSasPerMinute: 30,
});

/** The whole model the engine runs on. */
export interface EngineConfig {
  readonly settings: EngineSettings;
  readonly connections: readonly ConnectionConfig[];
}

/**
 * Parses an ID as strongSwan does: an address, a DN (`C=CH, O=ikekm, CN=gw`), `user@domain`,
 * `@keyid:`hex, else an FQDN. A DN that does not parse is read as an FQDN here; the loader
 * reports it (load-config.ts).
 */
export function parseIdentityConfig(text: string): IdentityConfig {
  if (isIPv4(text)) return { kind: 'ipv4', address: text };
  if (isIPv6(text)) return { kind: 'ipv6', address: text };
  if (looksLikeDistinguishedName(text)) {
    const dn = parseDistinguishedName(text);
    if (dn.ok) return { kind: 'der-asn1-dn', der: dn.value.der };
  }
  if (text.startsWith('keyid:')) return { kind: 'key-id', keyId: Buffer.from(text.slice('keyid:'.length), 'hex') };
  if (text.startsWith('@#')) return { kind: 'key-id', keyId: Buffer.from(text.slice(2), 'hex') };
  if (text.includes('@') && !text.startsWith('@')) return { kind: 'rfc822', rfc822: text };
  return { kind: 'fqdn', fqdn: text.startsWith('@') ? text.slice(1) : text };
}

/** An identity as text, for logs (the inverse of parseIdentityConfig). */
export function formatIdentity(id: Identity): string {
  switch (id.kind) {
    case 'ipv4':
    case 'ipv6':
      return id.address;
    case 'fqdn':
      return id.fqdn;
    case 'rfc822':
      return id.rfc822;
    case 'key-id':
      return `keyid:${id.keyId.toString('hex')}`;
    case 'der-asn1-dn': {
      const dn = nameFromDer(id.der);
      return dn.ok ? dn.value.text : `dn:${id.der.toString('hex')}`;
    }
    case 'der-asn1-gn':
      return `gn:${id.der.toString('hex')}`;
    case 'null':
      return '%null';
    case 'other':
      return `type${id.idType}:${id.data.toString('hex')}`;
  }
}

/** Do two identities name the same thing (type and value)? */
export function sameIdentity(a: Identity, b: Identity): boolean {
  return formatIdentity(a) === formatIdentity(b) && a.kind === b.kind;
}
