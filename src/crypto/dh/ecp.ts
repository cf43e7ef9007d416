/**
 * ECP Diffie-Hellman groups 19, 20 and 21 (RFC 5903: NIST P-256, P-384, P-521) on OpenSSL's
 * ECDH through node:crypto.
 *
 * Wire format (RFC 5903 section 7): the KE payload carries x || y, each coordinate as a
 * fixed-length big-endian integer of the field size, without SEC 1's 0x04 prefix; the shared
 * secret is the x coordinate of the common point alone.
 */
import { createECDH, type ECDH } from 'node:crypto';
import { DhId } from '../../wire/iana.js';
import { redacted, type Redacted } from '../redacted.js';
import type { DhGroup, DhKeyPair, KeyExchangeFailure, RandomPort } from '../types.js';

/** An ECP group with its extra entry point for a fixed scalar (RFC 5903 section 8 vectors, replay tooling). */
export interface EcpGroup extends DhGroup {
  /** The key pair for a given scalar d, 1 <= d <= n-1, as a field-size big-endian integer; throws RangeError otherwise. */
  keyPairFromPrivate(scalar: Uint8Array): DhKeyPair & Redacted;
}

interface EcpSpec {
  readonly id: DhId;
  readonly name: string;
  /** OpenSSL curve name. */
  readonly curve: string;
  /** Octets of one coordinate (and of the scalar): ceil(field bits / 8). */
  readonly fieldLength: number;
  /** Field prime p, hex (FIPS 186-4 D.1.2). */
  readonly pHex: string;
  /** Group order n, hex (FIPS 186-4 D.1.2). */
  readonly nHex: string;
}

type SharedSecretResult =
  | { readonly ok: true; readonly value: Buffer }
  | { readonly ok: false; readonly error: KeyExchangeFailure };

/**
 * Extra random octets drawn beyond the order's length: FIPS 186-4 B.4.1 ("key pair generation
 * using extra random bits") draws 64 more bits than n has, which makes the bias of the modular
 * reduction below 2^-64.
 */
