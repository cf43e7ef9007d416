/**
 * PKCS#12 files (RFC 7292, `.p12`/`.pfx`): how a key and its certificate come out of Windows,
 * macOS Keychain, IBM i's Digital Certificate Manager or `openssl pkcs12 -export`, for
 * `ikekm pki import`.
 *
 * The structure is walked here with node-forge's ASN.1 codec (BER: other tools write indefinite
 * lengths and constructed OCTET STRINGs), so that each certificate comes out as the DER the file
 * holds: forge's own PKCS#12 reader re-encodes the RSA certificates it parses and leaves the EC
 * ones undecoded. forge supplies the password-based ciphers of the encrypted SafeContents (PBES2
 * with AES or 3DES, RFC 8018; the PKCS#12 PBEs with 3DES and 40-bit RC2 of `-legacy`, RFC 7292
 * Appendix C) and the PKCS#12 key derivation of the MAC (Appendix B); private keys are decrypted
 * by node:crypto (OpenSSL), or by forge where OpenSSL here lacks the cipher.
 *
 * Hostile or damaged files are error values, never exceptions; the work a file can ask for is
 * bounded (iteration counts, nesting).
 */
import { createHmac, createPrivateKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { encodeDer, oidOf, type Asn1 } from './der.js';

export interface Pkcs12Contents {
  readonly key: KeyObject;
  /** Every X.509 certificate in the file, as DER, in the file's order. */
  readonly certificates: Buffer[];
  /** The key's friendlyName attribute (what Windows and macOS show), if it has one. */
  readonly friendlyName?: string;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  pbes2: '1.2.840.113549.1.5.13',
  pbmac1: '1.2.840.113549.1.5.14',
  pbeWithSha1And3DesCbc: '1.2.840.113549.1.12.1.3',
  pbeWithSha1And40BitRc2Cbc: '1.2.840.113549.1.12.1.6',
} as const;

const MAC_HASHES: Readonly<Record<string, { readonly name: 'sha1' | 'sha256' | 'sha384' | 'sha512'; readonly create: () => forge.md.MessageDigest }>> = {
  '1.3.14.3.2.26': { name: 'sha1', create: () => forge.md.sha1.create() },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', create: () => forge.md.sha256.create() },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', create: () => forge.md.sha384.create() },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', create: () => forge.md.sha512.create() },
};

/** Far above any exporter's count (OpenSSL 2048, Windows 2000, current advice 600 000), far below a count that hangs the process. */
const MAX_ITERATIONS = 10_000_000;
const MAX_NESTING = 4;

const REEXPORT =
  're-export it with OpenSSL 3 defaults (openssl pkcs12 -export), or with -legacy, or with -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1';

/** A problem with the file, as the whole message: thrown inside the walk, turned into the Result at the one entry point. */
class Pkcs12Problem extends Error {}

/** A structure that is not what RFC 7292 says it is. */
const malformed = (what: string): Pkcs12Problem => new Pkcs12Problem(`the file is not a well-formed PKCS#12 file: ${what}`);

const { Class, Type } = forge.asn1;

interface FromDerOptions {
  readonly strict: boolean;
  readonly parseAllBytes: boolean;
  readonly decodeBitStrings: boolean;
}
const fromDer = forge.asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: FromDerOptions) => Asn1;

/**
 * BER, as PKCS#12 allows (RFC 7292 4: BER for the outer layers); exactly one TLV. forge reads
 * indefinite lengths either way; `strict` makes a length beyond the data an error, where
 * forge would otherwise cut it short: a truncated file would lose its MacData and be read
 * without its integrity check.
 */
function decodeBer(octets: string, what: string): Asn1 {
  try {
    return fromDer(forge.util.createBuffer(octets), { strict: true, parseAllBytes: true, decodeBitStrings: false });
  } catch (e) {
    throw malformed(`${what} is not BER (${(e as Error).message})`);
  }
}

