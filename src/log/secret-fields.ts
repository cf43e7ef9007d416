/**
 * The field names under which ikekm code may hold a secret. The logger redacts them, so the
 * convention for everyone who logs is: a secret only ever travels under one of these names
 * (RFC 7296 2.14 names for derived keys). A secret under any other name is NOT caught by name;
 * only the binary safety net (Buffers become `[N octets]`) stands between it and the log.
 */
export const SECRET_FIELD_NAMES = [
  // configuration secrets
  'psk',
  'sharedSecret',
  'privateKey',
  // IKEv2 key material (RFC 7296 2.13, 2.14, 2.17)
  'SKEYSEED',
  'SK_d',
  'SK_ai',
  'SK_ar',
  'SK_ei',
  'SK_er',
  'SK_pi',
  'SK_pr',
  // Child SA keys (KEYMAT split, RFC 7296 2.17)
  'encrI',
  'encrR',
  'integI',
  'integR',
  // generic holders (KernelSa.encryption.key, keylog entries, key bundles)
  'key',
  'keys',
  'encryptionKey',
  'integrityKey',
] as const;

export type SecretFieldName = (typeof SECRET_FIELD_NAMES)[number];

const SECRET_FIELDS: ReadonlySet<string> = new Set(SECRET_FIELD_NAMES);

export function isSecretFieldName(name: string): boolean {
  return SECRET_FIELDS.has(name);
}

/** The replacement text for a redacted value (pino's own default, so both layers look alike). */
export const REDACTED = '[Redacted]';

/**
 * pino `redact` paths for every secret name at depth 0 to `maxDepth`: `psk`, `*.psk`,
 * `*.*.psk`… pino's redaction takes explicit paths; `*` matches one level (an object key or an
 * array index).
 */
export function secretRedactPaths(maxDepth = 2): string[] {
  const paths: string[] = [];
  for (let depth = 0; depth <= maxDepth; depth++) {
    for (const name of SECRET_FIELD_NAMES) paths.push([...Array<string>(depth).fill('*'), name].join('.'));
  }
  return paths;
}
