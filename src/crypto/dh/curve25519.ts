/**
 * Curve25519 key exchange for IKEv2 (RFC 8031, group 31) with X25519 of RFC 7748, on OpenSSL
 * through node:crypto KeyObjects.
 *
 * The private key is 32 random octets used as-is: clamping is part of the X25519 function itself
 * (RFC 7748 section 5), so it is not applied here. The KE payload carries the 32-octet
 * u-coordinate (RFC 8031 section 2), and so does the shared secret.
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { DhId } from '../../wire/iana.js';
import { redacted, type Redacted } from '../redacted.js';
import type { DhGroup, DhKeyPair, KeyExchangeFailure, RandomPort } from '../types.js';

/** A Curve25519 group with its extra entry point for a fixed private key (RFC 7748 6.1 vectors, replay tooling). */
export interface Curve25519Group extends DhGroup {
  /** The key pair for a given 32-octet private key; throws RangeError for another length. */
  keyPairFromPrivate(privateKey: Uint8Array): DhKeyPair & Redacted;
}

type SharedSecretResult =
  | { readonly ok: true; readonly value: Buffer }
  | { readonly ok: false; readonly error: KeyExchangeFailure };

const KEY_LENGTH = 32;

/*
 * Node imports an OKP JWK private key from `d` alone (OpenSSL derives the public half), but its
 * JWK validation insists on an `x` member being present. Importing the JWK is about ten times
 * faster than parsing PKCS#8 DER, so the import passes a placeholder `x` and the real public value
 * is read back from the key object; the RFC 7748 6.1 known answer checks that this yields the
 * right public value. Should a Node release start to cross-check `x`, the PKCS#8 path takes over.
 */
const PLACEHOLDER_X = Buffer.alloc(KEY_LENGTH).toString('base64url');
/** RFC 8410: PKCS#8 PrivateKeyInfo for id-X25519 (1.3.101.110), followed by the 32-octet key. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function importPrivate(privateKey: Uint8Array): KeyObject {
  const d = Buffer.from(privateKey.buffer, privateKey.byteOffset, privateKey.length).toString('base64url');
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: PLACEHOLDER_X }, format: 'jwk' });
  } catch {
    return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
  }
}

/** RFC 7748 section 6.1 / RFC 8031 2.3: an all-zero output means a small-order peer value. */
function isAllZero(value: Uint8Array): boolean {
  let acc = 0;
  for (const byte of value) {
    acc |= byte;
  }
  return acc === 0;
}

function curve25519Group(): Curve25519Group {
  /**
   * The imported KeyObject per key pair, so the shared secret needs no second import. The pair
   * handed out is already redacted, so callers keep this very object and the lookup hits.
   */
  const keyObjects = new WeakMap<DhKeyPair, KeyObject>();

  function keyPairFromPrivate(privateKey: Uint8Array): DhKeyPair & Redacted {
    if (privateKey.length !== KEY_LENGTH) {
      throw new RangeError(`CURVE25519: the private key must be ${KEY_LENGTH} octets, got ${privateKey.length}`);
    }
    const keyObject = importPrivate(privateKey);
    const x = createPublicKey(keyObject).export({ format: 'jwk' }).x;
    if (typeof x !== 'string') {
      throw new Error('CURVE25519: OpenSSL returned no public value');
    }
    const keyPair = redacted<DhKeyPair>({
      group: DhId.CURVE25519,
      privateKey: Buffer.from(privateKey),
      publicValue: Buffer.from(x, 'base64url'),
    });
    keyObjects.set(keyPair, keyObject);
    return keyPair;
  }

  return Object.freeze({
    id: DhId.CURVE25519,
    name: 'CURVE25519',
    publicValueLength: KEY_LENGTH,
    sharedSecretLength: KEY_LENGTH,
    legacy: false,
    keyPairFromPrivate,
    generateKeyPair(random: RandomPort): DhKeyPair & Redacted {
      const privateKey = random(KEY_LENGTH);
      if (privateKey.length !== KEY_LENGTH) {
        throw new RangeError(`RandomPort returned ${privateKey.length} octets, ${KEY_LENGTH} requested`);
      }
      return keyPairFromPrivate(privateKey);
    },
    computeSharedSecret(own: DhKeyPair, peerPublicValue: Uint8Array): SharedSecretResult {
      if (own.group !== DhId.CURVE25519) {
        throw new RangeError(`key pair of group ${own.group} used with CURVE25519`);
      }
      // RFC 8031 section 2: the public value is exactly 32 octets.
      if (peerPublicValue.length !== KEY_LENGTH) {
        return { ok: false, error: { kind: 'bad-length', expected: KEY_LENGTH, actual: peerPublicValue.length } };
      }
      let privateKey = keyObjects.get(own);
      if (privateKey === undefined) {
        privateKey = importPrivate(own.privateKey);
        keyObjects.set(own, privateKey);
      }
      const x = Buffer.from(peerPublicValue.buffer, peerPublicValue.byteOffset, peerPublicValue.length).toString('base64url');
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
      let secret: Buffer;
      try {
        secret = diffieHellman({ privateKey, publicKey });
      } catch {
        // Any 32 octets are a valid u-coordinate, so OpenSSL's only reason to fail the derivation
        // is its own all-zero check (RFC 7748 section 6.1).
        return { ok: false, error: { kind: 'all-zero-shared-secret' } };
      }
      // RFC 8031 2.3: the all-zero value MUST be refused; checked here too so the rule does not
      // rest on OpenSSL's behaviour.
      if (isAllZero(secret)) {
        return { ok: false, error: { kind: 'all-zero-shared-secret' } };
      }
      return { ok: true, value: secret };
    },
  });
}

/** RFC 8031: Curve25519 (X25519), IKEv2 group 31. */
export const curve25519 = curve25519Group();
