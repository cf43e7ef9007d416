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
import { describeKey, nistCurveOf } from './key-description.js';
import { decodeDer, oidOf } from './der.js';

export interface LoadedPrivateKey {
  readonly key: KeyObject;
  /** `RSA-2048`, `ECDSA P-256`, `Ed25519`: what a log line or `ikekm pki` says of it. */
  readonly description: string;
  readonly form: PrivateKeyForm;
}

/** How a file holds its key: the structure, and whether a passphrase protects it. */
export interface PrivateKeyForm {
  /** PKCS#8 (RFC 5958), PKCS#1 (RFC 8017 A.1.2, RSA only) or SEC1 (RFC 5915, EC only). */
  readonly container: 'PKCS#8' | 'PKCS#1' | 'SEC1';
  readonly encrypted: boolean;
}

/** The structure each PEM label holds (RFC 7468 10 and 11, and OpenSSL's traditional labels). */
const CONTAINERS: Readonly<Record<string, PrivateKeyForm['container']>> = {
  'PRIVATE KEY': 'PKCS#8',
  'ENCRYPTED PRIVATE KEY': 'PKCS#8',
  'RSA PRIVATE KEY': 'PKCS#1',
  'EC PRIVATE KEY': 'SEC1',
};

const PRIVATE_KEY_LABELS = new Set(Object.keys(CONTAINERS));
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


const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

interface KeySource {
  readonly key: Buffer;
  readonly format: 'pem' | 'der';
  readonly encrypted: boolean;
  /** Known from a PEM label or an encrypted DER's shape; an unencrypted DER key's is found by reading it. */
  readonly container: PrivateKeyForm['container'] | undefined;
}

/** Password-based encryption schemes: PKCS#5's (PBES1, PBES2: RFC 8018 A) and PKCS#12's (RFC 7292 C). */
const PBE_OID_PREFIXES = ['1.2.840.113549.1.5.', '1.2.840.113549.1.12.1.'];

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
        return ok({ key: Buffer.from(block[0], 'latin1'), format: 'pem', encrypted, container: CONTAINERS[label] });
      }
      labels.push(label);
    }
    const other = labels.map((l) => OTHER_LABELS[l]).find((what) => what !== undefined);
    if (other !== undefined) return err(`the file holds ${other}, not a private key`);
    return err(labels.length === 0 ? 'the file has a PEM header but no complete PEM block' : `the file holds no private key (PEM blocks: ${labels.join(', ')})`);
  }
  // DER: a PrivateKeyInfo (and PKCS#1's and SEC1's structures) start with a version INTEGER; an
  // EncryptedPrivateKeyInfo (RFC 5958 3) with the AlgorithmIdentifier of a password-based scheme.
  const der = decodeDer(text);
  if (!der.ok || !Array.isArray(der.value.value) || der.value.value[0] === undefined) return err('the file is neither a PEM private key nor a DER PKCS#8 private key');
  const [algorithm, data] = der.value.value;
  const oidNode = Array.isArray(algorithm.value) ? algorithm.value[0] : undefined;
  const oid = oidNode === undefined ? undefined : oidOf(oidNode);
  const encrypted = der.value.value.length === 2 && oid !== undefined && PBE_OID_PREFIXES.some((p) => oid.startsWith(p)) && data?.type === 0x04;
  return ok({ key: text, format: 'der', encrypted, container: encrypted ? 'PKCS#8' : undefined });
}

/** `RSA-2048`, `ECDSA P-384`: or why this key cannot authenticate IKE. */
export function privateKeyDescription(key: KeyObject): Result<string, string> {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
    case 'ed25519':
      return ok(describeKey(key));
    case 'ec':
      // RFC 4754 and RFC 7427 name ECDSA over the NIST curves; that is what IKE peers do.
      return nistCurveOf(key) === undefined
        ? err(`the key is an EC key on curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}; IKE uses ECDSA on P-256, P-384 or P-521`)
        : ok(describeKey(key));
    default:
      return err(`a key of type ${key.asymmetricKeyType?.toUpperCase() ?? 'unknown'} cannot sign IKE AUTH payloads: RSA, ECDSA (P-256, P-384, P-521) and Ed25519 keys can`);
  }
}

/**
 * A private key file's content (PEM in any of the forms above, or DER PKCS#8), decrypted with
 * `passphrase` if it is encrypted. Never throws; messages name the problem, never the key.
 */
export function privateKeyFromPem(text: Buffer, passphrase: Buffer | undefined): Result<LoadedPrivateKey, string> {
  const read = readPrivateKey(text, passphrase);
  if (!read.ok) return read;
  const description = privateKeyDescription(read.value.key);
  return description.ok ? ok({ key: read.value.key, description: description.value, form: read.value.form }) : description;
}

