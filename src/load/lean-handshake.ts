/**
 * One IKEv2 handshake of the load generator: IKE_SA_INIT, then IKE_AUTH with the first Child SA
 * (RFC 7296 1.2), built and checked by the same exchange modules the engine uses, but without a
 * machine, timers or a kernel: the generator must outrun the responder it measures.
 *
 * It authenticates with the connection's PSK, or (`auth: pubkey`) signs with its certificate's
 * key and checks the responder's signature, as the engine does (RFC 7296 2.15, RFC 7427).
 *
 * What it does not do that a real initiator must, so a reader of its figures knows:
 * - every handshake of a run uses the same Diffie-Hellman key pair (`LeanHandshakeShared.keyPairs`);
 *   each still computes its own shared secret, so the responder's work is the same;
 * - with certificates, the responder's chain is validated once per distinct end-entity
 *   certificate in a run, not once per handshake (its signature is checked every time);
 * - it installs nothing, retransmits nothing (an unanswered request is a failure after the run's
 *   timeout) and answers no request of the responder (DPD, rekeys).
 * It sends no INITIAL_CONTACT, so a responder keeps every earlier IKE SA from the same identity.
 */
import { createPublicKey } from 'node:crypto';
import { DEFAULT_SIGNATURE_POLICY, type ConnectionConfig } from '../config/model.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import type { DhKeyPair, RandomPort } from '../crypto/types.js';
import { authOctets, describeOwnCredential, type AuthOctetsInput, type OwnCredential, type PeerCredential } from '../ikev2/authenticator.js';
import { certificatesToSend, ourCertificateRequest } from '../ikev2/exchanges/certificate-payloads.js';
import { createChildOffer, type ChildSaOffer } from '../ikev2/exchanges/child-sa-negotiation.js';
import { offeredSelectors } from '../ikev2/exchanges/connection-policy.js';
import { buildIkeAuthRequest, identifyIkeAuthResponder, initiatorIdPayload, processIkeAuthResponse } from '../ikev2/exchanges/ike-auth.js';
import { announcesSignatureHashes, buildIkeSaInitRequest, processIkeSaInitResponse, type IkeSaInitRequestInput } from '../ikev2/exchanges/ike-sa-init.js';
import { offerProposals, preferredDhGroup } from '../ikev2/exchanges/negotiation.js';
import { headerFor, openMessage, sealMessage, type IkeSaSecurity } from '../ikev2/ike-sa-session.js';
import { checkPeerCertificates } from '../ikev2/peer-certificates.js';
import { chooseSignature } from '../ikev2/signature-auth.js';
import { signData } from '../pki/signature-algorithm.js';
import type { Selector } from '../policy/traffic-selectors.js';
import type { Endpoint } from '../ports.js';
import { err, ok, type Result } from '../result.js';
import { ExchangeType } from '../wire/iana.js';
import type { Payload, Proposal } from '../wire/index.js';
import { decodeMessage } from '../wire/message.js';

/** What every handshake of one run shares: the connection, and one key pair per DH group. */
export interface LeanHandshakeShared {
  readonly connection: ConnectionConfig;
  readonly registry: CryptoRegistry;
  readonly random: RandomPort;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Offer the first Child SA in IKE_AUTH (default); without it only the IKE SA is set up. */
  readonly childSa: boolean;
  /** The reused key pairs, by group: made on first use. */
  readonly keyPairs: Map<number, DhKeyPair>;
}

/** What a handshake asks its driver to do after a step. */
export type HandshakeStep =
  | { readonly kind: 'send'; readonly bytes: Buffer }
  | { readonly kind: 'established'; readonly childSa: boolean }
  /** `reason` is short and stable, so a run can count failures by it. */
  | { readonly kind: 'failed'; readonly reason: string; readonly detail: string }
  /** Not an answer this handshake waits for (a retransmitted answer, another exchange): ignored. */
  | { readonly kind: 'ignored' };

