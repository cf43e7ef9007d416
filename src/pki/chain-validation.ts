/**
 * Certification path validation (RFC 5280 6.1) for the certificate a peer authenticates with,
 * simplified as strongSwan does it: the path is built from the end entity up through the
 * certificates the peer sent to a configured CA, which is trusted as it is; no policy
 * processing and no name constraints (a critical extension for either is one this code does
 * not process, so the certificate is refused, RFC 5280 4.2).
 *
 * Each certificate is checked in turn from the end entity upward, each rule in a fixed order, and
 * the first broken rule ends the validation with a message that names the certificate and says
 * plainly what is wrong with it. `checks` holds a line for every rule that was checked, for
 * `ikekm pki verify` and the log.
 */
import { certificateName, keyPurposeName, keyUsageText, type Certificate } from './certificate.js';
import { KEY_PURPOSE_OIDS } from './x509-extension.js';
import { crlIsStale, type Crl } from './crl.js';
import { sameName, type DistinguishedName } from './distinguished-name.js';
import { printable } from './display-text.js';
import { describeScheme, verifyData } from './signature-algorithm.js';
import { extensionLabel } from './x509-extension.js';
import { formatTime } from './x509-time.js';

export type ChainRule =
  | 'signature'
  | 'not-yet-valid'
  | 'expired'
  | 'issuer-unknown'
  | 'not-a-ca'
  | 'path-length'
  | 'key-usage'
  | 'extended-key-usage'
  | 'critical-extension'
  | 'revoked'
  | 'unsupported-algorithm';

export interface ChainInput {
  readonly endEntity: Certificate;
  /** As the peer sent them: any order, possibly with certificates that belong to no path. */
  readonly intermediates: readonly Certificate[];
  /** The configured CA certificates, trusted as they are (an intermediate CA configured here is an anchor too). */
  readonly anchors: readonly Certificate[];
  readonly crls: readonly Crl[];
  /** Now, injected. */
  readonly atMs: number;
}

export type ChainVerdict =
  | { readonly ok: true; /** End entity first, anchor last. */ readonly chain: readonly Certificate[]; readonly checks: readonly string[] }
  | {
      readonly ok: false;
      readonly rule: ChainRule;
      readonly certificate: Certificate;
      readonly message: string;
      readonly checks: readonly string[];
      /**
       * The path as far as it was built, end entity first: the refused certificate is its last,
       * unless it is the issuer found for that last one (a CA refused for what it issued).
       */
      readonly chain: readonly Certificate[];
    };

/** Paths longer than this are not followed (strongSwan's MAX_TRUST_PATH_LEN is 7; deep PKIs are rare). */
export const MAX_CHAIN_LENGTH = 10;

const PASSED = '✓';
const FAILED = '✗';

/**
 * Key purposes that let a certificate authenticate IKE: ipsecIKE and anyExtendedKeyUsage (RFC
 * 4945 5.1.3.12), and serverAuth and clientAuth, which strongSwan and Windows peers use.
 */
const IKE_KEY_PURPOSES: readonly string[] = [KEY_PURPOSE_OIDS.ipsecIKE, KEY_PURPOSE_OIDS.serverAuth, KEY_PURPOSE_OIDS.clientAuth, KEY_PURPOSE_OIDS.anyExtendedKeyUsage];

type Refusal = { readonly rule: ChainRule; readonly certificate: Certificate; readonly reason: string };

/** How checks lines name a certificate: its subject, or its serial when the subject is empty (RFC 5280 4.1.2.6). */
function shortName(c: Certificate): string {
  return c.subject.text === '' ? `(empty subject, serial ${c.serialText})` : printable(c.subject.text);
}

const quoted = (c: Certificate): string => `"${printable(c.subject.text)}"`;
const quotedName = (name: DistinguishedName): string => `"${printable(name.text)}"`;
const hex = (octets: Buffer): string => [...octets].map((o) => o.toString(16).padStart(2, '0')).join(':');

