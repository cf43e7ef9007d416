/**
 * X.500 Distinguished Names (RFC 5280 4.1.2.4) as IKE uses them: the subject and issuer of a
 * certificate, and the ID_DER_ASN1_DN identity (RFC 7296 3.5), which carries the DER of a Name.
 *
 * The text form is strongSwan's: attributes in DER order, `C=CH, O=ikekm, CN=gw.example`, so a
 * DN copied from `swanctl --list-certs` or `ikekm pki show` into a config means the same name.
 * Matching follows strongSwan too: the same attributes in the same order, values compared without
 * regard to case, and a value `*` in a pattern matching any value of that attribute.
 *
 * DER is read and written with node-forge's ASN.1 codec; a Name that does not decode is an error
 * value, never an exception.
 */
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { decodeDer, encodeDer, oidOf } from './der.js';

/** One attribute of a name (an AttributeTypeAndValue); multi-valued RDNs are flattened in order. */
export interface NameAttribute {
  /** Dotted OID of the attribute type. */
  readonly oid: string;
  /** Its short name (`CN`, `O`, …) or, for types without one, the dotted OID. */
  readonly type: string;
  readonly value: string;
}

export interface DistinguishedName {
  readonly attributes: readonly NameAttribute[];
  /** The DER of the Name (a SEQUENCE of RDNs), as received or as encoded from the text. */
  readonly der: Buffer;
  /** `C=CH, O=ikekm, CN=gw.example`: the attributes in DER order. */
  readonly text: string;
}

/** Short names strongSwan and OpenSSL print (RFC 4519, RFC 2985 for E). */
const SHORT_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['CN', '2.5.4.3'],
  ['SN', '2.5.4.4'],
  ['serialNumber', '2.5.4.5'],
  ['C', '2.5.4.6'],
  ['L', '2.5.4.7'],
  ['ST', '2.5.4.8'],
  ['street', '2.5.4.9'],
  ['O', '2.5.4.10'],
  ['OU', '2.5.4.11'],
  ['title', '2.5.4.12'],
  ['postalCode', '2.5.4.17'],
  ['GN', '2.5.4.42'],
  ['initials', '2.5.4.43'],
  ['dnQualifier', '2.5.4.46'],
  ['pseudonym', '2.5.4.65'],
  ['E', '1.2.840.113549.1.9.1'],
  ['UID', '0.9.2342.19200300.100.1.1'],
  ['DC', '0.9.2342.19200300.100.1.25'],
];
const OID_BY_NAME = new Map<string, string>(SHORT_NAMES.map(([name, oid]) => [name.toLowerCase(), oid]));
const NAME_BY_OID = new Map<string, string>(SHORT_NAMES.map(([name, oid]) => [oid, name]));
// What users of OpenSSL and strongSwan also type.
for (const [alias, oid] of [
  ['commonName', '2.5.4.3'],
  ['countryName', '2.5.4.6'],
  ['localityName', '2.5.4.7'],
  ['S', '2.5.4.8'],
  ['stateOrProvinceName', '2.5.4.8'],
  ['organizationName', '2.5.4.10'],
  ['organizationalUnitName', '2.5.4.11'],
  ['emailAddress', '1.2.840.113549.1.9.1'],
  ['email', '1.2.840.113549.1.9.1'],
  ['surname', '2.5.4.4'],
  ['givenName', '2.5.4.42'],
] as const) {
  OID_BY_NAME.set(alias.toLowerCase(), oid);
}

const { Class, Type } = forge.asn1;

/** Attributes whose syntax is PrintableString (RFC 5280 Appendix A) or IA5String. */
const PRINTABLE_OIDS = new Set(['2.5.4.6', '2.5.4.5', '2.5.4.46']);
const IA5_OIDS = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);
/** Universal tags of the string types a Name may use (X.680 8.4). */
const NUMERIC_STRING = 18;
const TELETEX_STRING = 20;
const VISIBLE_STRING = 26;
const UNIVERSAL_STRING = 28;
const BMP_STRING = 30;