function children(node: Asn1 | undefined, what: string): Asn1[] {
  if (node === undefined || !Array.isArray(node.value)) throw malformed(`${what} is not a constructed value`);
  return node.value;
}

function oidIn(node: Asn1 | undefined, what: string): string {
  const oid = node === undefined ? undefined : oidOf(node);
  if (oid === undefined) throw malformed(`${what} is not an OBJECT IDENTIFIER`);
  return oid;
}

/** An OCTET STRING's contents, primitive or in BER's constructed segments. */
function octetsOf(node: Asn1 | undefined, what: string): string {
  if (node === undefined) throw malformed(`${what} is missing`);
  if (typeof node.value === 'string') return node.value;
  return node.value.map((segment) => octetsOf(segment, what)).join('');
}

/** The [0] EXPLICIT content of a ContentInfo or a SafeBag. */
function explicitContent(node: Asn1 | undefined, what: string): Asn1 {
  if (node === undefined || node.tagClass !== Class.CONTEXT_SPECIFIC || node.type !== 0 || !Array.isArray(node.value) || node.value[0] === undefined) {
    throw malformed(`${what} has no [0] content`);
  }
  return node.value[0];
}

function smallInteger(node: Asn1 | undefined, what: string): number {
  if (node === undefined || node.type !== Type.INTEGER || typeof node.value !== 'string' || node.value.length === 0 || node.value.length > 6) throw malformed(`${what} is not a small INTEGER`);
  return Buffer.from(node.value, 'binary').readIntBE(0, node.value.length);
}

/** RFC 7292 4: MacData, HMAC over the AuthenticatedSafe's octets with a key from Appendix B.2 (ID 3). */
function checkMac(macData: Asn1, authSafe: string, passphrase: string): void {
  const [digestInfo, saltNode, iterationsNode] = children(macData, 'MacData');
  const [algorithm, digestNode] = children(digestInfo, 'the MAC DigestInfo');
  const oid = oidIn(children(algorithm, 'the MAC algorithm')[0], 'the MAC algorithm');
  if (oid === OID.pbmac1) throw new Pkcs12Problem(`the PKCS#12 file's MAC is PBMAC1 (RFC 9579), which ikekm does not read; ${REEXPORT}`);
  const hash = MAC_HASHES[oid];
  if (hash === undefined) throw new Pkcs12Problem(`the PKCS#12 file's MAC uses hash ${oid}, which ikekm does not read; ${REEXPORT}`);
  const iterations = iterationsNode === undefined ? 1 : smallInteger(iterationsNode, 'the MAC iteration count');
  if (iterations < 1 || iterations > MAX_ITERATIONS) throw new Pkcs12Problem(`the PKCS#12 file's MAC iteration count ${iterations} is out of range (1 to ${MAX_ITERATIONS})`);
  const md = hash.create();
  const key = forge.pkcs12.generateKey(passphrase, forge.util.createBuffer(octetsOf(saltNode, 'the MAC salt')), 3, iterations, md.digestLength, md);
  const expected = createHmac(hash.name, Buffer.from(key.getBytes(), 'binary')).update(Buffer.from(authSafe, 'binary')).digest();
  const found = Buffer.from(octetsOf(digestNode, 'the MAC'), 'binary');
  if (found.length !== expected.length || !timingSafeEqual(found, expected)) {
    throw new Pkcs12Problem('the passphrase is wrong, or the PKCS#12 file was altered: its MAC does not match');
  }
}

/** The iteration count of a PBES2 or PKCS#12 PBE AlgorithmIdentifier's parameters, to refuse a count that would hang. */
function iterationsOf(oid: string, params: Asn1 | undefined): number | undefined {
  try {
    if (oid === OID.pbes2) {
      const kdf = children(params, 'PBES2 parameters')[0];
      const kdfParams = children(kdf, 'the key derivation function')[1];
      return smallInteger(children(kdfParams, 'PBKDF2 parameters')[1], 'the PBKDF2 iteration count');
    }
    return smallInteger(children(params, 'PBE parameters')[1], 'the PBE iteration count');
  } catch {
    return undefined;
  }
}