const IKE_SA_INIT_MESSAGE_ID = 0;
const IKE_AUTH_MESSAGE_ID = 1;
/** RFC 7296 1.2 / 3.10.1: an INVALID_KE_PAYLOAD or COOKIE answer restarts IKE_SA_INIT; twice is enough. */
const MAX_INIT_RETRIES = 2;

export class LeanHandshake {
  private request: IkeSaInitRequestInput;
  private realMessage1: Buffer;
  private retries = 0;
  private security: IkeSaSecurity | undefined;
  private Nr: Buffer | undefined;
  /** The responder's IKE_SA_INIT response: its AUTH signs it (RFC 7296 2.15). */
  private realMessage2: Buffer | undefined;
  private childOffer: ChildSaOffer | undefined;
  private own: OwnCredential | undefined;

  /** Builds the IKE_SA_INIT request; send `firstRequest` to start. */
  constructor(
    private readonly shared: LeanHandshakeShared,
    readonly spiI: Buffer,
  ) {
    const { ikeOffer, group } = prepared(shared);
    this.request = {
      spiI,
      Ni: shared.random(32),
      keyPair: keyPairFor(shared, group),
      offer: ikeOffer,
      local: shared.local,
      remote: shared.remote,
      fragmentation: false,
      // RFC 7427 4: announce the hashes we accept, so the responder may sign with method 14.
      signatures: announcesSignatureHashes(shared.connection),
    };
    this.realMessage1 = buildIkeSaInitRequest(this.request);
  }

  get firstRequest(): Buffer {
    return this.realMessage1;
  }

  /** The responder's answer to our last request. */
  receive(bytes: Buffer): HandshakeStep {
    const exchange = bytes[18];
    if (this.security === undefined) {
      if (exchange !== ExchangeType.IKE_SA_INIT) return { kind: 'ignored' };
      return this.onInitResponse(bytes);
    }
    if (exchange === ExchangeType.IKE_AUTH && bytes.readUInt32BE(20) === IKE_AUTH_MESSAGE_ID) return this.onAuthResponse(bytes);
    return { kind: 'ignored' };
  }

  private onInitResponse(bytes: Buffer): HandshakeStep {
    const message = decodeMessage(bytes);
    if (!message.ok) return { kind: 'failed', reason: 'malformed IKE_SA_INIT response', detail: message.error.message };
    if (message.value.header.messageId !== IKE_SA_INIT_MESSAGE_ID || !message.value.header.flags.response) return { kind: 'ignored' };
    const outcome = processIkeSaInitResponse({
      request: this.request,
      message: message.value,
      local: this.shared.local,
      remote: this.shared.remote,
      registry: this.shared.registry,
    });
    switch (outcome.kind) {
      case 'cookie':
        return this.retry({ ...this.request, cookie: outcome.cookie }, 'COOKIE');
      case 'invalid-ke':
        return this.retry({ ...this.request, keyPair: keyPairFor(this.shared, outcome.group) }, 'INVALID_KE_PAYLOAD');
      case 'failed':
        return { kind: 'failed', reason: outcome.notify ?? 'IKE_SA_INIT refused', detail: outcome.reason };
      case 'established':
        this.realMessage2 = bytes;
        return this.sendAuth(outcome.security, outcome.Nr, outcome.peerSignatureHashes, outcome.peerCertReq);
    }
  }

  private retry(request: IkeSaInitRequestInput, why: string): HandshakeStep {
    if (++this.retries > MAX_INIT_RETRIES) return { kind: 'failed', reason: `${why} again`, detail: `the responder answered ${why} ${this.retries} times` };
    this.request = request;
    this.realMessage1 = buildIkeSaInitRequest(request);
    return { kind: 'send', bytes: this.realMessage1 };
  }