/** The text of a string value by its ASN.1 type (forge hands primitive contents over as binary strings). */
function decodeValue(node: forge.asn1.Asn1): string | undefined {
  if (node.tagClass !== Class.UNIVERSAL || typeof node.value !== 'string') return undefined;
  const raw = Buffer.from(node.value, 'binary');
  switch (node.type as number) {
    case Type.UTF8:
      return raw.toString('utf8');
    case Type.PRINTABLESTRING:
    case Type.IA5STRING:
    case NUMERIC_STRING:
    case VISIBLE_STRING:
    case TELETEX_STRING: // read as Latin-1, as OpenSSL prints it
      return raw.toString('latin1');
    case BMP_STRING:
      // forge decodes BMPString itself, into one UTF-16 code unit per character of its string.
      return node.value;
    case UNIVERSAL_STRING: {
      if (raw.length % 4 !== 0) return undefined;
      let text = '';
      for (let i = 0; i < raw.length; i += 4) text += String.fromCodePoint(raw.readUInt32BE(i));
      return text;
    }
    default:
      return undefined;
  }
}

const typeNameOf = (oid: string): string => NAME_BY_OID.get(oid) ?? oid;

/** `\`, `,`, `+`, `=` and a leading or trailing space are escaped in the text form. */
function escapeValue(value: string): string {
  return value.replace(/[\\,+=]/g, (c) => `\\${c}`).replace(/^ | $/g, (c) => `\\${c}`);
}

function textOf(attributes: readonly NameAttribute[]): string {
  return attributes.map((a) => `${a.type}=${escapeValue(a.value)}`).join(', ');
}

/** A Name already decoded by forge (a SEQUENCE OF SET OF AttributeTypeAndValue). */
export function nameFromAsn1(node: forge.asn1.Asn1): Result<DistinguishedName, string> {
  if (node.tagClass !== Class.UNIVERSAL || node.type !== Type.SEQUENCE || !Array.isArray(node.value)) return err('a Name is not a SEQUENCE');
  const attributes: NameAttribute[] = [];
  for (const rdn of node.value) {
    if (rdn.type !== Type.SET || !Array.isArray(rdn.value) || rdn.value.length === 0) return err('an RDN of the Name is not a non-empty SET');
    for (const ava of rdn.value) {
      if (ava.type !== Type.SEQUENCE || !Array.isArray(ava.value) || ava.value.length !== 2) return err('an attribute of the Name is not a type and a value');
      const [typeNode, valueNode] = ava.value as [forge.asn1.Asn1, forge.asn1.Asn1];
      if (oidOf(typeNode) === undefined) return err('an attribute type of the Name is not an OID');
      const oid = oidOf(typeNode)!;
      const value = decodeValue(valueNode);
      if (value === undefined) return err(`the value of attribute ${typeNameOf(oid)} of the Name is not a string type this reads`);
      attributes.push({ oid, type: typeNameOf(oid), value });
    }
  }
  return ok({ attributes, der: encodeDer(node), text: textOf(attributes) });
}

/** A Name from its DER (an ID_DER_ASN1_DN's data, a certificate's subject). */
export function nameFromDer(der: Buffer): Result<DistinguishedName, string> {
  const node = decodeDer(der);
  if (!node.ok) return err(`the Name is ${node.error}`);
  const name = nameFromAsn1(node.value);
  // Keep the octets as received: a re-encoding could differ from them in ways DER allows nowhere
  // but in hostile or old encoders, and an ID is compared and signed as sent.
  return name.ok ? ok({ ...name.value, der: Buffer.from(der) }) : name;
}

function stringNode(oid: string, value: string): forge.asn1.Asn1 {
  if (PRINTABLE_OIDS.has(oid) && /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value)) {
    return forge.asn1.create(Class.UNIVERSAL, Type.PRINTABLESTRING, false, value);
  }
  if (IA5_OIDS.has(oid) && /^[\x20-\x7e]*$/.test(value)) return forge.asn1.create(Class.UNIVERSAL, Type.IA5STRING, false, value);
  return forge.asn1.create(Class.UNIVERSAL, Type.UTF8, false, forge.util.encodeUtf8(value));
}