export function validateChain(input: ChainInput): ChainVerdict {
  const { atMs, anchors } = input;
  const checks: string[] = [];
  const refuse = ({ rule, certificate, reason }: Refusal): ChainVerdict => {
    const message = `${certificateName(certificate)}: ${reason}`;
    checks.push(`${message} ${FAILED}`);
    return { ok: false, rule, certificate, message, checks, chain: [...chain] };
  };
  const isAnchor = (c: Certificate): boolean => anchors.some((a) => a.der.equals(c.der));

  const chain: Certificate[] = [input.endEntity];
  for (;;) {
    const current = chain[chain.length - 1]!;
    const name = shortName(current);
    const endEntity = chain.length === 1;

    // RFC 5280 6.1.3 (a)(2): the validity period includes the current time; for anchors too.
    if (current.notBeforeMs > atMs) return refuse({ rule: 'not-yet-valid', certificate: current, reason: `not valid before ${formatTime(current.notBeforeMs)} (now ${formatTime(atMs)})` });
    if (current.notAfterMs < atMs) return refuse({ rule: 'expired', certificate: current, reason: `expired at ${formatTime(current.notAfterMs)} (now ${formatTime(atMs)})` });
    checks.push(`${name}: valid ${formatTime(current.notBeforeMs)} .. ${formatTime(current.notAfterMs)} ${PASSED}`);

    if (isAnchor(current)) {
      if (endEntity) {
        const refusal = endEntityRules(current, checks);
        if (refusal !== undefined) return refuse(refusal);
      }
      const critical = criticalExtensionRule(current, checks);
      if (critical !== undefined) return refuse(critical);
      checks.push(`${name}: a configured CA, trusted as it is ${PASSED}`);
      return { ok: true, chain, checks };
    }

    const issuer = findIssuer(current, input, chain, checks);
    if (!issuer.ok) return refuse(issuer.refusal);
    if (endEntity && current.publicKey === undefined) {
      return refuse({ rule: 'unsupported-algorithm', certificate: current, reason: `its key (${current.keyDescription}) is not one ikekm checks IKE signatures with` });
    }

    const ca = caRule(issuer.value, current, isAnchor(issuer.value), checks);
    if (ca !== undefined) return refuse(ca);
    const pathLength = pathLengthRule(issuer.value, chain, checks);
    if (pathLength !== undefined) return refuse(pathLength);
    if (endEntity) {
      const refusal = endEntityRules(current, checks);
      if (refusal !== undefined) return refuse(refusal);
    }
    const critical = criticalExtensionRule(current, checks);
    if (critical !== undefined) return refuse(critical);
    const revoked = revocationRule(current, issuer.value, input.crls, atMs, checks);
    if (revoked !== undefined) return refuse(revoked);

    chain.push(issuer.value);
    if (chain.length > MAX_CHAIN_LENGTH) {
      return refuse({ rule: 'path-length', certificate: input.endEntity, reason: `its chain is longer than ${MAX_CHAIN_LENGTH} certificates, which ikekm does not follow` });
    }
  }
}

type IssuerResult = { readonly ok: true; readonly value: Certificate } | { readonly ok: false; readonly refusal: Refusal };

/**
 * The certificate that issued `current` (RFC 5280 6.1.3 (a)(1), (a)(4)): named as its issuer,
 * with the key identifier its authorityKeyIdentifier gives (RFC 5280 4.2.1.1) when both are
 * there, and whose key verifies its signature. A certificate already in the chain is not tried
 * again (a loop).
 */
