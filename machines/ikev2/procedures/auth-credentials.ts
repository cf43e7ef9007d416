/**
 * Signature authentication in IKE_AUTH (RFC 7296 2.15, RFC 7427): the two steps that leave the
 * machine and come back as answers, each a state of the chart in both roles.
 *
 * - `signing` (entry `sign`): our AUTH octets go to the signing port with the scheme chosen from
 *   what the peer announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 4); SIGNED brings the
 *   signature. The private key never enters the machine, its context or a record.
 * - `checkingPeer` (entry `checkPeer`): the peer's CERT payloads go to the certificate check —
 *   the chain to the connection's CAs, validity now, revocation by its CRLs, and the peer's ID in
 *   the certificate (RFC 7296 3.5, RFC 4945 3.1); PEER_CERTIFICATES_CHECKED brings the verdict
 *   with the end entity's public key, or the certificate and rule that failed.
 *
 * Chart: initiator `ikeAuth.signing` → `ikeAuth.allocatingSpi` … `ikeAuth.awaitingResponse` →
 * `ikeAuth.checkingPeer`; responder `awaitingIkeAuth.waiting` → `checkingPeer` → `signing` →
 * `allocatingSpi`.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { DEFAULT_SIGNATURE_POLICY, type ConnectionConfig } from '../../../src/config/model.js';
import { authOctets, type OwnCredential, type PeerCredential } from '../../../src/ikev2/authenticator.js';
import { errorNotify } from '../../../src/ikev2/exchanges/create-child-sa.js';
import { certificatesOf, certificatesToSend } from '../../../src/ikev2/exchanges/certificate-payloads.js';
import { chooseIkeAuthConnection, initiatorIdPayload, responderIdPayload } from '../../../src/ikev2/exchanges/ike-auth.js';
import { headerFor, sealMessage } from '../../../src/ikev2/ike-sa-session.js';
import { configuredCertificate } from '../../../src/ikev2/peer-certificates.js';
import { chooseSignature } from '../../../src/ikev2/signature-auth.js';
import { describeKey } from '../../../src/pki/key-description.js';
import { ExchangeType, NotifyType, PayloadType, identityOf, type IdPayload, type Payload } from '../../../src/wire/index.js';
import type { IkeSaEvent } from '../ike-sa-context.js';
import type { Step } from '../ike-sa-step.js';
import { answer } from '../peer-request.js';
import { failNegotiation } from '../sa-reports.js';

type Answer<T extends string> = Extract<IkeSaEvent, { type: T }>;

/** Connections whose addresses fit this IKE SA (the supervisor's candidates), as configured now. */
export function candidatesOf(step: Step): ConnectionConfig[] {
  return step.ctx.candidates.map((n) => step.ports.config.connection(n)).filter((c): c is ConnectionConfig => c !== undefined);
}

/** The connection whose credentials this IKE_AUTH uses: ours (initiator), or the one the initiator's IDs chose. */
function authConnection(step: Step): ConnectionConfig | undefined {
  if (step.ctx.role === 'initiator') return step.connection();
  const request = step.ctx.answering;
  if (request === undefined) return undefined;
  const chosen = chooseIkeAuthConnection(candidatesOf(step), request.inner);
  return chosen.kind === 'chosen' ? chosen.connection : undefined;
}

/**
 * A failure before the IKE SA exists: the responder answers AUTHENTICATION_FAILED (2.21.2), the
 * initiator just stops. Only a peer that failed to prove itself counts as a failed authentication
 * (the supervisor backs off its address, RFC 7296 5); our own missing key or certificate does not.
 */
function refuse(step: Step, reason: string, fault: 'ours' | 'peer' = 'ours'): void {
  const request = step.ctx.answering;
  if (step.ctx.role === 'responder' && request !== undefined) answer(step, request, [errorNotify(NotifyType.AUTHENTICATION_FAILED)]);
  failNegotiation(step, reason, fault === 'peer' ? 'AUTHENTICATION_FAILED' : undefined);
}