  private sendAuth(security: IkeSaSecurity, Nr: Buffer, peerHashes: readonly number[] | undefined, peerCertReq: readonly Buffer[] | undefined): HandshakeStep {
    const { connection: conn, registry, random } = this.shared;
    this.security = security;
    this.Nr = Nr;
    if (this.shared.childSa) {
      const ts = prepared(this.shared).selectors;
      this.childOffer = createChildOffer({
        sets: conn.dataPolicy.proposalSets,
        inIkeAuth: true,
        localTs: ts.local,
        remoteTs: ts.remote,
        mode: conn.dataPolicy.mode,
        registry,
        random,
      });
    }
    const own = ownCredential(conn, { sa: security, registry, realMessage: this.realMessage1, peerNonce: Nr, id: initiatorIdPayload(conn), author: 'initiator' }, peerHashes, peerCertReq);
    if (!own.ok) return { kind: 'failed', reason: 'cannot sign', detail: own.error };
    this.own = own.value;
    const inner = buildIkeAuthRequest({
      sa: security,
      registry,
      realMessage1: this.realMessage1,
      Nr,
      connection: conn,
      own: own.value,
      certReq: ourCertificateRequest(conn),
      child: this.childOffer,
      initialContact: false,
    });
    const header = headerFor(security, ExchangeType.IKE_AUTH, IKE_AUTH_MESSAGE_ID, false);
    return { kind: 'send', bytes: sealMessage(security, header, inner, registry, random) };
  }

  private onAuthResponse(bytes: Buffer): HandshakeStep {
    const security = this.security!;
    const opened = openMessage(security, bytes, this.shared.registry);
    if (!opened.ok) return { kind: 'failed', reason: 'IKE_AUTH response not opened', detail: opened.error.kind };
    if (!opened.value.message.header.flags.response) return { kind: 'ignored' };
    const conn = this.shared.connection;
    const own = this.own!;
    const peer = peerCredential(this.shared, opened.value.inner, own);
    if (peer.kind === 'failed') return peer;
    const outcome = processIkeAuthResponse({
      sa: security,
      registry: this.shared.registry,
      realMessage2: this.realMessage2!,
      Ni: this.request.Ni,
      Nr: this.Nr!,
      connection: conn,
      own,
      peer: peer.credential,
      inner: opened.value.inner,
      child: this.childOffer,
    });
    switch (outcome.kind) {
      case 'auth-failed':
        return { kind: 'failed', reason: outcome.byPeer ? 'AUTHENTICATION_FAILED' : 'responder not authenticated', detail: outcome.reason };
      case 'failed':
        return { kind: 'failed', reason: 'IKE_AUTH refused', detail: outcome.reason };
      case 'authenticated':
        if (outcome.child !== undefined && outcome.child.kind !== 'created') {
          const why = outcome.child.kind === 'refused' ? outcome.child.notify : 'Child SA not created';
          return { kind: 'failed', reason: why, detail: 'reason' in outcome.child ? outcome.child.reason : why };
        }
        return { kind: 'established', childSa: outcome.child !== undefined };
    }
  }
}

/** What every handshake of a run offers the same: computed once per run. */
interface Prepared {
  /** RFC 7296 3.3.1: the proposals of an initial IKE_SA_INIT carry no SPI. */
  readonly ikeOffer: Proposal[];
  readonly group: number;
  readonly selectors: { readonly local: readonly Selector[]; readonly remote: readonly Selector[] };
}

const preparedRuns = new WeakMap<LeanHandshakeShared, Prepared>();

function prepared(shared: LeanHandshakeShared): Prepared {
  let p = preparedRuns.get(shared);
  if (p === undefined) {
    const conn = shared.connection;
    const ikeOffer = offerProposals(conn.ikePolicy.proposalSets, 'ike', Buffer.alloc(0), shared.registry);
    const group = preferredDhGroup(ikeOffer);
    if (group === undefined) throw new RangeError(`connection ${conn.name} offers no DH group`);
    p = { ikeOffer, group, selectors: offeredSelectors(conn) };
    preparedRuns.set(shared, p);
  }
  return p;
}

