/**
 * Private keys as files hold them: what the daemon signs IKE AUTH payloads with (RFC 7296 2.15,
 * RFC 7427) and what `ikekm pki` signs certificates with.
 *
 * Read by node:crypto's createPrivateKey (OpenSSL), in every form OpenSSL and strongSwan write:
 * PKCS#8 `PRIVATE KEY` (RFC 5958), encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2, RFC 8018),
 * PKCS#1 `RSA PRIVATE KEY` (RFC 8017 A.1.2), SEC1 `EC PRIVATE KEY` (RFC 5915), the legacy
 * encrypted PEM of `openssl rsa -aes256` (Proc-Type/DEK-Info headers), and PKCS#8 as DER.
 *
 * A key is a secret: no message here holds any of its octets, and a KeyObject prints nothing of
 * it (util.inspect shows its type, JSON.stringify `{}`).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../result.js';
import { decodeDer } from './der.js';

export interface LoadedPrivateKey {
  readonly key: KeyObject;
  /** `RSA-2048`, `ECDSA P-256`, `Ed25519`: what a log line or `ikekm pki` says of it. */
  readonly description: string;
}

const PRIVATE_KEY_LABELS = new Set(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);
/** What else a PEM file near a key often holds, to say what was given instead. */
const OTHER_LABELS: Readonly<Record<string, string>> = {
  'PUBLIC KEY': 'a public key',
  'RSA PUBLIC KEY': 'a public key',
  CERTIFICATE: 'a certificate',
  'TRUSTED CERTIFICATE': 'a certificate',
  'CERTIFICATE REQUEST': 'a certificate request',
  'NEW CERTIFICATE REQUEST': 'a certificate request',
  'X509 CRL': 'a CRL',
  'DSA PRIVATE KEY': 'a DSA private key',
  'OPENSSH PRIVATE KEY': 'an OpenSSH private key (convert it: ssh-keygen -p -m PKCS8 -f FILE)',
};

const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

interface KeySource {
  readonly key: Buffer;
  readonly format: 'pem' | 'der';
  readonly encrypted: boolean;
}

/** The block of a PEM file that holds the private key, or what the file holds instead. */
function keySource(text: Buffer): Result<KeySource, string> {
  const latin1 = text.toString('latin1');
  if (latin1.includes('-----BEGIN ')) {
    const labels: string[] = [];
    for (const block of latin1.matchAll(PEM_BLOCK)) {
      const label = block[1]!;
      if (PRIVATE_KEY_LABELS.has(label)) {
        // RFC 1421 headers (Proc-Type: 4,ENCRYPTED) mark OpenSSL's legacy encrypted PEM.
        const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(block[2]!);
        return ok({ key: Buffer.from(block[0], 'latin1'), format: 'pem', encrypted });
      }
      labels.push(label);
    }
    const other = labels.map((l) => OTHER_LABELS[l]).find((what) => what !== undefined);
    if (other !== undefined) return err(`the file holds ${other}, not a private key`);
    return err(labels.length === 0 ? 'the file has a PEM header but no complete PEM block' : `the file holds no private key (PEM blocks: ${labels.join(', ')})`);
  }
  // DER: a PrivateKeyInfo starts with its version INTEGER, an EncryptedPrivateKeyInfo with an AlgorithmIdentifier SEQUENCE.
  const der = decodeDer(text);
  if (!der.ok || !Array.isArray(der.value.value) || der.value.value[0] === undefined) return err('the file is neither a PEM private key nor a DER PKCS#8 private key');
  const encrypted = der.value.value[0].type === 0x10;
  return ok({ key: text, format: 'der', encrypted });
}

/** `RSA-2048`, `ECDSA P-384`: or why this key cannot authenticate IKE. */
export function privateKeyDescription(key: KeyObject): Result<string, string> {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ok(`RSA-${key.asymmetricKeyDetails?.modulusLength ?? '?'}`);
    case 'rsa-pss':
      return ok(`RSA-PSS-${key.asymmetricKeyDetails?.modulusLength ?? '?'}`);
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
      const name = CURVE_NAMES[curve];
      // RFC 4754 and RFC 7427 name ECDSA over the NIST curves; that is what IKE peers do.
      return name === undefined ? err(`the key is an EC key on curve ${curve}; IKE uses ECDSA on P-256, P-384 or P-521`) : ok(`ECDSA ${name}`);
    }
    case 'ed25519':
      return ok('Ed25519');
    default:
      return err(`a key of type ${key.asymmetricKeyType?.toUpperCase() ?? 'unknown'} cannot sign IKE AUTH payloads: RSA, ECDSA (P-256, P-384, P-521) and Ed25519 keys can`);
  }
}

/**
 * A private key file's content (PEM in any of the forms above, or DER PKCS#8), decrypted with
 * `passphrase` if it is encrypted. Never throws; messages name the problem, never the key.
 */
export function privateKeyFromPem(text: Buffer, passphrase: Buffer | undefined): Result<LoadedPrivateKey, string> {
  const source = keySource(text);
  if (!source.ok) return source;
  const { key: keyText, format, encrypted } = source.value;
  if (encrypted && passphrase === undefined) return err('the key is encrypted: give a passphrase file');
  let key: KeyObject;
  try {
    key = format === 'pem' ? createPrivateKey({ key: keyText, format, ...(encrypted ? { passphrase } : {}) }) : keyFromDer(keyText, encrypted ? passphrase : undefined);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (encrypted) {
      // A wrong passphrase usually fails the padding check (bad decrypt); once in 256 the padding
      // passes and the decrypted octets fail to decode instead, or the cipher is one OpenSSL here lacks.
      return err(code === 'ERR_OSSL_BAD_DECRYPT' ? 'the passphrase does not decrypt the key' : 'the passphrase does not decrypt the key, or OpenSSL here lacks its cipher (re-encrypt it: openssl pkcs8 -topk8 -v2 aes256)');
    }
    return err(`the file is not a private key OpenSSL can read (PKCS#8, PKCS#1 or SEC1): ${reasonOf(e)}`);
  }
  const description = privateKeyDescription(key);
  return description.ok ? ok({ key, description: description.value }) : description;
}

/**
 * DER: PKCS#8 (encrypted or not), else the unencrypted PKCS#1 and SEC1 structures, which are
 * told apart only by trying. An unencrypted key never sees the passphrase.
 */
function keyFromDer(der: Buffer, passphrase: Buffer | undefined): KeyObject {
  if (passphrase !== undefined) return createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase });
  let first: unknown;
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

/** OpenSSL's reason (`DECODER routines::unsupported`) without the error's numeric prefix. */
function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^error:[0-9A-F]+:/, '');
}

/** Does the private key belong to the public key (a certificate's)? Their SubjectPublicKeyInfo DER are compared. */
export function keyMatchesPublicKey(privateKey: KeyObject, publicKey: KeyObject): boolean {
  try {
    const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const given = (publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey).export({ type: 'spki', format: 'der' });
    return derived.equals(given);
  } catch {
    return false;
  }
}

const modeText = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * What is wrong with a private key file's st_mode, as ssh judges its keys: group or others may
 * read it, or write it (and so replace the key). Undefined when only the owner can.
 */
export function privateKeyFileProblem(mode: number, path: string): string | undefined {
  if ((mode & 0o044) !== 0) return `private key file ${path} can be read by group or others (mode ${modeText(mode)}); run: chmod 600 ${path}`;
  if ((mode & 0o022) !== 0) return `private key file ${path} can be written by group or others (mode ${modeText(mode)}); run: chmod 600 ${path}`;
  return undefined;
}
