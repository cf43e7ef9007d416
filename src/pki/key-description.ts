/**
 * How keys are named in messages, `ikekm pki` and logs: as strongSwan and RFC 4754 / RFC 7427
 * name them (`RSA-2048`, `ECDSA P-256`, `Ed25519`), for public and private KeyObjects alike.
 */
import type { KeyObject } from 'node:crypto';
import type { HashName } from './signature-algorithm.js';

/** The NIST curves IKE signs on (RFC 4754 7, RFC 7427), by OpenSSL's names for them. */
export type NistCurve = 'P-256' | 'P-384' | 'P-521';
const NIST_CURVES: Readonly<Record<string, NistCurve>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** The hash of each curve's strength, what ECDSA signs with on it (RFC 5480 4, RFC 4754 7). */
export const NIST_CURVE_HASHES: Readonly<Record<NistCurve, HashName>> = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' };

/** The key's NIST curve; undefined for another curve or a key that is not EC. */
export function nistCurveOf(key: KeyObject): NistCurve | undefined {
  const named = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  return named === undefined ? undefined : NIST_CURVES[named];
}

/** `RSA-2048`, `RSA-PSS-3072`, `ECDSA P-256` (or `ECDSA <OpenSSL's curve name>`), `Ed25519`, else the key type. */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return `RSA-${details?.modulusLength ?? '?'}`;
    case 'rsa-pss':
      return `RSA-PSS-${details?.modulusLength ?? '?'}`;
    case 'ec':
      return `ECDSA ${nistCurveOf(key) ?? details?.namedCurve ?? '?'}`;
    case 'ed25519':
      return 'Ed25519';
    default:
      return key.asymmetricKeyType?.toUpperCase() ?? 'unknown key';
  }
}
