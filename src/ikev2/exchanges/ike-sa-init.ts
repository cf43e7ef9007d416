/**
 * IKE_SA_INIT (RFC 7296 1.2): the first exchange. It negotiates the IKE SA's transforms,
 * exchanges Diffie-Hellman values and nonces, and after it both sides derive SKEYSEED and the
 * seven keys (2.14). Nothing in it is protected.
 *
 *     Initiator                         Responder
 *     HDR, SAi1, KEi, Ni          -->
 *                                 <--   HDR, SAr1, KEr, Nr, [CERTREQ]
 *
 * Error answers instead of the second message (all unprotected, responder SPI zero):
 * - N(COOKIE) (2.6): retry with the cookie as the first payload, everything else unchanged;
 * - N(INVALID_KE_PAYLOAD) (1.2, 2.7): retry with a KE of the group named (it must be in our offer);
 * - N(NO_PROPOSAL_CHOSEN) (2.7), N(INVALID_SYNTAX): the negotiation ends.
 *
 * Next: IKE_AUTH (ike-auth.ts), which proves both identities with the keys derived here.
 */
import { DEFAULT_SIGNATURE_POLICY, type ConnectionConfig } from '../../config/model.js';
import { deriveIkeSaKeys } from '../../crypto/ikev2-keys.js';
import type { CryptoRegistry } from '../../crypto/registry.js';
import type { DhKeyPair, RandomPort } from '../../crypto/types.js';
import type { Endpoint } from '../../ports.js';
import {
  ExchangeType,
  IKEV2_MAJOR_VERSION,
  NONCE_MAX_LENGTH,
  NONCE_MIN_LENGTH,
  NotifyType,
  encodeMessage,
  firstUnsupportedCriticalPayload,
  kePayload,
  nameOf,
  noncePayload,
  notifyDataOf,
  notifyPayload,
  saPayload,
  type IkeHeader,
  type IkeMessage,
  type NotifyPayload,
  type Payload,
  type Proposal,
} from '../../wire/index.js';
import type { IkeSaSecurity, IkeTransformIds } from '../ike-sa-session.js';
import { ikeTransformsOf } from '../ike-sa-session.js';
import type { AlgorithmSet } from '../../policy/proposal-syntax.js';
import { checkMessage, describeViolation, firstErrorNotify, hasNotify, notifiesOf, type MessageRule } from './message-rules.js';
import { certificateRequest, certificateRequestsOf } from './certificate-payloads.js';
import { ACCEPTED_SIGNATURE_HASHES } from '../signature-auth.js';
import { detectNatFrom, natDetectionNotifies, type NatDetection } from './nat-notifies.js';
import { checkChosenIkeProposal, offersDhGroup, selectIkeProposal } from './negotiation.js';
import { unpooledCopy } from '../../wire/unpooled.js';

// ---- the exchange, declaratively ----

export const IKE_SA_INIT_REQUEST = {
  name: 'IKE_SA_INIT request',
  rfc: 'RFC 7296 1.2',
  exchangeType: ExchangeType.IKE_SA_INIT,
  response: false,
  encrypted: false,
  payloads: { SA: 'required', KE: 'required', Nonce: 'required', CERTREQ: 'repeated' },
  notifies: [
    { notify: 'COOKIE', meaning: 'retry after the responder demanded a cookie (2.6); first payload' },
    { notify: 'NAT_DETECTION_SOURCE_IP', meaning: 'digest of the sender address (2.23)' },
    { notify: 'NAT_DETECTION_DESTINATION_IP', meaning: 'digest of the destination address (2.23)' },
    { notify: 'IKEV2_FRAGMENTATION_SUPPORTED', meaning: 'the sender can reassemble SKF fragments (RFC 7383 2.3)' },
  ],
} as const satisfies MessageRule;

export const IKE_SA_INIT_RESPONSE = {
  name: 'IKE_SA_INIT response',
  rfc: 'RFC 7296 1.2',
  exchangeType: ExchangeType.IKE_SA_INIT,
  response: true,
  encrypted: false,
  payloads: { SA: 'required', KE: 'required', Nonce: 'required', CERTREQ: 'repeated' },
  notifies: [
    { notify: 'NAT_DETECTION_SOURCE_IP', meaning: 'as in the request' },
    { notify: 'NAT_DETECTION_DESTINATION_IP', meaning: 'as in the request' },
    { notify: 'IKEV2_FRAGMENTATION_SUPPORTED', meaning: 'as in the request' },
    { notify: 'COOKIE', meaning: 'instead of SA/KE/Nonce: retry with this cookie (2.6)' },
    { notify: 'INVALID_KE_PAYLOAD', meaning: 'instead of SA/KE/Nonce: retry with this group (1.2)' },
    { notify: 'NO_PROPOSAL_CHOSEN', meaning: 'instead of SA/KE/Nonce: no acceptable proposal (2.7)' },
  ],
} as const satisfies MessageRule;

