/**
 * strongSwan's proposal syntax ("aes256gcm16-prfsha384-ecp384"), so that `proposals` and
 * `esp_proposals` lines from swanctl.conf (and `ike=` / `esp=` from ipsec.conf) translate by copy
 * and paste. A proposal is algorithm keywords joined by dashes; within one kind the order is the
 * order of preference, across kinds it does not matter (strongSwan docs, "Algorithm Proposals").
 *
 * The keywords are the ones strongSwan documents that name an IANA IKEv2 transform ID (RFC 7296
 * 3.3.2 and the IANA registry). A keyword parses even when ikekm's crypto registry does not
 * implement the algorithm (3des, aes128ctr, ...): selection skips what the registry lacks, the
 * same way it skips what the peer does not offer. strongSwan-private algorithms (sha256_96,
 * serpent, ntru, ...) have no IANA number and are rejected with a reason.
 *
 * Rules, matched to what strongSwan's parser does unless noted:
 * - IKE without an explicit PRF takes the PRFs of the same hashes as its integrity algorithms, in
 *   their order (sha256 → prfsha256, aesxcbc → prfaesxcbc). With neither (e.g. "aes256gcm16-ecp384")
 *   the proposal is an error: an IKE SA needs a PRF (RFC 7296 2.13) and strongSwan refuses it too.
 * - An AEAD-only proposal needs no integrity algorithm (RFC 5282 8). An integrity keyword next to
 *   an AEAD is accepted and then dropped, after it has supplied the PRF: "aes256gcm16-sha384-ecp384"
 *   is a common strongSwan line meaning prfsha384 (Martin Willi on the strongSwan users list,
 *   2014-11: "you may still specify one to at the same time implicitly define a PRF in an IKE
 *   proposal. The integrity algorithm is stripped implicitly from AEAD-only proposals").
 * - AEAD and classic encryption in one proposal is an error (RFC 7296 3.3: separate proposals).
 * - IKE needs at least one DH group; "none"/"modpnone" are dropped from IKE proposals.
 * - ESP: a DH group means PFS on CREATE_CHILD_SA; "none" next to a group makes PFS optional
 *   (RFC 7296 3.3.3: DH NONE offered); "none" alone means no PFS and is normalised to [].
 * - ESP with classic encryption and no integrity is an error. strongSwan accepts it (ESP without
 *   integrity protection); ikekm does not (RFC 8221 5: encryption without authentication MUST
 *   NOT be used except with combined-mode).
 * - ESP: PRF keywords are dropped (strongSwan does the same); ESN defaults to [NO_ESN].
 * - esn/noesn in an IKE proposal is an error (ESN is an ESP/AH transform, RFC 7296 3.3.3).
 * Keywords are matched case-insensitively; whitespace around a keyword is ignored; a keyword
 * given twice counts once.
 */
import { assertNever } from '../wire/assert-never.js';
import { DhId, EncrId, EsnId, IntegId, PrfId, TransformType } from '../wire/iana.js';
import { err, ok, type Result } from '../result.js';

/** One proposal's algorithms, each list in preference order. */
export interface AlgorithmSet {
  readonly encryption: readonly { readonly id: EncrId; readonly keyLengthBits?: number }[];
  readonly integrity: readonly IntegId[];
  readonly prf: readonly PrfId[];
  /** For ESP: non-empty means PFS (DhId.NONE in the list: PFS optional). */
  readonly dh: readonly DhId[];
  /** ESP only; default [NO_ESN]. */
  readonly esn: readonly EsnId[];
}

export type ProposalProtocol = 'ike' | 'esp';

/**
 * Why a proposal string was refused. `position` is the 0-based offset in `text` of the keyword at
 * fault; for a rule about the proposal as a whole ("a PRF is required") it is `text.length`.
 */
export class ProposalSyntaxError extends Error {
  override readonly name = 'ProposalSyntaxError';
  constructor(
    readonly text: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(`${reason} (at position ${position} of '${text}')`);
  }
}

// ---- keyword table ----

type Algorithm =
  | { readonly type: typeof TransformType.ENCR; readonly id: EncrId; readonly keyLengthBits?: number }
  | { readonly type: typeof TransformType.PRF; readonly id: PrfId }
  | { readonly type: typeof TransformType.INTEG; readonly id: IntegId }
  | { readonly type: typeof TransformType.DH; readonly id: DhId }
  | { readonly type: typeof TransformType.ESN; readonly id: EsnId };