function findIssuer(current: Certificate, input: ChainInput, chain: readonly Certificate[], checks: string[]): IssuerResult {
  const seen = (c: Certificate): boolean => chain.some((x) => x.der.equals(c.der));
  const namedAnywhere = [...input.intermediates, ...input.anchors].filter((c) => sameName(c.subject, current.issuer));
  const named = namedAnywhere.filter((c) => !seen(c));
  const keyIdFits = (c: Certificate): boolean => c.subjectKeyId === undefined || current.authorityKeyId === undefined || c.subjectKeyId.equals(current.authorityKeyId);
  const candidates = named.filter(keyIdFits).filter((c, i, all) => all.findIndex((x) => x.der.equals(c.der)) === i);

  if (candidates.length === 0) {
    const configured = input.anchors.length === 0 ? 'no CA configured' : `configured: ${input.anchors.map(quoted).join(', ')}`;
    if (named.length > 0) {
      const reason = `issued by ${quotedName(current.issuer)} with authorityKeyIdentifier ${hex(current.authorityKeyId!)}, but the certificates of that name have other key identifiers (${configured})`;
      return { ok: false, refusal: { rule: 'issuer-unknown', certificate: current, reason } };
    }
    if (current.selfSigned) return { ok: false, refusal: { rule: 'issuer-unknown', certificate: current, reason: `is self-signed and not a configured CA (${configured})` } };
    if (namedAnywhere.length > 0) {
      const reason = `issued by ${quotedName(current.issuer)}, which leads back into its own chain without reaching a configured CA (${configured})`;
      return { ok: false, refusal: { rule: 'issuer-unknown', certificate: current, reason } };
    }
    const reason = `issued by ${quotedName(current.issuer)} which is neither among the peer's certificates nor a configured CA (${configured})`;
    return { ok: false, refusal: { rule: 'issuer-unknown', certificate: current, reason } };
  }

  if (!current.signatureScheme.ok) {
    return { ok: false, refusal: { rule: 'unsupported-algorithm', certificate: current, reason: `its signature cannot be checked: ${current.signatureScheme.error}` } };
  }
  const scheme = current.signatureScheme.value;
  const usable = candidates.filter((c) => c.publicKey !== undefined);
  if (usable.length === 0) {
    const first = candidates[0]!;
    return { ok: false, refusal: { rule: 'unsupported-algorithm', certificate: current, reason: `its issuer ${quoted(first)} has a key ikekm cannot check signatures with (${first.keyDescription})` } };
  }
  // Among certificates whose key verifies, a configured CA wins over a copy the peer sent (the
  // same name and key, say an expired edition of a renewed intermediate): strongSwan too tries
  // trusted issuers first. Otherwise the peer's certificates come first, in the order sent.
  const verifying = usable.filter((c) => verifyData(scheme, c.publicKey!, current.tbs, current.signature));
  const issuer = verifying.find((c) => input.anchors.some((a) => a.der.equals(c.der))) ?? verifying[0];
  if (issuer === undefined) {
    const others = usable.length - 1;
    const more = others === 0 ? '' : ` (nor with the keys of ${others} other certificate${others === 1 ? '' : 's'} of that name)`;
    return { ok: false, refusal: { rule: 'signature', certificate: current, reason: `its signature (${describeScheme(scheme)}) does not verify with the key of ${quoted(usable[0]!)}${more}` } };
  }
  const source = input.anchors.some((a) => a.der.equals(issuer.der)) ? 'a configured CA' : 'sent by the peer';
  checks.push(`${shortName(current)}: signature ${describeScheme(scheme)} by ${shortName(issuer)} (${source}) ${PASSED}`);
  return { ok: true, value: issuer };
}

/**
 * RFC 5280 4.2.1.9 and 6.1.4 (k): an issuer is a CA by basicConstraints cA=TRUE; a version 1
 * certificate has no extensions and is a CA only when configured as one. RFC 5280 4.2.1.3 and
 * 6.1.4 (n): a keyUsage present must have keyCertSign.
 */
function caRule(issuer: Certificate, subject: Certificate, issuerIsAnchor: boolean, checks: string[]): Refusal | undefined {
  const name = shortName(issuer);
  const below = quoted(subject);
  if (issuer.version === 1) {
    if (!issuerIsAnchor) return { rule: 'not-a-ca', certificate: issuer, reason: `is a version 1 certificate, which is a CA only when configured as one (RFC 5280 6.1.4 (k)), but issued ${below}` };
    checks.push(`${name}: a version 1 certificate, a CA because it is configured as one ${PASSED}`);
    return undefined;
  }
  if (issuer.basicConstraints?.ca !== true) {
    const why = issuer.basicConstraints === undefined ? 'no basicConstraints extension' : 'basicConstraints cA=FALSE';
    return { rule: 'not-a-ca', certificate: issuer, reason: `is not a CA (${why}, RFC 5280 4.2.1.9) but issued ${below}` };
  }
  if (issuer.keyUsage !== undefined && !issuer.keyUsage.has('keyCertSign')) {
    return { rule: 'not-a-ca', certificate: issuer, reason: `keyUsage ${keyUsageText(issuer.keyUsage)} lacks keyCertSign, which a CA needs to issue ${below} (RFC 5280 4.2.1.3)` };
  }
  checks.push(`${name}: a CA (basicConstraints cA=TRUE${issuer.keyUsage === undefined ? '' : ', keyUsage keyCertSign'}) ${PASSED}`);
  return undefined;
}

