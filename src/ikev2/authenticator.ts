/**
 * Authenticators (RFC 7296 2.15): what builds our AUTH payload and checks the peer's, whichever
 * the method. Both sides compute the same octets:
 *
 *     InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
 *     ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
 *
 * and then either MAC them with the preshared key (method 2, psk-auth.ts) or sign them with the
 * private key of a certificate (methods 1, 9-11 and 14, signature-auth.ts). As in strongSwan's
 * authenticator dispatch (a psk and a pubkey authenticator behind one interface), the exchanges
 * hold a description of each side's credential and call these two functions; they never branch
 * on the method themselves.
 *
 * A signature is made before the message is built: the private key stays with the signing port
 * (the `sign` effect), so the machines and a record never hold it, and a replay needs none.
 * The peer's public key comes from its certificate once the chain is checked (the
 * `check-peer-certificates` effect).
 */
import type { KeyObject } from 'node:crypto';
import { pskAuth, signedOctets, verifyPskAuth } from '../crypto/psk-auth.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import { describeScheme } from '../pki/signature-algorithm.js';
import { err, ok, type Result } from '../result.js';
import { AuthMethod, CertEncoding, authPayload, certPayload, nameOf, type AuthPayload, type CertPayload, type IdPayload } from '../wire/index.js';
import { ikeTransformsOf, type IkeSaSecurity } from './ike-sa-session.js';
import { signatureAuthData, verifySignatureAuth, type SignatureChoice } from './signature-auth.js';

/** Whose AUTH, over which messages (RFC 7296 2.15). */
export interface AuthOctetsInput {
  readonly sa: IkeSaSecurity;
  readonly registry: CryptoRegistry;
  /** RealMessage1 (for the initiator's AUTH) or RealMessage2 (the responder's). */
  readonly realMessage: Buffer;
  /** The nonce of the other side of the AUTH's author. */
  readonly peerNonce: Buffer;
  readonly id: Pick<IdPayload, 'idType' | 'data' | 'reserved'>;
  /** Whose AUTH: selects SK_pi or SK_pr. */
  readonly author: 'initiator' | 'responder';
}

/** RestOfInitIDPayload / RestOfRespIDPayload (2.15): ID Type, three RESERVED octets, data. */
export function idPayloadBody(id: Pick<IdPayload, 'idType' | 'data' | 'reserved'>): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt8(id.idType, 0);
  head.writeUIntBE(id.reserved ?? 0, 1, 3);
  return Buffer.concat([head, id.data]);
}

/** InitiatorSignedOctets or ResponderSignedOctets. */
export function authOctets(input: AuthOctetsInput): Buffer {
  const { prf } = ikeTransformsOf(input.sa.transforms, input.registry);
  return signedOctets({
    realMessage: input.realMessage,
    peerNonce: input.peerNonce,
    prf,
    SK_p: input.author === 'initiator' ? input.sa.keys.SK_pi : input.sa.keys.SK_pr,
    idPayloadBody: idPayloadBody(input.id),
  });
}

/** How we authenticate ourselves in this IKE_AUTH. */
export type OwnCredential =
  | { readonly kind: 'psk'; readonly psk: Buffer }
  /** `signature` was made over our octets (the `sign` effect); `certificates` are the CERT payloads' DER. */
  | { readonly kind: 'signature'; readonly choice: SignatureChoice; readonly signature: Buffer; readonly certificates: readonly Buffer[] };

/** What the peer must prove. */
export type PeerCredential =
  | { readonly kind: 'psk'; readonly psk: Buffer }
  /** The key of the peer's certificate, its chain checked; `subject` names it in logs. */
  | { readonly kind: 'certificate'; readonly publicKey: KeyObject; readonly subject: string };

/** For logs and refusals: 'PSK', or the signature method. */
export function describeOwnCredential(own: OwnCredential): string {
  return own.kind === 'psk' ? 'PSK' : `${describeScheme(own.choice.scheme)} (AUTH method ${nameOf(AuthMethod, own.choice.method)})`;
}

export function describePeerCredential(peer: PeerCredential): string {
  return peer.kind === 'psk' ? 'PSK' : `certificate "${peer.subject}"`;
}

/**
 * Our CERT payloads (X.509 Certificate - Signature, RFC 7296 3.6: end entity first) and AUTH
 * payload, in the order they go into the message.
 */
export function ownAuthPayloads(own: OwnCredential, octets: Buffer, registry: CryptoRegistry, sa: IkeSaSecurity): Result<{ readonly certs: CertPayload[]; readonly auth: AuthPayload }, string> {
  switch (own.kind) {
    case 'psk': {
      const { prf } = ikeTransformsOf(sa.transforms, registry);
      return ok({ certs: [], auth: authPayload(AuthMethod.SHARED_KEY_MIC, pskAuth(prf, own.psk, octets)) });
    }
    case 'signature': {
      const data = signatureAuthData(own.choice, own.signature);
      if (!data.ok) return data;
      return ok({ certs: own.certificates.map((der) => certPayload(CertEncoding.X509_SIGNATURE, der)), auth: authPayload(own.choice.method, data.value) });
    }
  }
}

/** Checks the peer's AUTH over its octets: what it proved with (for the log), or why not. */
export function verifyPeerAuth(peer: PeerCredential, auth: AuthPayload, octets: Buffer, registry: CryptoRegistry, sa: IkeSaSecurity): Result<string, string> {
  switch (peer.kind) {
    case 'psk': {
      if (auth.method !== AuthMethod.SHARED_KEY_MIC) return err(`used AUTH method ${nameOf(AuthMethod, auth.method)}, but a preshared key (PSK) is configured`);
      const { prf } = ikeTransformsOf(sa.transforms, registry);
      return verifyPskAuth(prf, peer.psk, octets, auth.data) ? ok('PSK') : err('its AUTH does not verify: wrong preshared key?');
    }
    case 'certificate': {
      if (auth.method === AuthMethod.SHARED_KEY_MIC) return err('used a preshared key (AUTH method SHARED_KEY_MIC), but signatures with certificates (pubkey) are configured');
      const verified = verifySignatureAuth(auth, peer.publicKey, octets);
      if (!verified.ok) return err(`its AUTH does not verify: ${verified.error}`);
      return ok(`${describeScheme(verified.value)} (AUTH method ${nameOf(AuthMethod, auth.method)}) with ${describePeerCredential(peer)}`);
    }
  }
}