const KEYWORDS = new Map<string, Algorithm>();
/** Map key of an algorithm → its canonical keyword (the first one registered). */
const CANONICAL = new Map<string, string>();

function algorithmKey(type: number, id: number, keyLengthBits?: number): string {
  return `${type}:${id}:${keyLengthBits ?? 0}`;
}

/** Registers the canonical keyword first, then its aliases. */
function define(algorithm: Algorithm, canonical: string, ...aliases: string[]): void {
  const keyLength = algorithm.type === TransformType.ENCR ? algorithm.keyLengthBits : undefined;
  CANONICAL.set(algorithmKey(algorithm.type, algorithm.id, keyLength), canonical);
  for (const name of [canonical, ...aliases]) KEYWORDS.set(name, algorithm);
}

const encr = (id: EncrId, keyLengthBits?: number): Algorithm =>
  keyLengthBits === undefined ? { type: TransformType.ENCR, id } : { type: TransformType.ENCR, id, keyLengthBits };

// Encryption (strongSwan "IKEv2 Cipher Suites": Encryption and AEAD algorithms).
define(encr(EncrId.ENCR_NULL), 'null');
define(encr(EncrId.ENCR_DES), 'des');
define(encr(EncrId.ENCR_3DES), '3des');
define(encr(EncrId.ENCR_CAST, 128), 'cast128');
define(encr(EncrId.ENCR_BLOWFISH, 128), 'blowfish128', 'blowfish');
define(encr(EncrId.ENCR_BLOWFISH, 192), 'blowfish192');
define(encr(EncrId.ENCR_BLOWFISH, 256), 'blowfish256');
for (const bits of [128, 192, 256] as const) {
  const aes = `aes${bits}`;
  define(encr(EncrId.ENCR_AES_CBC, bits), aes, ...(bits === 128 ? ['aes'] : []));
  define(encr(EncrId.ENCR_AES_CTR, bits), `${aes}ctr`);
  define(encr(EncrId.ENCR_AES_CCM_8, bits), `${aes}ccm8`, `${aes}ccm64`);
  define(encr(EncrId.ENCR_AES_CCM_12, bits), `${aes}ccm12`, `${aes}ccm96`);
  define(encr(EncrId.ENCR_AES_CCM_16, bits), `${aes}ccm16`, `${aes}ccm128`, `${aes}ccm`);
  define(encr(EncrId.ENCR_AES_GCM_8, bits), `${aes}gcm8`, `${aes}gcm64`);
  define(encr(EncrId.ENCR_AES_GCM_12, bits), `${aes}gcm12`, `${aes}gcm96`);
  define(encr(EncrId.ENCR_AES_GCM_16, bits), `${aes}gcm16`, `${aes}gcm128`, `${aes}gcm`);
  define(encr(EncrId.ENCR_NULL_AUTH_AES_GMAC, bits), `${aes}gmac`);
  const camellia = `camellia${bits}`;
  define(encr(EncrId.ENCR_CAMELLIA_CBC, bits), camellia, ...(bits === 128 ? ['camellia'] : []));
  define(encr(EncrId.ENCR_CAMELLIA_CTR, bits), `${camellia}ctr`);
  define(encr(EncrId.ENCR_CAMELLIA_CCM_8, bits), `${camellia}ccm8`, `${camellia}ccm64`);
  define(encr(EncrId.ENCR_CAMELLIA_CCM_12, bits), `${camellia}ccm12`, `${camellia}ccm96`);
  define(encr(EncrId.ENCR_CAMELLIA_CCM_16, bits), `${camellia}ccm16`, `${camellia}ccm128`);
}
define(encr(EncrId.ENCR_CHACHA20_POLY1305), 'chacha20poly1305');