/** The Name as forge ASN.1 (for certificate and CRL builders): one attribute per RDN. */
export function nameToAsn1(attributes: readonly Pick<NameAttribute, 'oid' | 'value'>[]): forge.asn1.Asn1 {
  return forge.asn1.create(
    Class.UNIVERSAL,
    Type.SEQUENCE,
    true,
    attributes.map((a) =>
      forge.asn1.create(Class.UNIVERSAL, Type.SET, true, [
        forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, [
          forge.asn1.create(Class.UNIVERSAL, Type.OID, false, forge.asn1.oidToDer(a.oid).getBytes()),
          stringNode(a.oid, a.value),
        ]),
      ]),
    ),
  );
}

/** Splits at commas that are not escaped with a backslash; unescapes the parts. */
function splitAttributes(text: string): string[] | undefined {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) return undefined;
      current += `\\${next}`;
      i++;
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/**
 * A Name from its text form: `C=CH, O=ikekm, CN=gw.example` (attribute types by short name,
 * long name or dotted OID; `\,` for a comma in a value). Errors say which attribute is wrong.
 */
export function parseDistinguishedName(text: string): Result<DistinguishedName, string> {
  const parts = splitAttributes(text.trim());
  if (parts === undefined) return err(`the DN '${text}' ends in a lone backslash`);
  const attributes: NameAttribute[] = [];
  for (const part of parts) {
    const eq = part.search(/(?<!\\)=/);
    if (eq <= 0) return err(`'${part.trim()}' in the DN '${text}' is not TYPE=value (e.g. CN=gw.example)`);
    const typeText = part.slice(0, eq).trim();
    const value = part
      .slice(eq + 1)
      .trim()
      .replace(/\\(.)/g, '$1');
    const oid = /^\d+(\.\d+)+$/.test(typeText) ? typeText : OID_BY_NAME.get(typeText.toLowerCase());
    if (oid === undefined) return err(`unknown attribute type '${typeText}' in the DN '${text}'; known: ${SHORT_NAMES.map(([n]) => n).join(', ')} or a dotted OID`);
    if (value === '') return err(`attribute ${typeText} in the DN '${text}' has no value`);
    attributes.push({ oid, type: typeNameOf(oid), value });
  }
  const der = encodeDer(nameToAsn1(attributes));
  return ok({ attributes, der, text: textOf(attributes) });
}

/** Does the text look like a DN rather than an FQDN or an address (strongSwan: it has a `=`)? */
export function looksLikeDistinguishedName(text: string): boolean {
  return /^\s*[A-Za-z][A-Za-z0-9]*\s*=|^\s*\d+(\.\d+)+\s*=/.test(text);
}

/**
 * Does `actual` match `pattern`? The same attributes in the same order, each value equal without
 * regard to case, or `*` in the pattern for any value (strongSwan's wildcard DN match).
 */
export function nameMatches(pattern: DistinguishedName, actual: DistinguishedName): boolean {
  if (pattern.attributes.length !== actual.attributes.length) return false;
  return pattern.attributes.every((p, i) => {
    const a = actual.attributes[i]!;
    return p.oid === a.oid && (p.value === '*' || p.value.toLowerCase() === a.value.toLowerCase());
  });
}

/** Do two names name the same entity (no wildcards)? */
export function sameName(a: DistinguishedName, b: DistinguishedName): boolean {
  return (
    a.attributes.length === b.attributes.length &&
    a.attributes.every((x, i) => x.oid === b.attributes[i]!.oid && x.value.toLowerCase() === b.attributes[i]!.value.toLowerCase())
  );
}

/** Does the pattern hold a wildcard value? */
export function hasWildcard(name: DistinguishedName): boolean {
  return name.attributes.some((a) => a.value === '*');
}
