/** The default registry's transforms, grouped the way the crypto tests iterate over them. */
import { createCryptoRegistry } from '../../src/crypto/registry.js';
import type { AeadTransform, CipherTransform, PrfTransform } from '../../src/crypto/types.js';
import type { PrfId } from '../../src/wire/iana.js';

export const registry = createCryptoRegistry();
const supported = registry.supported();
export const prfs = supported.prf;
export const integrities = supported.integrity;
export const ciphers = supported.encryption.map((e) => e.transform).filter((t): t is CipherTransform => t.kind === 'cipher');
export const aeads = supported.encryption.map((e) => e.transform).filter((t): t is AeadTransform => t.kind === 'aead');

export function prfById(id: PrfId): PrfTransform {
  const prf = registry.prf(id);
  if (prf === undefined) throw new Error(`registry has no PRF ${id}`);
  return prf;
}