// Integrity.
const integ = (id: IntegId): Algorithm => ({ type: TransformType.INTEG, id });
define(integ(IntegId.AUTH_HMAC_SHA1_96), 'sha1', 'sha');
define(integ(IntegId.AUTH_HMAC_SHA1_160), 'sha1_160');
define(integ(IntegId.AUTH_HMAC_SHA2_256_128), 'sha256', 'sha2_256');
define(integ(IntegId.AUTH_HMAC_SHA2_384_192), 'sha384', 'sha2_384');
define(integ(IntegId.AUTH_HMAC_SHA2_512_256), 'sha512', 'sha2_512');
define(integ(IntegId.AUTH_HMAC_MD5_96), 'md5');
define(integ(IntegId.AUTH_HMAC_MD5_128), 'md5_128');
define(integ(IntegId.AUTH_AES_XCBC_96), 'aesxcbc');
define(integ(IntegId.AUTH_AES_CMAC_96), 'aescmac');

// Pseudo-random functions.
const prf = (id: PrfId): Algorithm => ({ type: TransformType.PRF, id });
define(prf(PrfId.PRF_HMAC_SHA1), 'prfsha1');
define(prf(PrfId.PRF_HMAC_SHA2_256), 'prfsha256');
define(prf(PrfId.PRF_HMAC_SHA2_384), 'prfsha384');
define(prf(PrfId.PRF_HMAC_SHA2_512), 'prfsha512');
define(prf(PrfId.PRF_HMAC_MD5), 'prfmd5');
define(prf(PrfId.PRF_AES128_XCBC), 'prfaesxcbc');
define(prf(PrfId.PRF_AES128_CMAC), 'prfaescmac');

// Key exchange methods (DH groups).
const dh = (id: DhId): Algorithm => ({ type: TransformType.DH, id });
define(dh(DhId.NONE), 'none', 'modpnone');
define(dh(DhId.MODP_768), 'modp768');
define(dh(DhId.MODP_1024), 'modp1024');
define(dh(DhId.MODP_1536), 'modp1536');
define(dh(DhId.MODP_2048), 'modp2048');
define(dh(DhId.MODP_3072), 'modp3072');
define(dh(DhId.MODP_4096), 'modp4096');
define(dh(DhId.MODP_6144), 'modp6144');
define(dh(DhId.MODP_8192), 'modp8192');
define(dh(DhId.MODP_1024_160), 'modp1024s160');
define(dh(DhId.MODP_2048_224), 'modp2048s224');
define(dh(DhId.MODP_2048_256), 'modp2048s256');
define(dh(DhId.ECP_192), 'ecp192');
define(dh(DhId.ECP_224), 'ecp224');
define(dh(DhId.ECP_256), 'ecp256');
define(dh(DhId.ECP_384), 'ecp384');
define(dh(DhId.ECP_521), 'ecp521');
define(dh(DhId.BRAINPOOL_P224R1), 'ecp224bp');
define(dh(DhId.BRAINPOOL_P256R1), 'ecp256bp');
define(dh(DhId.BRAINPOOL_P384R1), 'ecp384bp');
define(dh(DhId.BRAINPOOL_P512R1), 'ecp512bp');
define(dh(DhId.CURVE25519), 'x25519', 'curve25519');
define(dh(DhId.CURVE448), 'x448', 'curve448');

// Extended sequence numbers.
define({ type: TransformType.ESN, id: EsnId.ESN }, 'esn');
define({ type: TransformType.ESN, id: EsnId.NO_ESN }, 'noesn');

/**
 * strongSwan keywords for algorithms outside the IANA registry (private-use transform IDs that
 * only strongSwan understands) or features ikekm does not have; named so the error says why.
 */
const NOT_IANA = new Set([
  'sha256_96',
  'sha2_256_96',
  'camelliaxcbc',
  'prfcamelliaxcbc',
  'modpnull',
  'chacha20poly1305compat',
  'serpent',
  'serpent128',
  'serpent192',
  'serpent256',
  'twofish',
  'twofish128',
  'twofish192',
  'twofish256',
  'ntru112',
  'ntru128',
  'ntru192',
  'ntru256',
]);

/** The strongSwan keyword of a transform, if it has one (KEY_LENGTH in bits for encryption). */
export function transformKeyword(transformType: number, transformId: number, keyLengthBits?: number): string | undefined {
  return CANONICAL.get(algorithmKey(transformType, transformId, transformType === TransformType.ENCR ? keyLengthBits : undefined));
}

/**
 * Combined-mode (AEAD) ciphers: no separate integrity transform (RFC 5282 8, RFC 7634 4;
 * ENCR_NULL_AUTH_AES_GMAC is RFC 4543's integrity-only combined mode).
 */
