/**
 * MODP Diffie-Hellman groups (RFC 2409 6.2, RFC 3526) on OpenSSL's DH through node:crypto.
 *
 * The private exponent comes only from the injected RandomPort, so a recorded draw reproduces
 * the key pair. Node's `setPrivateKey` + `generateKeys` computes
 * g^x mod p from the exponent that was set (checked against BigInt arithmetic when this module
 * was written, and pinned by the determinism tests).
 */
import { createDiffieHellman, type DiffieHellman } from 'node:crypto';
import { DhId } from '../../wire/iana.js';
import { redacted, type Redacted } from '../redacted.js';
import type { DhGroup, DhKeyPair, KeyExchangeFailure, RandomPort } from '../types.js';
import { MODP_1024_PRIME, MODP_1536_PRIME, MODP_2048_PRIME, MODP_3072_PRIME, MODP_4096_PRIME } from './modp-primes.js';

/** All RFC 2409 / RFC 3526 groups use the generator 2. */
const GENERATOR = Buffer.from([2]);

/** A MODP group with its extra entry point for a fixed exponent (tests, replay tooling). */
export interface ModpGroup extends DhGroup {
  /** Length of the private exponent drawn from the RandomPort, in octets. */
  readonly exponentLength: number;
  /** The key pair for a given exponent; throws RangeError if it is 0 or 1 (public value 1 or 2 would follow, or a refused one). */
  keyPairFromPrivate(exponent: Uint8Array): DhKeyPair & Redacted;
}

interface ModpSpec {
  readonly id: DhId;
  readonly name: string;
  readonly primeHex: string;
  readonly exponentBits: number;
  readonly legacy: boolean;
}

type SharedSecretResult =
  | { readonly ok: true; readonly value: Buffer }
  | { readonly ok: false; readonly error: KeyExchangeFailure };

/** True when the big-endian integer is 0 or 1. */
function isZeroOrOne(value: Uint8Array): boolean {
  const last = value.length - 1;
  for (let i = 0; i < last; i++) {
    if (value[i] !== 0) {
      return false;
    }
  }
  return last < 0 || (value[last] as number) <= 1;
}

/** Left-pads with zeros to `length` octets (RFC 7296 3.4: KE data is exactly the prime's length). */
function leftPad(value: Buffer, length: number): Buffer {
  if (value.length === length) {
    return value;
  }
  const out = Buffer.alloc(length);
  value.copy(out, length - value.length);
  return out;
}

function modpGroup(spec: ModpSpec): ModpGroup {
  const prime = Buffer.from(spec.primeHex, 'hex');
  const primeLength = prime.length;
  // p - 1: a safe prime ends in ...FFFFFFFF, so subtracting 1 only touches the last octet.
  const primeMinusOne = Buffer.from(prime);
  primeMinusOne[primeLength - 1] = (prime[primeLength - 1] as number) - 1;
  const exponentLength = Math.ceil(spec.exponentBits / 8);

  // One OpenSSL DH context per group, created on first use and reused: JavaScript runs each
  // call to completion, so setting the private key and using it cannot interleave.
  let context: DiffieHellman | undefined;
  function dh(): DiffieHellman {
    context ??= createDiffieHellman(prime, GENERATOR);
    return context;
  }

  function keyPairFromPrivate(exponent: Uint8Array): DhKeyPair & Redacted {
    if (isZeroOrOne(exponent)) {
      throw new RangeError(`${spec.name}: the private exponent must be at least 2`);
    }
    const ctx = dh();
    ctx.setPrivateKey(exponent);
    ctx.generateKeys();
    return redacted<DhKeyPair>({
      group: spec.id,
      privateKey: Buffer.from(exponent),
      publicValue: leftPad(ctx.getPublicKey(), primeLength),
    });
  }

  return Object.freeze({
    id: spec.id,
    name: spec.name,
    publicValueLength: primeLength,
    sharedSecretLength: primeLength,
    legacy: spec.legacy,
    exponentLength,
    keyPairFromPrivate,
    generateKeyPair(random: RandomPort): DhKeyPair & Redacted {
      // An exponent of 0 or 1 (probability 2^-(8*exponentLength-1)) is drawn again rather than
      // adjusted, so every key pair is still a pure function of the recorded draws.
      for (;;) {
        const exponent = random(exponentLength);
        if (exponent.length !== exponentLength) {
          throw new RangeError(`RandomPort returned ${exponent.length} octets, ${exponentLength} requested`);
        }
        if (!isZeroOrOne(exponent)) {
          return keyPairFromPrivate(exponent);
        }
      }
    },
    computeSharedSecret(own: DhKeyPair, peerPublicValue: Uint8Array): SharedSecretResult {
      if (own.group !== spec.id) {
        throw new RangeError(`key pair of group ${own.group} used with ${spec.name}`);
      }
      if (peerPublicValue.length !== primeLength) {
        return { ok: false, error: { kind: 'bad-length', expected: primeLength, actual: peerPublicValue.length } };
      }
      // RFC 6989 2.1 / 2.2: for these safe-prime groups, checking 1 < y < p-1 is the whole test
      // (it excludes the order-1 and order-2 elements; every other element has a large order).
      if (isZeroOrOne(peerPublicValue) || Buffer.compare(peerPublicValue, primeMinusOne) >= 0) {
        return { ok: false, error: { kind: 'out-of-range' } };
      }
      const ctx = dh();
      ctx.setPrivateKey(own.privateKey);
      let secret: Buffer;
      try {
        secret = ctx.computeSecret(peerPublicValue);
      } catch {
        // OpenSSL runs its own DH_check_pub_key; anything it refuses is out of range too.
        return { ok: false, error: { kind: 'out-of-range' } };
      }
      // RFC 7296 2.14: g^ir is represented with leading zeros to the prime's length.
      return { ok: true, value: leftPad(secret, primeLength) };
    },
  });
}

/*
 * Private exponent sizes: the "Strength Estimate 2" exponent column of RFC 3526 section 8
 * (the larger of its two estimates), i.e. twice the estimated strength of the group, which is
 * also the NIST SP 800-56A rule of at least 2*s bits of exponent for strength s. Group 2 is not
 * in that table; its 1024-bit modulus gives about 80 bits (NIST SP 800-57), so 160 bits.
 * A short exponent makes g^x about as costly as the exponent is long, so this is several times
 * faster than a full-length exponent while keeping the group as the weakest link.
 */

/** RFC 2409 6.2, legacy: only offered with allowLegacyGroups. */
export const modp1024 = modpGroup({ id: DhId.MODP_1024, name: 'MODP_1024', primeHex: MODP_1024_PRIME, exponentBits: 160, legacy: true });
/** RFC 3526 section 2, legacy: only offered with allowLegacyGroups. */
export const modp1536 = modpGroup({ id: DhId.MODP_1536, name: 'MODP_1536', primeHex: MODP_1536_PRIME, exponentBits: 240, legacy: true });
/** RFC 3526 section 3. */
export const modp2048 = modpGroup({ id: DhId.MODP_2048, name: 'MODP_2048', primeHex: MODP_2048_PRIME, exponentBits: 320, legacy: false });
/** RFC 3526 section 4. */
export const modp3072 = modpGroup({ id: DhId.MODP_3072, name: 'MODP_3072', primeHex: MODP_3072_PRIME, exponentBits: 420, legacy: false });
/** RFC 3526 section 5. */
export const modp4096 = modpGroup({ id: DhId.MODP_4096, name: 'MODP_4096', primeHex: MODP_4096_PRIME, exponentBits: 480, legacy: false });