const PBE_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.12.1.1': 'pbeWithSHAAnd128BitRC4',
  '1.2.840.113549.1.12.1.2': 'pbeWithSHAAnd40BitRC4',
  '1.2.840.113549.1.12.1.3': 'pbeWithSHAAnd3-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.4': 'pbeWithSHAAnd2-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.5': 'pbeWithSHAAnd128BitRC2-CBC',
  '1.2.840.113549.1.12.1.6': 'pbewithSHAAnd40BitRC2-CBC',
  '1.2.840.113549.1.5.13': 'PBES2',
};

/** `PBES2 with 2.16.840.1.101.3.4.1.46` or a PBE's name: what the file uses that forge lacks. */
function pbeName(oid: string, params: Asn1 | undefined): string {
  if (oid !== OID.pbes2) return PBE_NAMES[oid] ?? oid;
  try {
    const scheme = children(params, 'PBES2 parameters')[1];
    return `PBES2 with cipher ${oidIn(children(scheme, 'the PBES2 cipher')[0], 'the PBES2 cipher')}`;
  } catch {
    return 'PBES2';
  }
}

/** A cipher forge has started for `algorithm` with the password as that scheme takes it. */
function decryptWith(algorithm: Asn1, encrypted: string, passphrase: string, what: string): string {
  const [oidNode, params] = children(algorithm, `the encryption algorithm of ${what}`);
  const oid = oidIn(oidNode, `the encryption algorithm of ${what}`);
  const iterations = iterationsOf(oid, params);
  if (iterations !== undefined && (iterations < 1 || iterations > MAX_ITERATIONS)) throw new Pkcs12Problem(`the PKCS#12 file's ${what}: iteration count ${iterations} is out of range (1 to ${MAX_ITERATIONS})`);
  let cipher: forge.cipher.BlockCipher;
  try {
    // PBES2 derives its key from the password's octets (UTF-8, as OpenSSL passes them); the
    // PKCS#12 PBEs from its BMPString, which forge makes from the string itself (Appendix B.1).
    const password = oid === OID.pbes2 ? forge.util.encodeUtf8(passphrase) : passphrase;
    cipher = (forge.pki as unknown as { pbe: { getCipher(oid: string, params: Asn1 | undefined, password: string): forge.cipher.BlockCipher } }).pbe.getCipher(oid, params, password);
  } catch (e) {
    throw new Pkcs12Problem(`the PKCS#12 file encrypts its ${what} with ${pbeName(oid, params)}, which ikekm does not read; ${REEXPORT}`);
  }
  cipher.update(forge.util.createBuffer(encrypted));
  if (!cipher.finish()) throw new Pkcs12Problem(`the PKCS#12 file's ${what} cannot be decrypted: the passphrase is wrong`);
  return cipher.output.getBytes();
}

interface Bag {
  readonly kind: 'key' | 'certificate';
  readonly der: Buffer;
  readonly encrypted: boolean;
  readonly friendlyName?: string;
}

function friendlyNameOf(attributes: Asn1 | undefined): string | undefined {
  if (attributes === undefined || !Array.isArray(attributes.value)) return undefined;
  for (const attribute of attributes.value) {
    if (!Array.isArray(attribute.value) || oidOf(attribute.value[0]!) !== OID.friendlyName) continue;
    const value = Array.isArray(attribute.value[1]?.value) ? attribute.value[1].value[0] : undefined;
    if (value === undefined || typeof value.value !== 'string') return undefined;
    // forge hands a BMPString over decoded (one UTF-16 code unit per character); RFC 7292 4.2 asks for a BMPString.
    if (value.type === Type.BMPSTRING) return value.value;
    return value.type === Type.UTF8 ? Buffer.from(value.value, 'binary').toString('utf8') : undefined;
  }
  return undefined;
}