/**
 * RFC 5280 4.2.1.9: pathLenConstraint is the number of intermediate CA certificates that may
 * follow the CA in a path, the end entity not counted (self-issued ones are counted here too).
 */
function pathLengthRule(issuer: Certificate, chain: readonly Certificate[], checks: string[]): Refusal | undefined {
  const limit = issuer.basicConstraints?.pathLen;
  if (limit === undefined) return undefined;
  // The CAs below the issuer: everything in the chain so far but the end entity, nearest first.
  const below = chain.slice(1).reverse();
  if (below.length <= limit) {
    checks.push(`${shortName(issuer)}: pathLenConstraint ${limit}, ${below.length} CA${below.length === 1 ? '' : 's'} below it ${PASSED}`);
    return undefined;
  }
  const allowed = limit === 0 ? 'no CA' : `${limit} CA${limit === 1 ? '' : 's'}`;
  const reason =
    below.length === 1 ? `pathLenConstraint ${limit} allows ${allowed} below it, but ${quoted(below[0]!)} is one` : `pathLenConstraint ${limit} allows ${allowed} below it, but there are ${below.length}: ${below.map(quoted).join(', ')}`;
  return { rule: 'path-length', certificate: issuer, reason };
}

/** RFC 4945 5.1.3.2 and 5.1.3.12: what the end entity's key may be used for. */
function endEntityRules(endEntity: Certificate, checks: string[]): Refusal | undefined {
  const name = shortName(endEntity);
  const usage = endEntity.keyUsage;
  if (usage === undefined) {
    checks.push(`${name}: no keyUsage extension (any use) ${PASSED}`);
  } else if (!usage.has('digitalSignature') && !usage.has('nonRepudiation')) {
    return { rule: 'key-usage', certificate: endEntity, reason: `keyUsage ${keyUsageText(usage)} lacks digitalSignature, which IKE signatures need` };
  } else {
    checks.push(`${name}: keyUsage ${keyUsageText(usage)} ${PASSED}`);
  }
  const purposes = endEntity.extendedKeyUsage;
  if (purposes === undefined) {
    checks.push(`${name}: no extendedKeyUsage extension (any purpose) ${PASSED}`);
  } else if (!purposes.some((p) => IKE_KEY_PURPOSES.includes(p))) {
    const reason = `extendedKeyUsage ${purposes.map(keyPurposeName).join(', ')} has none of ipsecIKE, serverAuth, clientAuth, anyExtendedKeyUsage, which IKE needs (RFC 4945 5.1.3.12)`;
    return { rule: 'extended-key-usage', certificate: endEntity, reason };
  } else {
    checks.push(`${name}: extendedKeyUsage ${purposes.map(keyPurposeName).join(', ')} ${PASSED}`);
  }
  return undefined;
}

/** RFC 5280 4.2: a certificate with a critical extension the application does not process MUST be rejected. */
function criticalExtensionRule(c: Certificate, checks: string[]): Refusal | undefined {
  const unknown = c.unknownCriticalExtensions;
  if (unknown.length === 0) {
    checks.push(`${shortName(c)}: no critical extension ikekm does not process ${PASSED}`);
    return undefined;
  }
  const list = unknown.map(extensionLabel).join(', ');
  return { rule: 'critical-extension', certificate: c, reason: `has critical extension${unknown.length === 1 ? '' : 's'} ${list} that ikekm does not process (RFC 5280 4.2)` };
}

