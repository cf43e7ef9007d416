import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pskAuthVectors, runPskAuthVector } from '../../src/crypto/known-answers/derivation.js';
import { KEY_PAD_FOR_IKEV2, pskAuth, signedOctets, verifyPskAuth } from '../../src/crypto/psk-auth.js';
import { PrfId } from '../../src/wire/iana.js';
import { createCryptoRegistry } from '../../src/crypto/registry.js';
import type { PrfTransform } from '../../src/crypto/types.js';
import { HMAC_PRF_HASHES, type HmacPrfName } from './independent/ikev2-kdf.js';

const registry = createCryptoRegistry();
function prfById(id: PrfId): PrfTransform {
  const prf = registry.prf(id);
  if (prf === undefined) throw new Error(`registry has no PRF ${id}`);
  return prf;
}
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** RFC 7296 2.15, computed directly with HMAC: no PrfTransform, no ikekm code. */
function independentAuth(
  hash: string,
  psk: Buffer,
  realMessage: Buffer,
  peerNonce: Buffer,
  SK_p: Buffer,
  idBody: Buffer,
): Buffer {
  const macedId = createHmac(hash, SK_p).update(idBody).digest();
  const keyPad = createHmac(hash, psk).update('Key Pad for IKEv2', 'ascii').digest();
  return createHmac(hash, keyPad).update(realMessage).update(peerNonce).update(macedId).digest();
}

describe('shared-key AUTH (RFC 7296 2.15)', () => {
  it('"Key Pad for IKEv2" is the 17 ASCII octets, no NUL', () => {
    expect(KEY_PAD_FOR_IKEV2.length).toBe(17);
    expect(KEY_PAD_FOR_IKEV2).toEqual(Buffer.from([0x4b, 0x65, 0x79, 0x20, 0x50, 0x61, 0x64, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x49, 0x4b, 0x45, 0x76, 0x32]));
  });

  it('matches the AUTH of a captured IKE_AUTH request (AOSP IkeAuthPskPayloadTest, HMAC-SHA1, PSK "juniper123")', () => {
    const v = pskAuthVectors[0]!;
    expect(hex(v.sharedSecret).toString('ascii')).toBe('juniper123');
    expect(runPskAuthVector(prfById(PrfId.PRF_HMAC_SHA1), v)).toEqual({ ok: true });
    const sha1 = prfById(PrfId.PRF_HMAC_SHA1);
    const octets = signedOctets({
      realMessage: hex(v.realMessage),
      peerNonce: hex(v.peerNonce),
      prf: sha1,
      SK_p: hex(v.SK_p),
      idPayloadBody: hex(v.idPayloadBody),
    });
    // InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
    expect(octets).toEqual(
      Buffer.concat([hex(v.realMessage), hex(v.peerNonce), createHmac('sha1', hex(v.SK_p)).update(hex(v.idPayloadBody)).digest()]),
    );
    expect(
      independentAuth('sha1', hex(v.sharedSecret), hex(v.realMessage), hex(v.peerNonce), hex(v.SK_p), hex(v.idPayloadBody)).toString('hex'),
    ).toBe(v.auth);
    // As in the AOSP test: a changed nonce must not verify.
    const nonce = hex(v.peerNonce);
    nonce[0]! += 1;
    const wrong = signedOctets({ realMessage: hex(v.realMessage), peerNonce: nonce, prf: sha1, SK_p: hex(v.SK_p), idPayloadBody: hex(v.idPayloadBody) });
    expect(verifyPskAuth(sha1, hex(v.sharedSecret), wrong, hex(v.auth))).toBe(false);
  });

  it('agrees with the formula computed independently, for every HMAC PRF and random inputs', () => {
    const names = Object.keys(HMAC_PRF_HASHES) as HmacPrfName[];
    const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u));
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        bytes(1, 128),
        bytes(28, 600),
        bytes(16, 256),
        bytes(16, 64),
        bytes(4, 300),
        (name, psk, message, nonce, SK_p, idBody) => {
          const prf = prfById(PrfId[name]);
          const octets = signedOctets({ realMessage: message, peerNonce: nonce, prf, SK_p, idPayloadBody: idBody });
          const expected = independentAuth(HMAC_PRF_HASHES[name].hash, psk, message, nonce, SK_p, idBody);
          expect(pskAuth(prf, psk, octets)).toEqual(expected);
          expect(verifyPskAuth(prf, psk, octets, expected)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('verification is false, never an exception, for a flipped bit, a wrong length or an empty value', () => {
    const prf = prfById(PrfId.PRF_HMAC_SHA2_256);
    const psk = Buffer.from('a shared secret of some length');
    const octets = Buffer.from('signed octets');
    const good = pskAuth(prf, psk, octets);
    expect(verifyPskAuth(prf, psk, octets, good)).toBe(true);
    for (let i = 0; i < good.length * 8; i++) {
      const bad = Buffer.from(good);
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(verifyPskAuth(prf, psk, octets, bad)).toBe(false);
    }
    expect(verifyPskAuth(prf, psk, octets, good.subarray(0, 31))).toBe(false);
    expect(verifyPskAuth(prf, psk, octets, Buffer.concat([good, Buffer.of(0)]))).toBe(false);
    expect(verifyPskAuth(prf, psk, octets, Buffer.alloc(0))).toBe(false);
    expect(verifyPskAuth(prf, Buffer.from('another secret'), octets, good)).toBe(false);
  });

  it("initiator and responder octets differ and each side verifies the other's AUTH", () => {
    const prf = prfById(PrfId.PRF_HMAC_SHA2_512);
    const psk = Buffer.from('psk');
    const SK_pi = Buffer.alloc(64, 1);
    const SK_pr = Buffer.alloc(64, 2);
    const message1 = Buffer.alloc(300, 3);
    const message2 = Buffer.alloc(280, 4);
    const Ni = Buffer.alloc(32, 5);
    const Nr = Buffer.alloc(32, 6);
    const IDi = Buffer.from('02000000' + Buffer.from('alice.example.org').toString('hex'), 'hex'); // ID_FQDN
    const IDr = Buffer.from('01000000c0000201', 'hex'); // ID_IPV4_ADDR 192.0.2.1
    const initiatorOctets = signedOctets({ realMessage: message1, peerNonce: Nr, prf, SK_p: SK_pi, idPayloadBody: IDi });
    const responderOctets = signedOctets({ realMessage: message2, peerNonce: Ni, prf, SK_p: SK_pr, idPayloadBody: IDr });
    const authI = pskAuth(prf, psk, initiatorOctets);
    const authR = pskAuth(prf, psk, responderOctets);
    expect(authI).not.toEqual(authR);
    expect(verifyPskAuth(prf, psk, initiatorOctets, authI)).toBe(true);
    expect(verifyPskAuth(prf, psk, responderOctets, authR)).toBe(true);
    expect(verifyPskAuth(prf, psk, responderOctets, authI)).toBe(false);
  });
});
