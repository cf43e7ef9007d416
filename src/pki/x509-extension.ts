/**
 * Extensions of certificates, CRLs and CRL entries (RFC 5280 4.1, 5.1):
 *
 *   Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 *
 * Each comes out with its value decoded from the OCTET STRING. RFC 5280 4.2 allows one instance
 * of an extension per certificate; a repeated one is an error rather than a choice between them.
 */
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { booleanOf, contentsOf, decodeDer, isUniversal, oidOf, sequenceOf, type Asn1 } from './der.js';

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue's contents decoded (every extension value is one DER TLV). */
  readonly value: Result<Asn1, string>;
}

const { Type } = forge.asn1;

/** Extensions by name (RFC 5280 4.2, 5.2, 5.3), for readers, builders and messages alike. */
export const EXTENSION_OIDS = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  nameConstraints: '2.5.29.30',
  cRLDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCRL: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

/** Key purposes of extendedKeyUsage by name (RFC 5280 4.2.1.12, RFC 4945 5.1.3.12, RFC 4809 for iKEIntermediate). */
export const KEY_PURPOSE_OIDS = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  ipsecEndSystem: '1.3.6.1.5.5.7.3.5',
  ipsecTunnel: '1.3.6.1.5.5.7.3.6',
  ipsecUser: '1.3.6.1.5.5.7.3.7',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  ipsecIKE: '1.3.6.1.5.5.7.3.17',
  iKEIntermediate: '1.3.6.1.5.5.8.2.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

const byOid = (table: Readonly<Record<string, string>>): Readonly<Record<string, string>> => Object.fromEntries(Object.entries(table).map(([name, oid]) => [oid, name]));

/** Names for messages and `ikekm pki show`; the dotted OID stays beside them. */
export const EXTENSION_NAMES: Readonly<Record<string, string>> = byOid(EXTENSION_OIDS);

/** Names of extended key usages, by OID. */
export const KEY_PURPOSE_NAMES: Readonly<Record<string, string>> = byOid(KEY_PURPOSE_OIDS);

/** `keyUsage (2.5.29.15)`, or the bare OID for one without a name here. */
export function extensionLabel(oid: string): string {
  const name = EXTENSION_NAMES[oid];
  return name === undefined ? oid : `${name} (${oid})`;
}

/** Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; an error names the extension at fault. */
export function extensionsOf(node: Asn1): Result<Extension[], string> {
  const items = sequenceOf(node);
  if (items === undefined) return err('Extensions is not a SEQUENCE');
  const extensions: Extension[] = [];
  for (const [index, item] of items.entries()) {
    const fields = sequenceOf(item);
    const oid = fields?.[0] === undefined ? undefined : oidOf(fields[0]);
    if (fields === undefined || oid === undefined || fields.length < 2 || fields.length > 3) return err(`extension ${index + 1} is not an OID, a criticality and a value`);
    let critical = false;
    if (fields.length === 3) {
      const flag = booleanOf(fields[1]!);
      if (flag === undefined) return err(`extension ${extensionLabel(oid)}: its critical flag is not a BOOLEAN`);
      critical = flag;
    }
    const valueNode = fields[fields.length - 1]!;
    const octets = isUniversal(valueNode, Type.OCTETSTRING) ? contentsOf(valueNode) : undefined;
    if (octets === undefined) return err(`extension ${extensionLabel(oid)}: its value is not an OCTET STRING`);
    if (extensions.some((e) => e.oid === oid)) return err(`extension ${extensionLabel(oid)} appears twice (RFC 5280 4.2 allows one)`);
    const decoded = decodeDer(octets);
    extensions.push({ oid, critical, value: decoded.ok ? decoded : err(`its value is ${decoded.error}`) });
  }
  return ok(extensions);
}