/** The public key of our certificate (the end entity, first in the chain). */
function ourPublicKey(connection: ConnectionConfig): KeyObject | undefined {
  const der = connection.local.certificate?.chain[0];
  return der === undefined ? undefined : configuredCertificate(der)?.publicKey;
}

/** Does the key have the type the IKE policy demands (`auth: rsa-signature` / `ecdsa-signature`)? */
function keyTypeProblem(connection: ConnectionConfig, key: KeyObject, whose: string): string | undefined {
  const wanted = connection.ikePolicy.signature?.keyType;
  if (wanted === undefined) return undefined;
  const type = key.asymmetricKeyType === 'ec' ? 'ecdsa' : key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss' ? 'rsa' : key.asymmetricKeyType;
  if (type === wanted) return undefined;
  return `IKE policy ${connection.ikePolicy.name} authenticates with ${wanted === 'rsa' ? 'RSA' : 'ECDSA'} signatures, but the key of ${whose} is ${describeKey(key)}`;
}

/** Our AUTH's IDi or IDr, as in the message. */
function ourIdPayload(step: Step, connection: ConnectionConfig): IdPayload {
  return step.ctx.role === 'initiator' ? initiatorIdPayload(connection) : responderIdPayload(connection);
}

// ---- signing ----

/** Entry of `signing`: our AUTH octets (2.15) to the signing port, with a scheme the peer accepts. */
export function sign(step: Step): void {
  const connection = authConnection(step);
  if (connection === undefined) {
    refuse(step, `connection ${step.ctx.connection ?? '?'} is not configured`);
    return;
  }
  const key = ourPublicKey(connection);
  if (key === undefined) {
    refuse(step, `connection ${connection.name} authenticates with certificates but has none of its own`);
    return;
  }
  const problem = keyTypeProblem(connection, key, 'our certificate');
  if (problem !== undefined) {
    refuse(step, problem);
    return;
  }
  const h = step.ctx.handshake!;
  const choice = chooseSignature(key, h.peerSignatureHashes, connection.ikePolicy.signature ?? DEFAULT_SIGNATURE_POLICY);
  if (!choice.ok) {
    refuse(step, `connection ${connection.name}: ${choice.error}`);
    return;
  }
  const initiator = step.ctx.role === 'initiator';
  const octets = authOctets({
    sa: step.ctx.security!,
    registry: step.ports.registry,
    realMessage: initiator ? h.realMessage1! : h.realMessage2!,
    peerNonce: initiator ? h.Nr! : h.Ni,
    id: ourIdPayload(step, connection),
    author: step.ctx.role,
  });
  step.set({ handshake: { ...h, signing: { choice: choice.value } } });
  step.sign(connection.name, choice.value.scheme, octets);
}

/** SIGNED in `signing`: our signature, kept for the message. */
export function signed(step: Step, event: Answer<'SIGNED'>): void {
  const h = step.ctx.handshake!;
  if (h.signing === undefined) return;
  step.set({ handshake: { ...h, signing: { ...h.signing, signature: event.signature } } });
}

/** SIGNING_FAILED in `signing`: no AUTH of ours, no IKE SA. */
export function signingFailed(step: Step, event: Answer<'SIGNING_FAILED'>): void {
  refuse(step, `our signature could not be made: ${event.reason}`);
}

/**
 * Our credential for the message being built: the preshared key, or the signature made in
 * `signing` with the certificates to send — the chain when the peer asked with a CERTREQ or the
 * connection always sends (`sendCert`), else none (strongSwan's `send_cert = ifasked`).
 */