const EXTRA_RANDOM_OCTETS = 8;

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`);
}

function toFixedBuffer(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

function ecpGroup(spec: EcpSpec): EcpGroup {
  const { fieldLength } = spec;
  const p = Buffer.from(spec.pHex, 'hex');
  const n = BigInt(`0x${spec.nHex}`);
  const nLength = Math.ceil(spec.nHex.length / 2);
  const publicValueLength = 2 * fieldLength;

  /*
   * The OpenSSL context that holds a key pair's scalar, kept per key pair so computing the shared
   * secret does not repeat the scalar multiplication that setPrivateKey performs. The pair handed
   * out is already redacted, so callers keep this very object and the lookup hits. A WeakMap lets
   * the context go with the key pair; a key pair rebuilt elsewhere (replay) gets a new context.
   */
  const contexts = new WeakMap<DhKeyPair, ECDH>();

  function contextFor(scalar: Uint8Array): ECDH {
    const ecdh = createECDH(spec.curve);
    ecdh.setPrivateKey(scalar);
    return ecdh;
  }

  function keyPairFromPrivate(scalar: Uint8Array): DhKeyPair & Redacted {
    if (scalar.length !== nLength) {
      throw new RangeError(`${spec.name}: the scalar must be ${nLength} octets, got ${scalar.length}`);
    }
    const d = toBigInt(scalar);
    if (d < 1n || d >= n) {
      throw new RangeError(`${spec.name}: the scalar must be in [1, n-1]`);
    }
    const ecdh = contextFor(scalar);
    // getPublicKey() is the SEC 1 uncompressed point 0x04 || x || y; RFC 5903 section 7 drops the 0x04.
    const uncompressed = ecdh.getPublicKey();
    const keyPair = redacted<DhKeyPair>({
      group: spec.id,
      privateKey: Buffer.from(scalar),
      publicValue: Buffer.from(uncompressed.subarray(1)),
    });
    contexts.set(keyPair, ecdh);
    return keyPair;
  }

  return Object.freeze({
    id: spec.id,
    name: spec.name,
    publicValueLength,
    sharedSecretLength: fieldLength,
    legacy: false,
    keyPairFromPrivate,
    generateKeyPair(random: RandomPort): DhKeyPair & Redacted {
      // FIPS 186-4 B.4.1: c from len(n) + 64 random bits, d = (c mod (n-1)) + 1, so d is in
      // [1, n-1] with negligible bias and no rejection loop. Tests reach an exact scalar d through
      // keyPairFromPrivate (or by feeding c = d - 1).
      const drawLength = nLength + EXTRA_RANDOM_OCTETS;
      const c = random(drawLength);
      if (c.length !== drawLength) {
        throw new RangeError(`RandomPort returned ${c.length} octets, ${drawLength} requested`);
      }
      const d = (toBigInt(c) % (n - 1n)) + 1n;
      return keyPairFromPrivate(toFixedBuffer(d, nLength));
    },
    computeSharedSecret(own: DhKeyPair, peerPublicValue: Uint8Array): SharedSecretResult {
      if (own.group !== spec.id) {
        throw new RangeError(`key pair of group ${own.group} used with ${spec.name}`);
      }
      if (peerPublicValue.length !== publicValueLength) {
        return { ok: false, error: { kind: 'bad-length', expected: publicValueLength, actual: peerPublicValue.length } };
      }
      // RFC 6989 2.3: both coordinates must be field elements (< p). OpenSSL checks this too; the
      // explicit test keeps the refusal independent of its internals.
      const x = peerPublicValue.subarray(0, fieldLength);
      const y = peerPublicValue.subarray(fieldLength);
      if (Buffer.compare(x, p) >= 0 || Buffer.compare(y, p) >= 0) {
        return { ok: false, error: { kind: 'not-on-curve' } };
      }
      const uncompressed = Buffer.allocUnsafe(1 + publicValueLength);
      uncompressed[0] = 0x04;
      uncompressed.set(peerPublicValue, 1);
      let ecdh = contexts.get(own);
      if (ecdh === undefined) {
        ecdh = contextFor(own.privateKey);
        contexts.set(own, ecdh);
      }
      let secret: Buffer;
      try {
        // OpenSSL refuses a point that is not on the curve (RFC 6989 2.3); the point at infinity
        // has no x || y encoding, and (0, 0) is not on these curves, so it is refused the same way.
        secret = ecdh.computeSecret(uncompressed);
      } catch {
        return { ok: false, error: { kind: 'not-on-curve' } };
      }
      // RFC 5903 section 7: the secret is x of the common point, fixed length (OpenSSL already pads).
      if (secret.length !== fieldLength) {
        const padded = Buffer.alloc(fieldLength);
        secret.copy(padded, fieldLength - secret.length);
        secret = padded;
      }
      return { ok: true, value: secret };
    },
  });
}

/** RFC 5903 section 3.1: 256-bit random ECP group (NIST P-256). */
export const ecp256 = ecpGroup({
  id: DhId.ECP_256,
  name: 'ECP_256',
  curve: 'prime256v1',
  fieldLength: 32,
  pHex: 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
  nHex: 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
});

/** RFC 5903 section 3.2: 384-bit random ECP group (NIST P-384). */
export const ecp384 = ecpGroup({
  id: DhId.ECP_384,
  name: 'ECP_384',
  curve: 'secp384r1',
  fieldLength: 48,
  pHex: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff',
  nHex: 'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
});

/** RFC 5903 section 3.3: 521-bit random ECP group (NIST P-521); 66-octet coordinates. */
export const ecp521 = ecpGroup({
  id: DhId.ECP_521,
  name: 'ECP_521',
  curve: 'secp521r1',
  fieldLength: 66,
  pHex: '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  nHex: '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
});