/**
 * How we authenticate: the PSK, or a signature over our AUTH octets with the certificate's key
 * (RFC 7427: the scheme from the responder's announced hashes), with our chain when the
 * responder asked for it with CERTREQ or the connection always sends it (RFC 7296 3.6, 3.7).
 */
function ownCredential(conn: ConnectionConfig, octets: AuthOctetsInput, peerHashes: readonly number[] | undefined, peerCertReq: readonly Buffer[] | undefined): Result<OwnCredential, string> {
  if (conn.ikePolicy.auth === 'psk') {
    const psk = conn.local.psk;
    return psk === undefined ? err(`connection ${conn.name} has no preshared key`) : ok({ kind: 'psk', psk: psk.bytes });
  }
  const key = conn.local.privateKey?.key;
  const certificate = conn.local.certificate;
  if (key === undefined || certificate === undefined) return err(`connection ${conn.name} has no certificate and key to sign with`);
  const choice = chooseSignature(key, peerHashes, conn.ikePolicy.signature ?? DEFAULT_SIGNATURE_POLICY);
  if (!choice.ok) return choice;
  const signature = signData(choice.value.scheme, key, authOctets(octets));
  return ok({ kind: 'signature', choice: choice.value, signature, certificates: certificatesToSend(certificate, peerCertReq !== undefined, peerCertReq) });
}

/** The responder's validated certificate keys of a run, by its end-entity certificate (DER, hex). */
const checkedResponders = new WeakMap<LeanHandshakeShared, Map<string, PeerCredential>>();

/** What the responder must prove: the PSK, or the key of its certificate once its chain checked out. */
function peerCredential(shared: LeanHandshakeShared, inner: readonly Payload[], own: OwnCredential): { kind: 'ok'; credential: PeerCredential } | Extract<HandshakeStep, { kind: 'failed' }> {
  const conn = shared.connection;
  if (own.kind === 'psk') return { kind: 'ok', credential: own };
  const identified = identifyIkeAuthResponder(conn, inner, describeOwnCredential(own));
  if (identified.kind !== 'identified') {
    return { kind: 'failed', reason: identified.kind === 'auth-failed' && identified.byPeer ? 'AUTHENTICATION_FAILED' : 'IKE_AUTH refused', detail: identified.reason };
  }
  const [endEntity] = identified.certificates;
  if (endEntity === undefined) return { kind: 'failed', reason: 'responder not authenticated', detail: 'the responder sent no certificate' };
  let byCertificate = checkedResponders.get(shared);
  if (byCertificate === undefined) checkedResponders.set(shared, (byCertificate = new Map()));
  const key = endEntity.toString('hex');
  let credential = byCertificate.get(key);
  if (credential === undefined) {
    const trust = conn.remote.trust;
    if (trust === undefined) return { kind: 'failed', reason: 'responder not authenticated', detail: `connection ${conn.name} has no CA to check the responder's certificate against` };
    const verdict = checkPeerCertificates(trust, identified.certificates, identified.peerId, Date.now());
    if (!verdict.ok) return { kind: 'failed', reason: 'responder certificate refused', detail: verdict.reason };
    credential = { kind: 'certificate', publicKey: createPublicKey({ key: verdict.publicKey, format: 'der', type: 'spki' }), subject: verdict.subject };
    byCertificate.set(key, credential);
  }
  return { kind: 'ok', credential };
}

function keyPairFor(shared: LeanHandshakeShared, group: number): DhKeyPair {
  let pair = shared.keyPairs.get(group);
  if (pair === undefined) {
    const dh = shared.registry.dhGroup(group);
    if (dh === undefined) throw new RangeError(`DH group ${group} is not available`);
    pair = dh.generateKeyPair(shared.random);
    shared.keyPairs.set(group, pair);
  }
  return pair;
}