const ZERO_SPI = Buffer.alloc(8);

function initHeader(spiI: Buffer, spiR: Buffer, response: boolean): IkeHeader {
  return {
    spiI,
    spiR,
    majorVersion: IKEV2_MAJOR_VERSION,
    minorVersion: 0,
    exchangeType: ExchangeType.IKE_SA_INIT,
    flags: { initiator: !response, version: false, response },
    messageId: 0,
  };
}

/**
 * Notifies our IKE_SA_INIT messages carry besides NAT detection: IKEV2_FRAGMENTATION_SUPPORTED
 * when fragmentation is on (RFC 7383 2.3), and SIGNATURE_HASH_ALGORITHMS (RFC 7427 4) with the
 * hashes we accept in Digital Signature AUTH payloads when a connection authenticates with
 * certificates and may use that method. A PSK-only exchange does not announce them (it has no use
 * for signatures), nor one whose policy keeps to the older methods: the notify is what lets the
 * peer sign with method 14, so sending it would invite the method the policy leaves out.
 */
function capabilityNotifies(fragmentation: boolean, signatures: boolean): NotifyPayload[] {
  return [
    ...(fragmentation ? [notifyPayload({ name: 'IKEV2_FRAGMENTATION_SUPPORTED' })] : []),
    ...(signatures ? [notifyPayload({ name: 'SIGNATURE_HASH_ALGORITHMS', hashAlgorithms: [...ACCEPTED_SIGNATURE_HASHES] })] : []),
  ];
}

/** The hashes the peer announced for Digital Signature authentication (RFC 7427 4); undefined when it sent none. */
function signatureHashesOf(payloads: readonly Payload[]): number[] | undefined {
  const notify = notifiesOf(payloads, NotifyType.SIGNATURE_HASH_ALGORITHMS)[0];
  if (notify === undefined) return undefined;
  const data = notifyDataOf(notify);
  return data?.name === 'SIGNATURE_HASH_ALGORITHMS' ? [...data.hashAlgorithms] : undefined;
}

/** RFC 7296 2.10: 16..256 octets and at least half the PRF's key size. */
function nonceProblem(nonce: Buffer, prfKeyLength: number): string | undefined {
  if (nonce.length < NONCE_MIN_LENGTH || nonce.length > NONCE_MAX_LENGTH) {
    return `nonce of ${nonce.length} octets, RFC 7296 2.10 requires ${NONCE_MIN_LENGTH}..${NONCE_MAX_LENGTH}`;
  }
  if (nonce.length * 2 < prfKeyLength) return `nonce of ${nonce.length} octets is shorter than half the PRF key (${prfKeyLength})`;
  return undefined;
}

// ---- initiator ----

/**
 * Whether IKE_SA_INIT announces SIGNATURE_HASH_ALGORITHMS (RFC 7427 4) for this connection: it
 * signs, with Digital Signature (method 14) allowed by its policy.
 */
export function announcesSignatureHashes(conn: ConnectionConfig): boolean {
  return conn.ikePolicy.auth === 'pubkey' && (conn.ikePolicy.signature ?? DEFAULT_SIGNATURE_POLICY).digitalSignature;
}

export interface IkeSaInitRequestInput {
  readonly spiI: Buffer;
  readonly Ni: Buffer;
  readonly keyPair: DhKeyPair;
  /** Our SA payload proposals (negotiation.offerProposals with kind 'ike'). */
  readonly offer: readonly Proposal[];
  /** The responder's cookie when retrying after N(COOKIE). */
  readonly cookie?: Buffer | undefined;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly fragmentation: boolean;
  /** Announce SIGNATURE_HASH_ALGORITHMS: the connection signs, with Digital Signature allowed. */
  readonly signatures?: boolean | undefined;
}

