/**
 * GeneralName (RFC 5280 4.2.1.6): what subjectAltName, issuerAltName and a CRL distribution
 * point hold. The forms IKE identities can be (RFC 4945 3.1: dNSName, rfc822Name, iPAddress,
 * directoryName) and the URI of a distribution point are read; the others are kept as their tag.
 */
import forge from 'node-forge';
import { formatIp } from '../wire/index.js';
import { err, ok, type Result } from '../result.js';
import { childrenOf, contentsOf, sequenceOf, type Asn1 } from './der.js';
import { nameFromAsn1, type DistinguishedName } from './distinguished-name.js';
import { printable } from './display-text.js';

export type GeneralName =
  | { readonly kind: 'dns'; readonly value: string }
  | { readonly kind: 'email'; readonly value: string }
  /** Dotted quad, or IPv6 in RFC 5952 canonical text (as ID payloads are printed). */
  | { readonly kind: 'ip'; readonly value: string }
  | { readonly kind: 'uri'; readonly value: string }
  | { readonly kind: 'dn'; readonly value: DistinguishedName }
  /** otherName [0], x400Address [3], ediPartyName [5], registeredID [8], or an iPAddress that is no address. */
  | { readonly kind: 'other'; readonly tag: number };

const { Class } = forge.asn1;

/** Tags of the GeneralName CHOICE (RFC 5280 4.2.1.6), all IMPLICIT but directoryName. */
const RFC822_NAME = 1;
const DNS_NAME = 2;
const DIRECTORY_NAME = 4;
const URI = 6;
const IP_ADDRESS = 7;

/** IA5String text: 7-bit only (X.680 41.4); anything else is an error, not a guess at a charset. */
function ia5(node: Asn1, what: string): Result<string, string> {
  const octets = contentsOf(node);
  if (octets === undefined) return err(`${what} is not a primitive string`);
  if (octets.some((o) => o > 0x7f)) return err(`${what} holds octets beyond IA5 (7-bit ASCII)`);
  return ok(octets.toString('latin1'));
}

export function generalNameOf(node: Asn1): Result<GeneralName, string> {
  if (node.tagClass !== Class.CONTEXT_SPECIFIC) return err('a GeneralName is not a context-specific tag');
  const tag = node.type as number;
  switch (tag) {
    case RFC822_NAME: {
      const value = ia5(node, 'an rfc822Name');
      return value.ok ? ok({ kind: 'email', value: value.value }) : value;
    }
    case DNS_NAME: {
      const value = ia5(node, 'a dNSName');
      return value.ok ? ok({ kind: 'dns', value: value.value }) : value;
    }
    case URI: {
      const value = ia5(node, 'a uniformResourceIdentifier');
      return value.ok ? ok({ kind: 'uri', value: value.value }) : value;
    }
    case DIRECTORY_NAME: {
      // Name is a CHOICE, so its tag is EXPLICIT (X.680 31.2.7): [4] wraps the SEQUENCE.
      const inner = childrenOf(node);
      if (inner?.length !== 1) return err('a directoryName does not hold one Name');
      const name = nameFromAsn1(inner[0]!);
      return name.ok ? ok({ kind: 'dn', value: name.value }) : err(`a directoryName: ${name.error}`);
    }
    case IP_ADDRESS: {
      const octets = contentsOf(node);
      if (octets === undefined) return err('an iPAddress is not an OCTET STRING');
      // 4 or 16 octets name an address; 8 or 32 are name-constraint ranges, which a SAN is not.
      return octets.length === 4 || octets.length === 16 ? ok({ kind: 'ip', value: formatIp(octets) }) : ok({ kind: 'other', tag });
    }
    default:
      return ok({ kind: 'other', tag });
  }
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName. */
export function generalNamesOf(node: Asn1): Result<GeneralName[], string> {
  const items = sequenceOf(node);
  if (items === undefined) return err('GeneralNames is not a SEQUENCE');
  return generalNameList(items);
}

/** The names of an IMPLICIT [n] GeneralNames (a distribution point's fullName). */
export function generalNameList(items: readonly Asn1[]): Result<GeneralName[], string> {
  const names: GeneralName[] = [];
  for (const item of items) {
    const name = generalNameOf(item);
    if (!name.ok) return name;
    names.push(name.value);
  }
  return ok(names);
}

const OTHER_TAG_NAMES: Record<number, string> = { 0: 'otherName', 3: 'x400Address', 5: 'ediPartyName', 7: 'iPAddress', 8: 'registeredID' };

/** `DNS:gw.example`, `IP:192.0.2.1`, `email:ops@example`, `URI:…`, `DN:"C=CH, CN=gw"`: strongSwan and OpenSSL's prefixes. */
export function describeGeneralName(name: GeneralName): string {
  switch (name.kind) {
    case 'dns':
      return `DNS:${printable(name.value)}`;
    case 'email':
      return `email:${printable(name.value)}`;
    case 'ip':
      return `IP:${name.value}`;
    case 'uri':
      return `URI:${printable(name.value)}`;
    case 'dn':
      return `DN:"${printable(name.value.text)}"`;
    case 'other':
      return `${OTHER_TAG_NAMES[name.tag] ?? 'unknown'}[${name.tag}]`;
  }
}
