import { getDiffieHellman, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { curve25519 } from '../../src/crypto/dh/curve25519.js';
import { ecp256, ecp384, ecp521, type EcpGroup } from '../../src/crypto/dh/ecp.js';
import { modp1024, modp1536, modp2048, modp3072, modp4096, type ModpGroup } from '../../src/crypto/dh/modp.js';
import {
  MODP_1024_PRIME,
  MODP_1536_PRIME,
  MODP_2048_PRIME,
  MODP_3072_PRIME,
  MODP_4096_PRIME,
} from '../../src/crypto/dh/modp-primes.js';
import type { DhGroup, DhKeyPair, RandomPort } from '../../src/crypto/types.js';

const systemRandom: RandomPort = (n) => randomBytes(n);

/** A RandomPort that replays prepared draws and records how many were taken. */
function scripted(...draws: Buffer[]): RandomPort & { readonly taken: () => number } {
  let next = 0;
  const port = (n: number): Buffer => {
    const draw = draws[next++];
    if (draw === undefined || draw.length !== n) {
      throw new Error(`unexpected draw of ${n} octets`);
    }
    return Buffer.from(draw);
  };
  return Object.assign(port, { taken: () => next });
}

function secretOf(group: DhGroup, own: DhKeyPair, peer: Uint8Array): Buffer {
  const result = group.computeSharedSecret(own, peer);
  if (!result.ok) {
    throw new Error(`refused: ${JSON.stringify(result.error)}`);
  }
  return result.value;
}

function bigIntOf(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function bytesOf(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/** floor(pi * 2^bits) by Machin's formula, pi = 16 atan(1/5) - 4 atan(1/239), in BigInt. */
function piTimesTwoTo(bits: number): bigint {
  const guard = 64n;
  const one = 1n << (BigInt(bits) + guard);
  const arctanInverse = (x: bigint): bigint => {
    let total = 0n;
    let term = one / x;
    let n = 1n;
    let sign = 1n;
    while (term !== 0n) {
      total += (sign * term) / n;
      term /= x * x;
      n += 2n;
      sign = -sign;
    }
    return total;
  };
  return (4n * (4n * arctanInverse(5n) - arctanInverse(239n))) >> guard;
}

const ALL_GROUPS: readonly DhGroup[] = [modp1024, modp1536, modp2048, modp3072, modp4096, ecp256, ecp384, ecp521, curve25519];

describe('every group', () => {
  it.each(ALL_GROUPS.map((g) => [`${g.id} ${g.name}`, g] as const))('%s: two random parties agree', (_name, group) => {
    const initiator = group.generateKeyPair(systemRandom);
    const responder = group.generateKeyPair(systemRandom);
    expect(initiator.group).toBe(group.id);
    expect(initiator.publicValue).toHaveLength(group.publicValueLength);
    expect(responder.publicValue).toHaveLength(group.publicValueLength);
    const a = secretOf(group, initiator, responder.publicValue);
    const b = secretOf(group, responder, initiator.publicValue);
    expect(a).toHaveLength(group.sharedSecretLength);
    expect(a).toEqual(b);
    expect(initiator.publicValue).not.toEqual(responder.publicValue);
  });

  it.each(ALL_GROUPS.map((g) => [`${g.id} ${g.name}`, g] as const))('%s: the same draws give the same key pair (replay)', (_name, group) => {
    const draws: Buffer[] = [];
    const recording: RandomPort = (n) => {
      const draw = randomBytes(n);
      draws.push(draw);
      return draw;
    };
    const first = group.generateKeyPair(recording);
    const replayed = group.generateKeyPair(scripted(...draws));
    expect(replayed.publicValue).toEqual(first.publicValue);
    expect(replayed.privateKey).toEqual(first.privateKey);
  });

  it.each(ALL_GROUPS.map((g) => [`${g.id} ${g.name}`, g] as const))(
    '%s: a key pair rebuilt from its fields (as a replay would) computes the same secret',
    (_name, group) => {
      const own = group.generateKeyPair(systemRandom);
      const peer = group.generateKeyPair(systemRandom);
      const rebuilt: DhKeyPair = { group: own.group, privateKey: Buffer.from(own.privateKey), publicValue: Buffer.from(own.publicValue) };
      expect(secretOf(group, rebuilt, peer.publicValue)).toEqual(secretOf(group, own, peer.publicValue));
    },
  );

  it.each(ALL_GROUPS.map((g) => [`${g.id} ${g.name}`, g] as const))('%s: refuses peer values of the wrong length', (_name, group) => {
    const own = group.generateKeyPair(systemRandom);
    const good = group.generateKeyPair(systemRandom).publicValue;
    for (const bad of [Buffer.alloc(0), good.subarray(1), Buffer.concat([Buffer.from([0]), good]), Buffer.concat([good, Buffer.from([0])])]) {
      expect(group.computeSharedSecret(own, bad)).toEqual({
        ok: false,
        error: { kind: 'bad-length', expected: group.publicValueLength, actual: bad.length },
      });
    }
  });

  it('refuses a key pair of another group (a caller bug)', () => {
    const own = ecp256.generateKeyPair(systemRandom);
    expect(() => curve25519.computeSharedSecret(own, Buffer.alloc(32, 9))).toThrow(RangeError);
    expect(() => modp2048.computeSharedSecret(own, Buffer.alloc(256, 9))).toThrow(RangeError);
  });
});

describe('MODP groups', () => {
  const modp: readonly { group: ModpGroup; hex: string; bits: number; piBits: number; offset: bigint; named: string; rfc: string }[] = [
    { group: modp1024, hex: MODP_1024_PRIME, bits: 1024, piBits: 894, offset: 129093n, named: 'modp2', rfc: 'RFC 2409 6.2' },
    { group: modp1536, hex: MODP_1536_PRIME, bits: 1536, piBits: 1406, offset: 741804n, named: 'modp5', rfc: 'RFC 3526 2' },
    { group: modp2048, hex: MODP_2048_PRIME, bits: 2048, piBits: 1918, offset: 124476n, named: 'modp14', rfc: 'RFC 3526 3' },
    { group: modp3072, hex: MODP_3072_PRIME, bits: 3072, piBits: 2942, offset: 1690314n, named: 'modp15', rfc: 'RFC 3526 4' },
    { group: modp4096, hex: MODP_4096_PRIME, bits: 4096, piBits: 3966, offset: 240904n, named: 'modp16', rfc: 'RFC 3526 5' },
  ];

  describe.each(modp.map((m) => [`${m.group.name} (${m.rfc})`, m] as const))('%s', (_title, m) => {
    const p = bigIntOf(Buffer.from(m.hex, 'hex'));
    const length = m.bits / 8;

    it('has the prime the RFC defines: 2^N - 2^(N-64) - 1 + 2^64 * ([2^k pi] + offset)', () => {
      const n = BigInt(m.bits);
      expect(p).toBe((1n << n) - (1n << (n - 64n)) - 1n + (1n << 64n) * (piTimesTwoTo(m.piBits) + m.offset));
      expect(p.toString(2)).toHaveLength(m.bits);
      expect(m.group.publicValueLength).toBe(length);
      expect(m.group.sharedSecretLength).toBe(length);
    });

    it("matches OpenSSL's copy of the same named group", () => {
      expect(getDiffieHellman(m.named).getPrime('hex')).toBe(m.hex.toLowerCase());
    });

    it('uses the generator 2 (exponent 2 gives the public value 4, left-padded)', () => {
      expect(m.group.keyPairFromPrivate(Buffer.from([2])).publicValue).toEqual(bytesOf(4n, length));
    });

    it('refuses 0, 1, p-1, p and larger values as out of range, accepts 2 and p-2', () => {
      const own = m.group.generateKeyPair(systemRandom);
      for (const bad of [0n, 1n, p - 1n, p, (1n << BigInt(m.bits)) - 1n]) {
        expect(m.group.computeSharedSecret(own, bytesOf(bad, length))).toEqual({ ok: false, error: { kind: 'out-of-range' } });
      }
      for (const good of [2n, p - 2n]) {
        expect(m.group.computeSharedSecret(own, bytesOf(good, length)).ok).toBe(true);
      }
    });
  });

  it('draws the RFC 3526 section 8 exponent sizes (strength estimate 2)', () => {
    expect(modp1024.exponentLength).toBe(20);
    expect(modp1536.exponentLength).toBe(30);
    expect(modp2048.exponentLength).toBe(40);
    expect(modp3072.exponentLength).toBe(53);
    expect(modp4096.exponentLength).toBe(60);
  });

  it('derives the private exponent from the RandomPort only', () => {
    const draw = randomBytes(modp2048.exponentLength);
    const a = modp2048.generateKeyPair(scripted(draw));
    const b = modp2048.generateKeyPair(scripted(draw));
    expect(a.privateKey).toEqual(draw);
    expect(b.publicValue).toEqual(a.publicValue);
    // g^x mod p, independently in BigInt.
    let result = 1n;
    let base = 2n;
    let exponent = bigIntOf(draw);
    const p = bigIntOf(Buffer.from(MODP_2048_PRIME, 'hex'));
    while (exponent > 0n) {
      if (exponent & 1n) result = (result * base) % p;
      base = (base * base) % p;
      exponent >>= 1n;
    }
    expect(a.publicValue).toEqual(bytesOf(result, 256));
  });

  it('draws again when the exponent would be 0 or 1', () => {
    const size = modp2048.exponentLength;
    const one = Buffer.alloc(size);
    one[size - 1] = 1;
    const good = randomBytes(size);
    const port = scripted(Buffer.alloc(size), one, good);
    expect(modp2048.generateKeyPair(port).privateKey).toEqual(good);
    expect(port.taken()).toBe(3);
    expect(() => modp2048.keyPairFromPrivate(one)).toThrow(RangeError);
  });

  it('left-pads a short shared secret to the prime length (RFC 7296 2.14)', () => {
    const own = modp2048.keyPairFromPrivate(Buffer.from([3]));
    // (2)^3 = 8: a one-octet value that must arrive as 256 octets.
    expect(secretOf(modp2048, own, bytesOf(2n, 256))).toEqual(bytesOf(8n, 256));
  });
});

describe('ECP groups', () => {
  const ecp: readonly { group: EcpGroup; n: bigint; p: bigint; length: number }[] = [
    { group: ecp256, length: 32, n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn },
    { group: ecp384, length: 48, n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n, p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn },
    {
      group: ecp521,
      length: 66,
      n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
      p: (1n << 521n) - 1n,
    },
  ];

  describe.each(ecp.map((e) => [e.group.name, e] as const))('%s', (_name, e) => {
    const { group, length } = e;
    const own = group.generateKeyPair(systemRandom);
    const peer = group.generateKeyPair(systemRandom).publicValue;

    it('carries x || y without the 0x04 prefix (RFC 5903 section 7)', () => {
      expect(group.publicValueLength).toBe(2 * length);
      expect(group.sharedSecretLength).toBe(length);
      const uncompressed = Buffer.concat([Buffer.from([4]), peer]);
      expect(group.computeSharedSecret(own, uncompressed)).toMatchObject({ ok: false, error: { kind: 'bad-length' } });
    });

    it('refuses an off-curve point, the all-zero encoding and coordinates >= p', () => {
      const notOnCurve = { ok: false, error: { kind: 'not-on-curve' } };
      expect(group.computeSharedSecret(own, Buffer.alloc(2 * length, 0xaa))).toEqual(notOnCurve);
      expect(group.computeSharedSecret(own, Buffer.alloc(2 * length))).toEqual(notOnCurve);
      // A real point with the low bit of y flipped is off the curve.
      const tweaked = Buffer.from(peer);
      tweaked[2 * length - 1] = (tweaked[2 * length - 1] as number) ^ 0x01;
      expect(group.computeSharedSecret(own, tweaked)).toEqual(notOnCurve);
      // A real point with x lifted by p (the same residue, but not a field element), where that
      // still fits the coordinate width (P-521: 521 bits in 66 octets); and x = p itself.
      const x = bigIntOf(peer.subarray(0, length));
      if (x + e.p < 1n << BigInt(8 * length)) {
        const lifted = Buffer.concat([bytesOf(x + e.p, length), peer.subarray(length)]);
        expect(group.computeSharedSecret(own, lifted)).toEqual(notOnCurve);
      }
      expect(group.computeSharedSecret(own, Buffer.concat([bytesOf(e.p, length), peer.subarray(length)]))).toEqual(notOnCurve);
    });

    it('maps the draw to d = (c mod (n-1)) + 1 with 8 extra octets (FIPS 186-4 B.4.1)', () => {
      const drawLength = length + 8;
      const d1 = group.generateKeyPair(scripted(Buffer.alloc(drawLength)));
      expect(bigIntOf(d1.privateKey)).toBe(1n);
      const top = group.generateKeyPair(scripted(bytesOf(e.n - 2n, drawLength)));
      expect(bigIntOf(top.privateKey)).toBe(e.n - 1n);
      // (n-1)G = -G: same x as G, y negated.
      expect(top.publicValue.subarray(0, length)).toEqual(d1.publicValue.subarray(0, length));
      expect(bigIntOf(top.publicValue.subarray(length)) + bigIntOf(d1.publicValue.subarray(length))).toBe(e.p);
      const wrap = group.generateKeyPair(scripted(bytesOf(e.n - 1n, drawLength)));
      expect(bigIntOf(wrap.privateKey)).toBe(1n);
      const max = group.generateKeyPair(scripted(Buffer.alloc(drawLength, 0xff)));
      expect(bigIntOf(max.privateKey)).toBe(((1n << BigInt(8 * drawLength)) - 1n) % (e.n - 1n) + 1n);
    });

    it('refuses scalars outside [1, n-1] or of the wrong length', () => {
      expect(() => group.keyPairFromPrivate(Buffer.alloc(length))).toThrow(RangeError);
      expect(() => group.keyPairFromPrivate(bytesOf(e.n, length))).toThrow(RangeError);
      expect(() => group.keyPairFromPrivate(Buffer.alloc(length - 1, 1))).toThrow(RangeError);
    });
  });

  it('gives the P-256 base point for d = 1 (FIPS 186-4 D.1.2.3 Gx, Gy)', () => {
    const g = ecp256.keyPairFromPrivate(bytesOf(1n, 32));
    expect(g.publicValue.toString('hex')).toBe(
      '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296' + '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
    );
  });
});

describe('Curve25519', () => {
  const own = curve25519.generateKeyPair(systemRandom);

  it('refuses the all-zero value and other small-order points (RFC 8031 2.3, RFC 7748 section 6.1)', () => {
    const allZero = { ok: false, error: { kind: 'all-zero-shared-secret' } };
    expect(curve25519.computeSharedSecret(own, Buffer.alloc(32))).toEqual(allZero);
    expect(curve25519.computeSharedSecret(own, bytesOf(1n, 32).reverse())).toEqual(allZero);
    // u = p - 1 = 2^255 - 20, little-endian, is of order 2 as well.
    expect(curve25519.computeSharedSecret(own, bytesOf((1n << 255n) - 20n, 32).reverse())).toEqual(allZero);
  });

  it('uses the 32 drawn octets as the private key, unclamped (X25519 clamps)', () => {
    const draw = Buffer.alloc(32, 0xff);
    const pair = curve25519.generateKeyPair(scripted(draw));
    expect(pair.privateKey).toEqual(draw);
    const clamped = Buffer.from(draw);
    clamped[0] = (clamped[0] as number) & 248;
    clamped[31] = ((clamped[31] as number) & 127) | 64;
    expect(curve25519.keyPairFromPrivate(clamped).publicValue).toEqual(pair.publicValue);
  });

  it('refuses private keys that are not 32 octets', () => {
    expect(() => curve25519.keyPairFromPrivate(Buffer.alloc(31))).toThrow(RangeError);
  });
});
