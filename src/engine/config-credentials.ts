/**
 * The credential port over the running configuration (engine-ports.ts CredentialPort): a
 * connection's private key signs its AUTH octets, and a peer's certificates are checked against
 * the connection's trust anchors and CRLs. Both are looked up by name when asked, so a reload's
 * new certificates and keys apply to the next negotiation.
 *
 * Both run after the step that asked (a promise, answered as an event like the kernel's): the
 * machines see them as the asynchronous steps they are, and a slower store (a CRL fetched, a key
 * in a token) changes nothing above this port.
 */
import type { KeyObject } from 'node:crypto';
import type { ConfigSource } from '../../machines/ports.js';
import { checkPeerCertificates } from '../ikev2/peer-certificates.js';
import { signData, type SignatureScheme } from '../pki/signature-algorithm.js';
import type { CredentialPort } from './engine-ports.js';

/** Makes a signature with a key: here (signData), or in worker threads (signing-workers.ts). */
export type Signer = (scheme: SignatureScheme, key: KeyObject, data: Buffer) => Promise<Buffer>;

const signHere: Signer = async (scheme, key, data) => signData(scheme, key, data);

export function configCredentials(config: ConfigSource, signer: Signer = signHere): CredentialPort {
  return {
    sign: async (name, scheme, octets) => {
      const key = config.connection(name)?.local.privateKey?.key;
      if (key === undefined) throw new Error(`connection ${name} has no private key`);
      return signer(scheme, key, octets);
    },
    checkPeerCertificates: async (name, certificates, peerId, atMs) => {
      const trust = config.connection(name)?.remote.trust;
      if (trust === undefined) return { ok: false, reason: `connection ${name} has no CA to check the peer's certificate against` };
      return checkPeerCertificates(trust, certificates, peerId, atMs);
    },
  };
}