export function isAeadEncryption(id: EncrId): boolean {
  switch (id) {
    case EncrId.ENCR_AES_CCM_8:
    case EncrId.ENCR_AES_CCM_12:
    case EncrId.ENCR_AES_CCM_16:
    case EncrId.ENCR_AES_GCM_8:
    case EncrId.ENCR_AES_GCM_12:
    case EncrId.ENCR_AES_GCM_16:
    case EncrId.ENCR_NULL_AUTH_AES_GMAC:
    case EncrId.ENCR_CAMELLIA_CCM_8:
    case EncrId.ENCR_CAMELLIA_CCM_12:
    case EncrId.ENCR_CAMELLIA_CCM_16:
    case EncrId.ENCR_CHACHA20_POLY1305:
      return true;
    case EncrId.ENCR_DES_IV64:
    case EncrId.ENCR_DES:
    case EncrId.ENCR_3DES:
    case EncrId.ENCR_RC5:
    case EncrId.ENCR_IDEA:
    case EncrId.ENCR_CAST:
    case EncrId.ENCR_BLOWFISH:
    case EncrId.ENCR_3IDEA:
    case EncrId.ENCR_DES_IV32:
    case EncrId.ENCR_NULL:
    case EncrId.ENCR_AES_CBC:
    case EncrId.ENCR_AES_CTR:
    case EncrId.ENCR_CAMELLIA_CBC:
    case EncrId.ENCR_CAMELLIA_CTR:
      return false;
    default:
      return assertNever(id, 'EncrId');
  }
}

/**
 * The PRF built on the same function as an integrity algorithm, which strongSwan assumes for an
 * IKE proposal without an explicit PRF. Undefined when there is none (DES-MAC, GMAC, ...).
 */
export function prfForIntegrity(id: IntegId): PrfId | undefined {
  switch (id) {
    case IntegId.AUTH_HMAC_SHA1_96:
    case IntegId.AUTH_HMAC_SHA1_160:
      return PrfId.PRF_HMAC_SHA1;
    case IntegId.AUTH_HMAC_SHA2_256_128:
      return PrfId.PRF_HMAC_SHA2_256;
    case IntegId.AUTH_HMAC_SHA2_384_192:
      return PrfId.PRF_HMAC_SHA2_384;
    case IntegId.AUTH_HMAC_SHA2_512_256:
      return PrfId.PRF_HMAC_SHA2_512;
    case IntegId.AUTH_HMAC_MD5_96:
    case IntegId.AUTH_HMAC_MD5_128:
      return PrfId.PRF_HMAC_MD5;
    case IntegId.AUTH_AES_XCBC_96:
      return PrfId.PRF_AES128_XCBC;
    case IntegId.AUTH_AES_CMAC_96:
      return PrfId.PRF_AES128_CMAC;
    case IntegId.NONE:
    case IntegId.AUTH_DES_MAC:
    case IntegId.AUTH_KPDK_MD5:
    case IntegId.AUTH_AES_128_GMAC:
    case IntegId.AUTH_AES_192_GMAC:
    case IntegId.AUTH_AES_256_GMAC:
      return undefined;
    default:
      return assertNever(id, 'IntegId');
  }
}

// ---- parsing ----

interface Token {
  readonly word: string;
  readonly position: number;
}

/** Splits on '-', keeping each keyword's offset; whitespace around a keyword is not part of it. */
function tokenize(text: string, base: number): Token[] | ProposalSyntaxError {
  const tokens: Token[] = [];
  let start = 0;
  for (const piece of text.split('-')) {
    const lead = piece.length - piece.trimStart().length;
    const word = piece.trim();
    const position = base + start + lead;
    if (word === '') {
      return new ProposalSyntaxError(text, base + start, 'empty algorithm keyword (two dashes, or a dash at an end)');
    }
    tokens.push({ word, position });
    start += piece.length + 1;
  }
  return tokens;
}

function pushUnique<T>(list: T[], value: T, same: (a: T, b: T) => boolean = (a, b) => a === b): void {
  if (!list.some((v) => same(v, value))) list.push(value);
}

/**
 * Parses one proposal. `protocol` decides the rules (module comment). Never throws: a bad line in
 * a configuration file is an error value with the position of the offending keyword.
 */