/** The key whatever its type (privateKeyFromPem then refuses the types IKE does not sign with). */
function readPrivateKey(text: Buffer, passphrase: Buffer | undefined): Result<{ key: KeyObject; form: PrivateKeyForm }, string> {
  const source = keySource(text);
  if (!source.ok) return source;
  const { key: keyText, format, encrypted, container } = source.value;
  if (encrypted && passphrase === undefined) return err('the key is encrypted: give a passphrase file');
  let read: { key: KeyObject; container: PrivateKeyForm['container'] };
  try {
    read =
      format === 'pem'
        ? { key: createPrivateKey({ key: keyText, format, ...(encrypted ? { passphrase } : {}) }), container: container! }
        : keyFromDer(keyText, encrypted ? passphrase : undefined);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (encrypted) {
      // A wrong passphrase usually fails the padding check (bad decrypt); once in 256 the padding
      // passes and the decrypted octets fail to decode instead, or the cipher is one OpenSSL here lacks.
      return err(code === 'ERR_OSSL_BAD_DECRYPT' ? 'the passphrase does not decrypt the key' : 'the passphrase does not decrypt the key, or OpenSSL here lacks its cipher (re-encrypt it: openssl pkcs8 -topk8 -v2 aes256)');
    }
    return err(`the file is not a private key OpenSSL can read (PKCS#8, PKCS#1 or SEC1): ${reasonOf(e)}`);
  }
  return ok({ key: read.key, form: { container: read.container, encrypted } });
}

/**
 * DER: PKCS#8 (encrypted or not), else the unencrypted PKCS#1 and SEC1 structures, which are
 * told apart only by trying. An unencrypted key never sees the passphrase.
 */
function keyFromDer(der: Buffer, passphrase: Buffer | undefined): { key: KeyObject; container: PrivateKeyForm['container'] } {
  if (passphrase !== undefined) return { key: createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase }), container: 'PKCS#8' };
  let first: unknown;
  for (const [type, container] of [
    ['pkcs8', 'PKCS#8'],
    ['pkcs1', 'PKCS#1'],
    ['sec1', 'SEC1'],
  ] as const) {
    try {
      return { key: createPrivateKey({ key: der, format: 'der', type }), container };
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

/** What `ikekm pki show` says of a private key file: never any of the key, only its kind. */
export interface PrivateKeyFileDescription {
  readonly form: PrivateKeyForm;
  /** `RSA-2048`, `ECDSA P-256`, `X25519`: undefined while the key is encrypted and no passphrase was given. */
  readonly type: string | undefined;
  /** Why the key cannot sign IKE AUTH payloads, when it cannot. */
  readonly unusable: string | undefined;
  /** The public half, to tell which certificate belongs to the key; undefined while encrypted. */
  readonly publicKey: KeyObject | undefined;
}

/**
 * A private key file described, decrypted only when a passphrase is given (without one an
 * encrypted key shows its form alone: its type is inside the encryption, RFC 5958 3).
 * Undefined when the file holds no private key at all; an error when it holds one that cannot be
 * read (a damaged block, a passphrase that does not open it).
 */
export function describePrivateKeyFile(text: Buffer, passphrase: Buffer | undefined): Result<PrivateKeyFileDescription, string> | undefined {
  const source = keySource(text);
  if (!source.ok) return undefined;
  const { encrypted, container, format } = source.value;
  if (encrypted && passphrase === undefined) return ok({ form: { container: container ?? 'PKCS#8', encrypted }, type: undefined, unusable: undefined, publicKey: undefined });
  const read = readPrivateKey(text, passphrase);
  // DER that none of the three structures takes is some other DER, not a damaged key.
  if (!read.ok) return format === 'der' && !encrypted ? undefined : read;
  const usable = privateKeyDescription(read.value.key);
  return ok({
    form: read.value.form,
    type: usable.ok ? usable.value : keyTypeText(read.value.key),
    unusable: usable.ok ? undefined : usable.error,
    publicKey: createPublicKey(read.value.key),
  });
}

const OTHER_KEY_TYPES: Readonly<Record<string, string>> = { x25519: 'X25519', x448: 'X448', ed448: 'Ed448' };

/** The type of any key node:crypto reads, for a key IKE cannot use: `EC secp256k1`, `X25519`, `DSA`. */
function keyTypeText(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type === 'ec') return `EC ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve'}`;
  return OTHER_KEY_TYPES[type] ?? type.toUpperCase();
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