/** RFC 7292 4.2: the SafeBags of a SafeContents, nested safeContentsBags followed. */
function bagsOf(safeContents: string, depth: number): Bag[] {
  if (depth > MAX_NESTING) throw malformed(`SafeContents nest deeper than ${MAX_NESTING}`);
  const bags: Bag[] = [];
  for (const safeBag of children(decodeBer(safeContents, 'a SafeContents'), 'a SafeContents')) {
    const [idNode, valueNode, attributes] = children(safeBag, 'a SafeBag');
    const bagId = oidIn(idNode, 'a SafeBag type');
    const value = explicitContent(valueNode, 'a SafeBag');
    const friendlyName = friendlyNameOf(attributes);
    const named = friendlyName === undefined ? {} : { friendlyName };
    switch (bagId) {
      case OID.keyBag:
        bags.push({ kind: 'key', der: encodeDer(value), encrypted: false, ...named });
        break;
      case OID.pkcs8ShroudedKeyBag:
        bags.push({ kind: 'key', der: encodeDer(value), encrypted: true, ...named });
        break;
      case OID.certBag: {
        const [certId, certValue] = children(value, 'a CertBag');
        // sdsiCertificate and other types are not X.509: IKE has no use for them.
        if (oidIn(certId, 'a CertBag type') === OID.x509Certificate) {
          bags.push({ kind: 'certificate', der: Buffer.from(octetsOf(explicitContent(certValue, 'a CertBag'), 'a certificate'), 'binary'), encrypted: false, ...named });
        }
        break;
      }
      case OID.safeContentsBag:
        bags.push(...bagsOf(encodeDer(value).toString('binary'), depth + 1));
        break;
      default:
        break; // CRL and secret bags: nothing ikekm imports
    }
  }
  return bags;
}

/** RFC 7292 4.1: each ContentInfo of the AuthenticatedSafe, plain (data) or password-encrypted (encryptedData). */
function safeContentsOf(contentInfo: Asn1, passphrase: string): string {
  const [typeNode, content] = children(contentInfo, 'a ContentInfo');
  const type = oidIn(typeNode, 'a ContentInfo type');
  if (type === OID.data) return octetsOf(explicitContent(content, 'a ContentInfo'), 'a SafeContents');
  if (type === OID.encryptedData) {
    const encryptedContentInfo = children(explicitContent(content, 'an EncryptedData'), 'an EncryptedData')[1];
    const [, algorithm, encryptedNode] = children(encryptedContentInfo, 'an EncryptedContentInfo');
    if (algorithm === undefined) throw malformed('an EncryptedContentInfo has no algorithm');
    // encryptedContent [0] IMPLICIT OCTET STRING: primitive, or BER segments.
    if (encryptedNode === undefined || encryptedNode.tagClass !== Class.CONTEXT_SPECIFIC || encryptedNode.type !== 0) throw malformed('an EncryptedContentInfo has no encrypted content');
    return decryptWith(algorithm, octetsOf(encryptedNode, 'the encrypted content'), passphrase, 'certificates');
  }
  if (type === OID.envelopedData) throw new Pkcs12Problem('the PKCS#12 file is encrypted to a public key (public-key privacy mode), which ikekm does not read');
  throw new Pkcs12Problem(`the PKCS#12 file holds content of type ${type}, which ikekm does not read`);
}

