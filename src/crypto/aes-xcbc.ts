/**
 * The AES-XCBC-MAC core of RFC 3566 section 4, shared by PRF_AES128_XCBC (RFC 4434) and
 * AUTH_AES_XCBC_96 (RFC 3566). Only AES-128 itself comes from OpenSSL (node:crypto): the
 * subkey derivation and the last-block treatment are written out here because OpenSSL has no
 * XCBC mode.
 */
import { createCipheriv } from 'node:crypto';

const BLOCK = 16;

/**
 * The constants whose encryptions under K give K1, K2 and K3 (RFC 3566 section 4, step 1):
 * 0x01 repeated 16 times, then 0x02..., then 0x03... . One 48-octet ECB call derives all three.
 */
const SUBKEY_CONSTANTS = Buffer.concat([Buffer.alloc(BLOCK, 0x01), Buffer.alloc(BLOCK, 0x02), Buffer.alloc(BLOCK, 0x03)]);

/** CBC-MAC starts from a zero block (RFC 3566 section 4, "E[0] = 0x00000000000000000000000000000000"). */
const ZERO_IV = Buffer.alloc(BLOCK);

/**
 * AES-XCBC-MAC of `message` under the 128-bit `key`: the full 128-bit value (callers truncate).
 * The key must be exactly 16 octets (RFC 3566 section 4: "K is 128 bits"); RFC 4434's handling
 * of other lengths is the PRF's business, not this function's.
 */
export function aesXcbcMac(key: Uint8Array, message: Uint8Array): Buffer {
  if (key.length !== BLOCK) {
    throw new RangeError(`AES-XCBC-MAC needs a 16-octet key, got ${key.length}`);
  }
  const subkeys = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(SUBKEY_CONSTANTS);
  const k1 = subkeys.subarray(0, BLOCK);
  const k2 = subkeys.subarray(BLOCK, 2 * BLOCK);
  const k3 = subkeys.subarray(2 * BLOCK, 3 * BLOCK);

  // Step 3 of RFC 3566 section 4: a complete last block is XORed with K2; an incomplete (or
  // absent, for the empty message) one is padded with a single 1 bit and zeros, then XORed with K3.
  const complete = message.length > 0 && message.length % BLOCK === 0;
  const blocks = complete ? message.length / BLOCK : Math.floor(message.length / BLOCK) + 1;
  const input = Buffer.alloc(blocks * BLOCK);
  input.set(message);
  if (!complete) {
    input[message.length] = 0x80;
  }
  const last = (blocks - 1) * BLOCK;
  const mask = complete ? k2 : k3;
  for (let i = 0; i < BLOCK; i++) {
    input[last + i] = (input[last + i] as number) ^ (mask[i] as number);
  }

  // CBC encryption with IV 0 under K1 chains exactly like steps 2 and 3 of the RFC; the MAC is
  // the last ciphertext block.
  const cipher = createCipheriv('aes-128-cbc', k1, ZERO_IV).setAutoPadding(false);
  const out = Buffer.concat([cipher.update(input), cipher.final()]);
  return Buffer.from(out.subarray(out.length - BLOCK));
}