export function parseProposal(text: string, protocol: ProposalProtocol): Result<AlgorithmSet, ProposalSyntaxError> {
  return parseAt(text, protocol, text, 0);
}

/** `whole` is the text positions refer to (the full list in parseProposalList), `base` this part's offset in it. */
function parseAt(
  part: string,
  protocol: ProposalProtocol,
  whole: string,
  base: number,
): Result<AlgorithmSet, ProposalSyntaxError> {
  const fail = (position: number, reason: string) => err(new ProposalSyntaxError(whole, position, reason));
  const end = base + part.length;
  if (part.trim() === '') return fail(base, 'empty proposal');
  const tokens = tokenize(part, base);
  if (tokens instanceof ProposalSyntaxError) return fail(tokens.position, tokens.reason);

  const encryption: { id: EncrId; keyLengthBits?: number }[] = [];
  const integrity: IntegId[] = [];
  const prfs: PrfId[] = [];
  const groups: DhId[] = [];
  const esn: EsnId[] = [];
  let firstAead: Token | undefined;
  let firstClassic: Token | undefined;

  for (const token of tokens) {
    const lower = token.word.toLowerCase();
    const algorithm = KEYWORDS.get(lower);
    if (algorithm === undefined) {
      if (NOT_IANA.has(lower) || /^ke[1-7]_/.test(lower) || /^(kyber|ntrup|ntrur|saber|bike|frodo[as]|hqc|sike|mlkem)\d*$/.test(lower)) {
        return fail(token.position, `unsupported algorithm '${token.word}': a strongSwan extension without an IANA IKEv2 transform ID`);
      }
      return fail(token.position, `unknown algorithm '${token.word}'`);
    }
    switch (algorithm.type) {
      case TransformType.ENCR: {
        const entry = algorithm.keyLengthBits === undefined ? { id: algorithm.id } : { id: algorithm.id, keyLengthBits: algorithm.keyLengthBits };
        pushUnique(encryption, entry, (a, b) => a.id === b.id && a.keyLengthBits === b.keyLengthBits);
        if (isAeadEncryption(algorithm.id)) firstAead ??= token;
        else firstClassic ??= token;
        if (firstAead !== undefined && firstClassic !== undefined) {
          const later = firstAead.position > firstClassic.position ? firstAead : firstClassic;
          return fail(
            later.position,
            `AEAD '${firstAead.word}' and classic '${firstClassic.word}' encryption cannot be in one proposal (RFC 7296 3.3); write two proposals`,
          );
        }
        break;
      }
      case TransformType.INTEG:
        pushUnique(integrity, algorithm.id);
        break;
      case TransformType.PRF:
        pushUnique(prfs, algorithm.id);
        break;
      case TransformType.DH:
        pushUnique(groups, algorithm.id);
        break;
      case TransformType.ESN:
        if (protocol === 'ike') return fail(token.position, `'${token.word}' applies to ESP only: IKE SAs have no extended sequence numbers`);
        pushUnique(esn, algorithm.id);
        break;
      default:
        return assertNever(algorithm, 'algorithm');
    }
  }

  if (encryption.length === 0) return fail(end, 'an encryption algorithm is required');
  const aead = firstAead !== undefined;

  switch (protocol) {
    case 'ike': {
      // strongSwan: no explicit PRF → the PRFs of the integrity algorithms' hashes. This runs
      // before an AEAD proposal drops its integrity algorithms, so "aes256gcm16-sha384" gives prfsha384.
      if (prfs.length === 0) {
        for (const id of integrity) {
          const derived = prfForIntegrity(id);
          if (derived !== undefined) pushUnique(prfs, derived);
        }
      }
      if (prfs.length === 0) {
        return fail(end, 'a PRF is required in IKE proposals: add one (e.g. prfsha256) or, with classic encryption, an integrity algorithm that implies it');
      }
      if (!aead && integrity.length === 0) return fail(end, 'an integrity algorithm is required with classic (non-AEAD) encryption');
      const ikeGroups = groups.filter((g) => g !== DhId.NONE);
      if (ikeGroups.length === 0) return fail(end, 'a DH group is required in IKE proposals');
      return ok({ encryption, integrity: aead ? [] : integrity, prf: prfs, dh: ikeGroups, esn: [] });
    }
    case 'esp': {
      if (!aead && integrity.length === 0) {
        return fail(end, 'an integrity algorithm is required with classic (non-AEAD) encryption');
      }
      const pfs = groups.length === 1 && groups[0] === DhId.NONE ? [] : groups;
      return ok({ encryption, integrity: aead ? [] : integrity, prf: [], dh: pfs, esn: esn.length === 0 ? [EsnId.NO_ESN] : esn });
    }
    default:
      return assertNever(protocol, 'protocol');
  }
}