/** A shrouded key bag decrypted by OpenSSL, or by forge for a PBE OpenSSL here lacks. */
function keyFromBag(bag: Bag, passphrase: string): KeyObject {
  if (!bag.encrypted) return createPrivateKey({ key: bag.der, format: 'der', type: 'pkcs8' });
  try {
    return createPrivateKey({ key: bag.der, format: 'der', type: 'pkcs8', passphrase: Buffer.from(passphrase, 'utf8') });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_OSSL_BAD_DECRYPT') throw new Pkcs12Problem("the PKCS#12 file's private key cannot be decrypted: the passphrase is wrong");
    const encrypted = children(decodeBer(bag.der.toString('binary'), 'the private key'), 'the private key');
    const info = decryptWith(encrypted[0]!, octetsOf(encrypted[1], 'the encrypted private key'), passphrase, 'private key');
    return createPrivateKey({ key: Buffer.from(info, 'binary'), format: 'der', type: 'pkcs8' });
  }
}

/**
 * The private key and the certificates of a PKCS#12 file, its MAC checked first. The one key is
 * required; the certificates are returned all, in the file's order (the caller tells the key's
 * own from its chain).
 */
export function readPkcs12(content: Buffer, passphrase: string): Result<Pkcs12Contents, string> {
  try {
    const [versionNode, authSafeInfo, macData] = children(decodeBer(content.toString('binary'), 'its outer structure'), 'a PFX');
    if (smallInteger(versionNode, 'the PFX version') !== 3) throw malformed('it is not a version 3 PFX');
    const [authSafeType, authSafeContent] = children(authSafeInfo, 'the authenticated safe');
    if (oidIn(authSafeType, 'the authenticated safe type') === OID.signedData) throw new Pkcs12Problem('the PKCS#12 file is signed with a public key (public-key integrity mode), which ikekm does not read');
    if (oidIn(authSafeType, 'the authenticated safe type') !== OID.data) throw malformed('its authenticated safe is not data');
    const authSafe = octetsOf(explicitContent(authSafeContent, 'the authenticated safe'), 'the authenticated safe');
    // Without MacData (openssl -nomac) the password is checked by decryption alone.
    if (macData !== undefined) checkMac(macData, authSafe, passphrase);

    const bags: Bag[] = [];
    for (const contentInfo of children(decodeBer(authSafe, 'the authenticated safe'), 'the authenticated safe')) {
      bags.push(...bagsOf(safeContentsOf(contentInfo, passphrase), 0));
    }
    const keys = bags.filter((b) => b.kind === 'key');
    if (keys.length === 0) return err('the PKCS#12 file holds no private key');
    if (keys.length > 1) return err(`the PKCS#12 file holds ${keys.length} private keys; export the one to import on its own`);
    const keyBag = keys[0]!;
    let key: KeyObject;
    try {
      key = keyFromBag(keyBag, passphrase);
    } catch (e) {
      if (e instanceof Pkcs12Problem) throw e;
      throw new Pkcs12Problem(`the PKCS#12 file's private key is not one OpenSSL can read: ${(e as Error).message.replace(/^error:[0-9A-F]+:/, '')}`);
    }
    return ok({ key, certificates: bags.filter((b) => b.kind === 'certificate').map((b) => b.der), ...(keyBag.friendlyName === undefined ? {} : { friendlyName: keyBag.friendlyName }) });
  } catch (e) {
    // A Pkcs12Problem says it all; anything else is forge failing on input it did not expect.
    return err(e instanceof Pkcs12Problem ? e.message : `the PKCS#12 file cannot be read: ${(e as Error).message}`);
  }
}

/**
 * Is this a PFX (RFC 7292 4), whatever its passphrase: a version 3 and an authenticated safe of
 * type data or signedData. Reads only the outer layer; for telling a PKCS#12 file from other DER.
 */
export function looksLikePkcs12(content: Buffer): boolean {
  try {
    const [versionNode, authSafeInfo] = children(decodeBer(content.toString('binary'), 'its outer structure'), 'a PFX');
    if (smallInteger(versionNode, 'the PFX version') !== 3) return false;
    const type = oidIn(children(authSafeInfo, 'the authenticated safe')[0], 'the authenticated safe type');
    return type === OID.data || type === OID.signedData;
  } catch {
    return false;
  }
}