/** HDR, [N(COOKIE)], SAi1, KEi, Ni, N(NAT_DETECTION_*), N(...): the bytes to send. */
export function buildIkeSaInitRequest(input: IkeSaInitRequestInput): Buffer {
  const payloads: Payload[] = [];
  // RFC 7296 2.6: "a Notify payload of type COOKIE ... as the first payload".
  if (input.cookie !== undefined) payloads.push(notifyPayload({ name: 'COOKIE', cookie: input.cookie }));
  payloads.push(
    saPayload([...input.offer]),
    kePayload(input.keyPair.group, input.keyPair.publicValue),
    noncePayload(input.Ni),
    ...natDetectionNotifies(input.spiI, ZERO_SPI, input.local, input.remote),
    ...capabilityNotifies(input.fragmentation, input.signatures === true),
  );
  return encodeMessage({ header: initHeader(input.spiI, ZERO_SPI, false), payloads });
}

export type IkeSaInitResponseOutcome =
  | { readonly kind: 'cookie'; readonly cookie: Buffer }
  | { readonly kind: 'invalid-ke'; readonly group: number }
  | { readonly kind: 'failed'; readonly reason: string; readonly notify?: string }
  | {
      readonly kind: 'established';
      readonly security: IkeSaSecurity;
      readonly Nr: Buffer;
      readonly nat: NatDetection;
      readonly peerFragmentation: boolean;
      /** RFC 7427 4: the hashes the responder accepts in signatures; undefined when it announced none. */
      readonly peerSignatureHashes: number[] | undefined;
      /** RFC 7296 3.7: the CA hashes of the responder's CERTREQ; undefined when it sent none. */
      readonly peerCertReq: Buffer[] | undefined;
    };

export interface IkeSaInitResponseInput {
  readonly request: IkeSaInitRequestInput;
  readonly message: IkeMessage;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly registry: CryptoRegistry;
}