/** Why a CRL cannot speak for `certificate` issued by `issuer`, or undefined when it can. */
function crlUnusable(crl: Crl, certificate: Certificate, issuer: Certificate): string | undefined {
  if (crl.unknownCriticalExtensions.length > 0) {
    return `it has critical extension${crl.unknownCriticalExtensions.length === 1 ? '' : 's'} ${crl.unknownCriticalExtensions.map(extensionLabel).join(', ')} that ikekm does not process (RFC 5280 5.2)`;
  }
  if (!crl.signatureScheme.ok) return `its signature cannot be checked: ${crl.signatureScheme.error}`;
  if (issuer.publicKey === undefined) return `the key of ${quoted(issuer)} (${issuer.keyDescription}) cannot check signatures`;
  if (!verifyData(crl.signatureScheme.value, issuer.publicKey, crl.tbs, crl.signature)) {
    return `its signature (${describeScheme(crl.signatureScheme.value)}) does not verify with the key of ${quoted(issuer)}`;
  }
  // RFC 5280 4.2.1.3: a key that signs CRLs has cRLSign when keyUsage is present.
  if (issuer.keyUsage !== undefined && !issuer.keyUsage.has('cRLSign')) return `the keyUsage of ${quoted(issuer)} (${keyUsageText(issuer.keyUsage)}) lacks cRLSign`;
  const scope = crl.scope;
  if (scope !== undefined) {
    // RFC 5280 5.2.5: ikekm uses complete, direct CRLs only; a partial one says nothing of the reasons it leaves out.
    if (scope.indirect) return 'it is an indirect CRL, which ikekm does not use';
    if (scope.someReasons) return 'it covers only some revocation reasons, which ikekm does not use';
    if (scope.onlyAttributeCerts) return 'it covers only attribute certificates';
    const isCa = certificate.basicConstraints?.ca === true;
    if (scope.onlyUserCerts && isCa) return 'it covers only end-entity certificates';
    if (scope.onlyCaCerts && !isCa) return 'it covers only CA certificates';
  }
  return undefined;
}

/**
 * RFC 5280 6.3, as strongSwan does it with CRL files: the CRLs named for the issuer whose
 * signature verifies with the issuer's key count; the certificate is revoked if any of them lists
 * it, even a stale one (a revocation does not expire). Without a CRL for the issuer, revocation
 * is not checked, and `checks` says so.
 */
function revocationRule(c: Certificate, issuer: Certificate, crls: readonly Crl[], atMs: number, checks: string[]): Refusal | undefined {
  const name = shortName(c);
  const issuerText = shortName(issuer);
  const named = crls.filter((crl) => sameName(crl.issuer, issuer.subject));
  if (named.length === 0) {
    checks.push(`${name}: no CRL configured for issuer ${issuerText}, revocation not checked`);
    return undefined;
  }
  const usable: Crl[] = [];
  for (const crl of named) {
    const why = crlUnusable(crl, c, issuer);
    if (why === undefined) usable.push(crl);
    else checks.push(`${name}: CRL of ${issuerText} (thisUpdate ${formatTime(crl.thisUpdateMs)}) skipped: ${why}`);
  }
  if (usable.length === 0) {
    checks.push(`${name}: no usable CRL of ${issuerText}, revocation not checked`);
    return undefined;
  }
  // Newest first, so the message and the check line cite the most recent word of the CA.
  usable.sort((a, b) => b.thisUpdateMs - a.thisUpdateMs);
  const stale = (crl: Crl): string => (crlIsStale(crl, atMs) ? `, stale: nextUpdate ${formatTime(crl.nextUpdateMs!)} has passed` : '');
  for (const crl of usable) {
    const entry = crl.revoked.get(c.serialText);
    if (entry === undefined) continue;
    const reason = `revoked at ${formatTime(entry.atMs)}${entry.reason === undefined ? '' : ` (${entry.reason})`} by the CRL of ${quoted(issuer)} (thisUpdate ${formatTime(crl.thisUpdateMs)}${stale(crl)})`;
    return { rule: 'revoked', certificate: c, reason };
  }
  const newest = usable[0]!;
  checks.push(`${name}: not revoked (CRL of ${issuerText}, thisUpdate ${formatTime(newest.thisUpdateMs)}${stale(newest)}) ${PASSED}`);
  return undefined;
}
