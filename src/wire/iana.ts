/**
 * IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registry values that the codec
 * and the crypto registry share. Names follow the registry (and RFC 7296 section 3) so that
 * a reader with the RFC open finds the same words here.
 *
 * Each registry is a frozen object of name → number plus a type that is the union of its
 * values, so `switch` statements over them can be checked for exhaustiveness.
 */

export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
  IKE_SESSION_RESUME: 38, // RFC 5723
  IKE_INTERMEDIATE: 43, // RFC 9242
  IKE_FOLLOWUP_KE: 44, // RFC 9370
} as const;
export type ExchangeType = (typeof ExchangeType)[keyof typeof ExchangeType];

/** RFC 7296 3.2 "Next Payload" values, plus RFC 7383 SKF. */
export const PayloadType = {
  NONE: 0,
  SA: 33,
  KE: 34,
  IDi: 35,
  IDr: 36,
  CERT: 37,
  CERTREQ: 38,
  AUTH: 39,
  Nonce: 40,
  N: 41,
  D: 42,
  V: 43,
  TSi: 44,
  TSr: 45,
  SK: 46,
  CP: 47,
  EAP: 48,
  SKF: 53, // RFC 7383
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

/** RFC 7296 3.3.1 Protocol ID. */
export const ProtocolId = {
  IKE: 1,
  AH: 2,
  ESP: 3,
} as const;
export type ProtocolId = (typeof ProtocolId)[keyof typeof ProtocolId];

/** RFC 7296 3.3.2 Transform Type. */
export const TransformType = {
  ENCR: 1,
  PRF: 2,
  INTEG: 3,
  DH: 4, // renamed "Key Exchange Method (KE)" by RFC 9370
  ESN: 5,
} as const;
export type TransformType = (typeof TransformType)[keyof typeof TransformType];

/** Transform Type 1 - Encryption Algorithm Transform IDs. */
export const EncrId = {
  ENCR_DES_IV64: 1,
  ENCR_DES: 2,
  ENCR_3DES: 3,
  ENCR_RC5: 4,
  ENCR_IDEA: 5,
  ENCR_CAST: 6,
  ENCR_BLOWFISH: 7,
  ENCR_3IDEA: 8,
  ENCR_DES_IV32: 9,
  ENCR_NULL: 11,
  ENCR_AES_CBC: 12,
  ENCR_AES_CTR: 13,
  ENCR_AES_CCM_8: 14,
  ENCR_AES_CCM_12: 15,
  ENCR_AES_CCM_16: 16,
  ENCR_AES_GCM_8: 18,
  ENCR_AES_GCM_12: 19,
  ENCR_AES_GCM_16: 20,
  ENCR_NULL_AUTH_AES_GMAC: 21,
  ENCR_CAMELLIA_CBC: 23,
  ENCR_CAMELLIA_CTR: 24,
  ENCR_CAMELLIA_CCM_8: 25,
  ENCR_CAMELLIA_CCM_12: 26,
  ENCR_CAMELLIA_CCM_16: 27,
  ENCR_CHACHA20_POLY1305: 28, // RFC 7634
} as const;
export type EncrId = (typeof EncrId)[keyof typeof EncrId];

/** Transform Type 2 - Pseudorandom Function Transform IDs. */
export const PrfId = {
  PRF_HMAC_MD5: 1,
  PRF_HMAC_SHA1: 2,
  PRF_HMAC_TIGER: 3,
  PRF_AES128_XCBC: 4, // RFC 4434
  PRF_HMAC_SHA2_256: 5, // RFC 4868
  PRF_HMAC_SHA2_384: 6,
  PRF_HMAC_SHA2_512: 7,
  PRF_AES128_CMAC: 8, // RFC 4615
} as const;
export type PrfId = (typeof PrfId)[keyof typeof PrfId];

/** Transform Type 3 - Integrity Algorithm Transform IDs. */
export const IntegId = {
  NONE: 0,
  AUTH_HMAC_MD5_96: 1,
  AUTH_HMAC_SHA1_96: 2,
  AUTH_DES_MAC: 3,
  AUTH_KPDK_MD5: 4,
  AUTH_AES_XCBC_96: 5,
  AUTH_HMAC_MD5_128: 6,
  AUTH_HMAC_SHA1_160: 7,
  AUTH_AES_CMAC_96: 8,
  AUTH_AES_128_GMAC: 9,
  AUTH_AES_192_GMAC: 10,
  AUTH_AES_256_GMAC: 11,
  AUTH_HMAC_SHA2_256_128: 12, // RFC 4868
  AUTH_HMAC_SHA2_384_192: 13,
  AUTH_HMAC_SHA2_512_256: 14,
} as const;
export type IntegId = (typeof IntegId)[keyof typeof IntegId];

/** Transform Type 4 - Diffie-Hellman Group Transform IDs (Key Exchange Methods). */
export const DhId = {
  NONE: 0,
  MODP_768: 1, // RFC 2409 group 1
  MODP_1024: 2, // RFC 2409 group 2
  MODP_1536: 5, // RFC 3526
  MODP_2048: 14, // RFC 3526
  MODP_3072: 15,
  MODP_4096: 16,
  MODP_6144: 17,
  MODP_8192: 18,
  ECP_256: 19, // RFC 5903
  ECP_384: 20,
  ECP_521: 21,
  MODP_1024_160: 22, // RFC 5114
  MODP_2048_224: 23,
  MODP_2048_256: 24,
  ECP_192: 25,
  ECP_224: 26,
  BRAINPOOL_P224R1: 27, // RFC 6954
  BRAINPOOL_P256R1: 28,
  BRAINPOOL_P384R1: 29,
  BRAINPOOL_P512R1: 30,
  CURVE25519: 31, // RFC 8031
  CURVE448: 32,
} as const;
export type DhId = (typeof DhId)[keyof typeof DhId];

/** Transform Type 5 - Extended Sequence Numbers Transform IDs. */
export const EsnId = {
  NO_ESN: 0,
  ESN: 1,
} as const;
export type EsnId = (typeof EsnId)[keyof typeof EsnId];

/** RFC 7296 3.3.5 Transform Attribute Types. */
export const TransformAttributeType = {
  KEY_LENGTH: 14,
} as const;
export type TransformAttributeType = (typeof TransformAttributeType)[keyof typeof TransformAttributeType];

/** RFC 7296 3.5 Identification Payload ID Type. */
export const IdType = {
  ID_IPV4_ADDR: 1,
  ID_FQDN: 2,
  ID_RFC822_ADDR: 3,
  ID_IPV6_ADDR: 5,
  ID_DER_ASN1_DN: 9,
  ID_DER_ASN1_GN: 10,
  ID_KEY_ID: 11,
  ID_FC_NAME: 12, // RFC 4595
  ID_NULL: 13, // RFC 7619
} as const;
export type IdType = (typeof IdType)[keyof typeof IdType];

/** RFC 7296 3.6 Certificate Encoding. */
export const CertEncoding = {
  PKCS7_WRAPPED_X509: 1,
  PGP: 2,
  DNS_SIGNED_KEY: 3,
  X509_SIGNATURE: 4,
  KERBEROS_TOKEN: 6,
  CRL: 7,
  ARL: 8,
  SPKI: 9,
  X509_ATTRIBUTE: 10,
  RAW_RSA_KEY: 11,
  HASH_AND_URL_X509_CERT: 12,
  HASH_AND_URL_X509_BUNDLE: 13,
  OCSP_CONTENT: 14, // RFC 4806
  RAW_PUBLIC_KEY: 15, // RFC 7670
} as const;
export type CertEncoding = (typeof CertEncoding)[keyof typeof CertEncoding];

/** RFC 7296 3.8 Authentication Method (plus RFC 4754, RFC 7619, RFC 7427). */
export const AuthMethod = {
  RSA_DIGITAL_SIGNATURE: 1,
  SHARED_KEY_MIC: 2,
  DSS_DIGITAL_SIGNATURE: 3,
  ECDSA_SHA256_P256: 9,
  ECDSA_SHA384_P384: 10,
  ECDSA_SHA512_P521: 11,
  GENERIC_SECURE_PASSWORD: 12, // RFC 6467
  NULL_AUTH: 13, // RFC 7619
  DIGITAL_SIGNATURE: 14, // RFC 7427
} as const;
export type AuthMethod = (typeof AuthMethod)[keyof typeof AuthMethod];

/** RFC 7296 3.13.1 Traffic Selector Type. */
export const TsType = {
  TS_IPV4_ADDR_RANGE: 7,
  TS_IPV6_ADDR_RANGE: 8,
  TS_FC_ADDR_RANGE: 9, // RFC 4595
  TS_SECLABEL: 10, // RFC 9478
} as const;
export type TsType = (typeof TsType)[keyof typeof TsType];

/** RFC 7296 3.15 Configuration Payload CFG Type. */
export const CfgType = {
  CFG_REQUEST: 1,
  CFG_REPLY: 2,
  CFG_SET: 3,
  CFG_ACK: 4,
} as const;
export type CfgType = (typeof CfgType)[keyof typeof CfgType];

/** RFC 7427 4: hash algorithms announced in SIGNATURE_HASH_ALGORITHMS. */
export const HashAlgorithm = {
  SHA1: 1,
  SHA2_256: 2,
  SHA2_384: 3,
  SHA2_512: 4,
  IDENTITY: 5, // RFC 8420
} as const;
export type HashAlgorithm = (typeof HashAlgorithm)[keyof typeof HashAlgorithm];

/** Reverse lookup for logs and errors: `nameOf(PayloadType, 33)` → "SA"; unknown values print as numbers. */
export function nameOf(registry: Readonly<Record<string, number>>, value: number): string {
  for (const [name, v] of Object.entries(registry)) if (v === value) return name;
  return String(value);
}