/**
 * strongSwan's `default` keyword in a proposal list, as ikekm reads it: the algorithms its crypto
 * registry implements that RFC 8247 / RFC 8221 recommend, AEAD first.
 */
export const DEFAULT_PROPOSALS: Readonly<Record<ProposalProtocol, readonly string[]>> = Object.freeze({
  ike: Object.freeze([
    'aes256gcm16-aes128gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-x25519-ecp256-ecp384-ecp521-modp3072-modp4096-modp2048',
    'aes256-aes128-sha256-sha384-sha512-prfsha256-prfsha384-prfsha512-x25519-ecp256-ecp384-ecp521-modp3072-modp4096-modp2048',
  ]),
  esp: Object.freeze(['aes256gcm16-aes128gcm16-chacha20poly1305', 'aes256-aes128-sha256-sha384-sha512']),
});

/**
 * A whole `proposals = ...` value: proposals separated by commas (swanctl.conf), an optional
 * trailing '!' (ipsec.conf's strict flag; ikekm always uses only what is configured) and
 * `default` expanded to DEFAULT_PROPOSALS. Positions in errors refer to the whole text.
 */
export function parseProposalList(text: string, protocol: ProposalProtocol): Result<AlgorithmSet[], ProposalSyntaxError> {
  const trimmedEnd = text.trimEnd();
  const body = trimmedEnd.endsWith('!') ? trimmedEnd.slice(0, -1) : text;
  const sets: AlgorithmSet[] = [];
  let offset = 0;
  for (const part of body.split(',')) {
    if (part.trim().toLowerCase() === 'default') {
      for (const line of DEFAULT_PROPOSALS[protocol]) {
        const parsed = parseProposal(line, protocol);
        if (!parsed.ok) throw new Error(`DEFAULT_PROPOSALS does not parse: ${parsed.error.message}`);
        sets.push(parsed.value);
      }
    } else {
      const parsed = parseAt(part, protocol, text, offset);
      if (!parsed.ok) return parsed;
      sets.push(parsed.value);
    }
    offset += part.length + 1;
  }
  return ok(sets);
}

// ---- formatting ----

function keywordOr(type: number, id: number, keyLengthBits?: number): string {
  return transformKeyword(type, id, keyLengthBits) ?? unknownKeyword(type, id, keyLengthBits);
}

/** How a transform without a keyword prints (strongSwan prints such transforms as UNKNOWN_<type>_<id>). */
export function unknownKeyword(type: number, id: number, keyLengthBits?: number): string {
  return `UNKNOWN_${type}_${id}${keyLengthBits === undefined ? '' : `_${keyLengthBits}`}`;
}

/**
 * The canonical strongSwan form of a set: encryption, integrity, PRF (IKE), DH, ESN (ESP; left
 * out when it is the default noesn), each kind in preference order, canonical keywords. Parsing
 * the result gives the same set back.
 */
export function formatProposal(set: AlgorithmSet, protocol: ProposalProtocol): string {
  const words: string[] = [];
  for (const e of set.encryption) words.push(keywordOr(TransformType.ENCR, e.id, e.keyLengthBits));
  for (const id of set.integrity) words.push(keywordOr(TransformType.INTEG, id));
  switch (protocol) {
    case 'ike':
      for (const id of set.prf) words.push(keywordOr(TransformType.PRF, id));
      for (const id of set.dh) words.push(keywordOr(TransformType.DH, id));
      break;
    case 'esp': {
      for (const id of set.dh) words.push(keywordOr(TransformType.DH, id));
      const defaultEsn = set.esn.length === 0 || (set.esn.length === 1 && set.esn[0] === EsnId.NO_ESN);
      if (!defaultEsn) for (const id of set.esn) words.push(keywordOr(TransformType.ESN, id));
      break;
    }
    default:
      return assertNever(protocol, 'protocol');
  }
  return words.join('-');
}