/** The initiator reads the response (or an error answer) to its IKE_SA_INIT request. */
export function processIkeSaInitResponse(input: IkeSaInitResponseInput): IkeSaInitResponseOutcome {
  const { message, request, registry } = input;
  const payloads = message.payloads;
  const cookie = notifiesOf(payloads, NotifyType.COOKIE)[0];
  if (cookie !== undefined) {
    const data = notifyDataOf(cookie);
    if (data?.name === 'COOKIE') return { kind: 'cookie', cookie: Buffer.from(data.cookie) };
  }
  const error = firstErrorNotify(payloads);
  if (error !== undefined) {
    const data = notifyDataOf(error);
    if (data?.name === 'INVALID_KE_PAYLOAD') {
      if (data.dhGroup === request.keyPair.group || !offersDhGroup(request.offer, data.dhGroup)) {
        return { kind: 'failed', reason: `INVALID_KE_PAYLOAD asks for group ${data.dhGroup}, which we do not offer or already sent`, notify: 'INVALID_KE_PAYLOAD' };
      }
      return { kind: 'invalid-ke', group: data.dhGroup };
    }
    const name = nameOf(NotifyType, error.notifyType);
    return { kind: 'failed', reason: `the responder answered ${name}`, notify: name };
  }
  const critical = firstUnsupportedCriticalPayload(payloads);
  if (critical !== undefined) return { kind: 'failed', reason: `unsupported critical payload type ${critical} in the response (RFC 7296 2.5)` };
  const checked = checkMessage(IKE_SA_INIT_RESPONSE, payloads);
  if (!checked.ok) return { kind: 'failed', reason: describeViolation(checked.error) };
  const { SA, KE, Nonce } = checked.value;
  // Kept for the SA's life: in memory of its own (src/wire/unpooled.ts).
  const spiR = unpooledCopy(message.header.spiR);
  if (spiR.equals(ZERO_SPI)) return { kind: 'failed', reason: 'IKE_SA_INIT response with a zero responder SPI' };

  const chosen = checkChosenIkeProposal(request.offer, SA.proposals);
  if (!chosen.ok) return { kind: 'failed', reason: chosen.error };
  const ids = chosen.value.ids;
  if (KE.dhGroup !== ids.dh || ids.dh !== request.keyPair.group) {
    return { kind: 'failed', reason: `KEr is for group ${KE.dhGroup}, the chosen proposal has ${ids.dh} and we sent ${request.keyPair.group}` };
  }
  const transforms = ikeTransformsOf(ids, registry);
  const Nr = Buffer.from(Nonce.data);
  const badNonce = nonceProblem(Nr, transforms.prf.keyLength);
  if (badNonce !== undefined) return { kind: 'failed', reason: badNonce };
  const group = registry.dhGroup(ids.dh);
  if (group === undefined) return { kind: 'failed', reason: `DH group ${ids.dh} is not available` };
  const shared = group.computeSharedSecret(request.keyPair, KE.keData);
  if (!shared.ok) return { kind: 'failed', reason: `the responder's KE value was refused: ${shared.error.kind}` };

  const keys = deriveIkeSaKeys({
    prf: transforms.prf,
    integrity: transforms.integrity,
    encryption: transforms.encryption,
    Ni: request.Ni,
    Nr,
    sharedSecret: shared.value,
    SPIi: request.spiI,
    SPIr: spiR,
  });
  shared.value.fill(0);
  return {
    kind: 'established',
    security: { spiI: request.spiI, spiR, role: 'initiator', transforms: ids, keys },
    Nr,
    nat: detectNatFrom(payloads, request.spiI, spiR, input.local, input.remote),
    peerFragmentation: hasNotify(payloads, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
    peerSignatureHashes: signatureHashesOf(payloads),
    peerCertReq: certificateRequestsOf(payloads),
  };
}

// ---- responder ----

export interface IkeSaInitRequestProcessing {
  readonly message: IkeMessage;
  /** The SPI we chose for this IKE SA. */
  readonly spiR: Buffer;
  readonly sets: readonly AlgorithmSet[];
  readonly registry: CryptoRegistry;
  readonly random: RandomPort;
  readonly nonceLength: number;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly fragmentation: boolean;
  /**
   * A candidate connection authenticates with certificates: ask for the initiator's certificate
   * with these CA hashes (CERTREQ, RFC 7296 3.7; the IKE_SA_INIT response is where a responder
   * sends it, 1.2). Undefined: PSK only.
   */
  readonly certReq?: readonly Buffer[] | undefined;
  /**
   * Announce SIGNATURE_HASH_ALGORITHMS (RFC 7427 4): a candidate signs with Digital Signature
   * allowed. Default: whenever `certReq` is given.
   */
  readonly signatures?: boolean | undefined;
}

export type IkeSaInitRequestOutcome =
  /** Answer with an error notify and keep no state (RFC 7296 2.6: "stateless"). */
  | { readonly kind: 'reject'; readonly response: Buffer; readonly reason: string; readonly notify: string }
  | {
      readonly kind: 'accept';
      /** RealMessage2: the bytes to send, kept for the AUTH computation (2.15). */
      readonly response: Buffer;
      readonly security: IkeSaSecurity;
      readonly Ni: Buffer;
      readonly Nr: Buffer;
      readonly nat: NatDetection;
      readonly peerFragmentation: boolean;
      /** RFC 7427 4: the hashes the initiator accepts in signatures; undefined when it announced none. */
      readonly peerSignatureHashes: number[] | undefined;
    };

/** An unprotected error answer to an IKE_SA_INIT request: HDR(SPIr = 0), N(error). */
export function ikeSaInitErrorResponse(request: IkeHeader, notify: NotifyPayload): Buffer {
  return encodeMessage({ header: initHeader(request.spiI, ZERO_SPI, true), payloads: [notify] });
}

function errorNotify(notifyType: number): NotifyPayload {
  return notifyPayload({ name: 'other', notifyType, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.alloc(0) });
}

/** The responder answers an IKE_SA_INIT request (cookies were checked before, by the supervisor). */
export function respondToIkeSaInit(input: IkeSaInitRequestProcessing): IkeSaInitRequestOutcome {
  const { message, registry } = input;
  const header = message.header;
  const reject = (notifyType: number, reason: string, notify: NotifyPayload = errorNotify(notifyType)): IkeSaInitRequestOutcome => ({
    kind: 'reject',
    response: ikeSaInitErrorResponse(header, notify),
    reason,
    notify: nameOf(NotifyType, notifyType),
  });

  // RFC 7296 2.5: a critical payload we do not understand rejects the whole message.
  const critical = firstUnsupportedCriticalPayload(message.payloads);
  if (critical !== undefined) {
    return reject(
      NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD,
      `unsupported critical payload type ${critical}`,
      notifyPayload({ name: 'other', notifyType: NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.from([critical]) }),
    );
  }
  const checked = checkMessage(IKE_SA_INIT_REQUEST, message.payloads);
  if (!checked.ok) return reject(NotifyType.INVALID_SYNTAX, describeViolation(checked.error));
  const { SA, KE, Nonce } = checked.value;

  // Prefer a proposal with the group the initiator guessed, saving an INVALID_KE_PAYLOAD round
  // trip (RFC 7296 1.2); failing that, the first acceptable one in the initiator's order.
  const withGuess = input.sets.map((s) => ({ ...s, dh: s.dh.filter((g) => g === KE.dhGroup) }));
  const guessed = selectIkeProposal(SA.proposals, withGuess, Buffer.alloc(0), registry);
  const selected = guessed.ok ? guessed : selectIkeProposal(SA.proposals, input.sets, Buffer.alloc(0), registry);
  if (!selected.ok) return reject(NotifyType.NO_PROPOSAL_CHOSEN, selected.error);
  const ids: IkeTransformIds = selected.value.ids;
  // RFC 7296 1.2: a KE for another group than the chosen one → INVALID_KE_PAYLOAD naming ours.
  if (KE.dhGroup !== ids.dh) {
    return reject(
      NotifyType.INVALID_KE_PAYLOAD,
      `KEi is for group ${KE.dhGroup}, the selected proposal uses group ${ids.dh}`,
      notifyPayload({ name: 'INVALID_KE_PAYLOAD', dhGroup: ids.dh }),
    );
  }
  const transforms = ikeTransformsOf(ids, registry);
  const Ni = Buffer.from(Nonce.data);
  const badNonce = nonceProblem(Ni, transforms.prf.keyLength);
  if (badNonce !== undefined) return reject(NotifyType.INVALID_SYNTAX, badNonce);
  const group = registry.dhGroup(ids.dh);
  if (group === undefined) return reject(NotifyType.NO_PROPOSAL_CHOSEN, `DH group ${ids.dh} is not available`);

  const keyPair = group.generateKeyPair(input.random);
  const shared = group.computeSharedSecret(keyPair, KE.keData);
  keyPair.privateKey.fill(0);
  if (!shared.ok) return reject(NotifyType.INVALID_SYNTAX, `the initiator's KE value was refused: ${shared.error.kind}`);
  const Nr = input.random(Math.max(input.nonceLength, Math.ceil(transforms.prf.keyLength / 2), NONCE_MIN_LENGTH));
  const spiI = unpooledCopy(header.spiI);
  const keys = deriveIkeSaKeys({
    prf: transforms.prf,
    integrity: transforms.integrity,
    encryption: transforms.encryption,
    Ni,
    Nr,
    sharedSecret: shared.value,
    SPIi: spiI,
    SPIr: input.spiR,
  });
  shared.value.fill(0);

  const response = encodeMessage({
    header: initHeader(spiI, input.spiR, true),
    payloads: [
      saPayload([selected.value.chosen]),
      kePayload(ids.dh, keyPair.publicValue),
      noncePayload(Nr),
      ...natDetectionNotifies(spiI, input.spiR, input.local, input.remote),
      ...capabilityNotifies(input.fragmentation, input.signatures ?? input.certReq !== undefined),
      ...certificateRequest(input.certReq ?? []),
    ],
  });
  return {
    kind: 'accept',
    response,
    security: { spiI, spiR: input.spiR, role: 'responder', transforms: ids, keys },
    Ni,
    Nr,
    // The request's digests were computed with SPIr = 0 (the header it carried).
    nat: detectNatFrom(message.payloads, spiI, ZERO_SPI, input.local, input.remote),
    peerFragmentation: hasNotify(message.payloads, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
    peerSignatureHashes: signatureHashesOf(message.payloads),
  };
}

/** The cookie of a retried request, if it carries one (RFC 7296 2.6: as the first payload). */
export function cookieOf(message: IkeMessage): Buffer | undefined {
  const first = message.payloads[0];
  if (first === undefined || !('notifyType' in first) || first.notifyType !== NotifyType.COOKIE) return undefined;
  const data = notifyDataOf(first);
  return data?.name === 'COOKIE' ? data.cookie : undefined;
}

/** HDR(SPIr = 0), N(COOKIE): the stateless answer that demands a cookie (2.6). */
export function cookieResponse(request: IkeHeader, cookie: Buffer): Buffer {
  return ikeSaInitErrorResponse(request, notifyPayload({ name: 'COOKIE', cookie }));
}