export function ownCredential(step: Step, connection: ConnectionConfig, peerAsked: boolean): OwnCredential | undefined {
  if (connection.ikePolicy.auth === 'psk') {
    if (connection.local.psk !== undefined) return { kind: 'psk', psk: connection.local.psk.bytes };
    failNegotiation(step, `connection ${connection.name} has no preshared key`);
    return undefined;
  }
  const signing = step.ctx.handshake?.signing;
  const certificate = connection.local.certificate;
  if (signing?.signature === undefined || certificate === undefined) {
    failNegotiation(step, `connection ${connection.name}: no signature was made for IKE_AUTH`);
    return undefined;
  }
  const certificates = certificatesToSend(certificate, peerAsked, step.ctx.handshake?.peerCertReq);
  return { kind: 'signature', choice: signing.choice, signature: signing.signature, certificates };
}

// ---- checking the peer ----

/** The peer's IKE_AUTH payloads: the responder's answer held by the initiator, or the initiator's request. */
function peerPayloads(step: Step): readonly Payload[] {
  return step.ctx.role === 'initiator' ? (step.ctx.handshake?.response ?? []) : (step.ctx.answering?.inner ?? []);
}

/** Entry of `checkingPeer`: the peer's certificates to the certificate check. */
export function checkPeer(step: Step): void {
  const connection = authConnection(step);
  const inner = peerPayloads(step);
  const idType = step.ctx.role === 'initiator' ? PayloadType.IDr : PayloadType.IDi;
  const id = inner.find((p): p is IdPayload => p.type === idType);
  if (connection === undefined || id === undefined) {
    refuse(step, "no connection to check the peer's certificate against");
    return;
  }
  step.checkPeerCertificates(connection.name, certificatesOf(inner), identityOf(id));
}

/**
 * PEER_CERTIFICATES_CHECKED in `checkingPeer`: the key of the peer's certificate, to check its
 * AUTH with; or, when the certificate is refused (or its key is not of the policy's type), the
 * refusal made (the initiator tells the responder, the responder answers AUTHENTICATION_FAILED,
 * 2.21.2) and undefined.
 */
export function checkedPeer(step: Step, event: Answer<'PEER_CERTIFICATES_CHECKED'>): { readonly connection: ConnectionConfig; readonly peer: PeerCredential; readonly inner: readonly Payload[] } | undefined {
  const connection = authConnection(step);
  if (connection === undefined) {
    refuse(step, `connection ${step.ctx.connection ?? '?'} is not configured`);
    return undefined;
  }
  const verdict = event.verdict;
  const refusePeer = (reason: string): undefined => {
    const text = `the peer's certificate is refused for connection ${connection.name}: ${reason}`;
    if (step.ctx.role === 'responder') refuse(step, text, 'peer');
    else rejectResponder(step, text);
    return undefined;
  };
  if (!verdict.ok) return refusePeer(verdict.reason);
  const publicKey = createPublicKey({ key: verdict.publicKey, format: 'der', type: 'spki' });
  const problem = keyTypeProblem(connection, publicKey, `the peer's certificate "${verdict.subject}"`);
  if (problem !== undefined) return refusePeer(problem);
  step.info({ certificate: verdict.subject, chain: verdict.chain }, "the peer's certificate checked out");
  return { connection, peer: { kind: 'certificate', publicKey, subject: verdict.subject }, inner: peerPayloads(step) };
}

/**
 * The initiator cannot authenticate the responder: it tells the responder, which considers the
 * IKE SA established, in an INFORMATIONAL with AUTHENTICATION_FAILED (RFC 7296 2.21.2), and fails.
 */
export function rejectResponder(step: Step, reason: string): void {
  const ctx = step.ctx;
  const sa = ctx.security!;
  const bytes = sealMessage(sa, headerFor(sa, ExchangeType.INFORMATIONAL, ctx.nextRequestId, false), [errorNotify(NotifyType.AUTHENTICATION_FAILED)], step.ports.registry, step.ports.random);
  step.send([bytes]);
  failNegotiation(step, reason, 'AUTHENTICATION_FAILED');
}
