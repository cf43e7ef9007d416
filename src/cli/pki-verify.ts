/**
 * `ikekm pki verify CERT`: a certificate checked as the daemon checks a peer's in IKE_AUTH, with
 * the same code (chain-validation.ts, identity-binding.ts), printed rule by rule. Where a peer's
 * certificate is refused, the log line names the certificate and the rule; this shows the whole
 * walk beforehand, with the files a connection would name (remote.ca, crl) and, with --at, at
 * the time a certificate will have expired or a CRL gone stale.
 *
 * Output (stdout): the chain, end entity first; the checks, one line per rule with ✓ or ✗; with
 * --id, whether the certificate names that IKE identity; then `verdict: valid` or
 * `verdict: refused: <message>`. Exit 0 when valid, 1 when refused, 2 on a usage error; a file
 * that cannot be read is a failure (exit 1, one line on stderr).
 */
import { certificateName, readCertificates, type Certificate } from '../pki/certificate.js';
import { validateChain } from '../pki/chain-validation.js';
import { readCrls, type Crl } from '../pki/crl.js';
import { looksLikeDistinguishedName, parseDistinguishedName } from '../pki/distinguished-name.js';
import { certificateNamesIdentity, describeCertificateIdentities } from '../pki/identity-binding.js';
import { printable } from '../pki/display-text.js';
import { formatTime } from '../pki/x509-time.js';
import { formatIdentity, parseIdentityConfig, type IdentityConfig } from '../config/model.js';
import { CERTIFICATE_FILE_MAX_BYTES, CRL_FILE_MAX_BYTES, Failure, UsageError, parse, readInput, type PkiOutput } from './pki-cli-common.js';

export const VERIFY_USAGE = `usage: ikekm pki verify CERT [--ca CAFILE]... [--crl CRLFILE]... [--chain FILE]...
                         [--at TIME] [--id ID]

Checks CERT as ikekm checks a peer's certificate in IKE_AUTH (RFC 5280 6.1, RFC 4945 5):
the path from CERT up to a CA given with --ca, then each rule in turn, one line each with ✓ or
✗, then "verdict: valid" or "verdict: refused: " and what was refused, naming the certificate.
CERT is a PEM or DER file; certificates after the first in it are intermediates, as a peer
sends them. In the checks, "sent by the peer" is CERT or --chain, "configured" --ca or --crl.
  --ca CAFILE     CA certificates (PEM bundle or DER), trusted as they are: what a connection
                  names in remote.ca. Repeatable.
  --crl CRLFILE   CRLs (PEM or DER), as a connection's crl. Repeatable.
  --chain FILE    more intermediate certificates. Repeatable.
  --at TIME       check at this time instead of now: 2031-01-31 (UTC midnight),
                  2031-01-31T12:00:00Z or 2031-01-31T13:00:00+01:00
  --id ID         also check that CERT names this IKE identity, as remote.id writes it:
                  192.0.2.1, gw.example, ops@gw.example, "C=CH, O=ikekm, CN=gw.example"
Exit 0 when valid, 1 when refused, 2 on a usage error.`;

const PASSED = '✓';
const FAILED = '✗';

/** The names RFC 7296 3.5 gives the ID types, as IKE logs (strongSwan's among them) print them. */
const ID_TYPE_NAMES: Readonly<Record<IdentityConfig['kind'], string>> = {
  ipv4: 'ID_IPV4_ADDR',
  ipv6: 'ID_IPV6_ADDR',
  fqdn: 'ID_FQDN',
  rfc822: 'ID_RFC822_ADDR',
  'der-asn1-dn': 'ID_DER_ASN1_DN',
  'key-id': 'ID_KEY_ID',
};

export async function verify(args: readonly string[], io: PkiOutput): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ca: { type: 'string', multiple: true },
      crl: { type: 'string', multiple: true },
      chain: { type: 'string', multiple: true },
      at: { type: 'string' },
      id: { type: 'string' },
    },
    1,
  );
  const atMs = values.at === undefined ? Date.now() : parseTime(values.at);
  const id = values.id === undefined ? undefined : parseId(values.id);

  const [endEntity, ...sent] = await certificates(positionals[0]!, 'certificate file');
  const intermediates = [...sent];
  for (const path of values.chain ?? []) intermediates.push(...(await certificates(path, '--chain')));
  const anchors: Certificate[] = [];
  for (const path of values.ca ?? []) anchors.push(...(await certificates(path, '--ca')));
  const crls: Crl[] = [];
  for (const path of values.crl ?? []) crls.push(...(await crlsOf(path)));

  const verdict = validateChain({ endEntity: endEntity!, intermediates, anchors, crls, atMs });
  const isAnchor = (c: Certificate): boolean => anchors.some((a) => a.der.equals(c.der));
  const shown = verdict.ok || verdict.chain.includes(verdict.certificate) ? verdict.chain : [...verdict.chain, verdict.certificate];
  io.out('chain, end entity first:');
  shown.forEach((c, i) => {
    const marks = [isAnchor(c) ? ' (a CA given with --ca)' : '', !verdict.ok && c === verdict.certificate ? ` ${FAILED}` : ''].join('');
    io.out(`  ${i + 1}. "${printable(c.subject.text)}"${marks}`);
  });
  io.out(`checks at ${formatTime(atMs)}:`);
  for (const line of verdict.checks) io.out(`  ${line}`);

  let idRefusal: string | undefined;
  if (id !== undefined) {
    const name = `id ${formatIdentity(id)} (${ID_TYPE_NAMES[id.kind]})`;
    if (certificateNamesIdentity(endEntity!, id)) {
      io.out(`${name}: named by the certificate ${PASSED}`);
    } else {
      // RFC 7296 3.5 and RFC 4945 3.1: the ID must be found in the certificate; the CN is never read as one.
      io.out(`${name}: not named by the certificate, which has ${describeCertificateIdentities(endEntity!)} ${FAILED}`);
      idRefusal = `${certificateName(endEntity!)} does not name ${name}; a peer that claims this ID with it is refused (RFC 7296 3.5)`;
    }
  }

  if (!verdict.ok) {
    io.out(`verdict: refused: ${verdict.message}`);
    return 1;
  }
  if (idRefusal !== undefined) {
    io.out(`verdict: refused: ${idRefusal}`);
    return 1;
  }
  io.out('verdict: valid');
  return 0;
}

async function certificates(path: string, what: string): Promise<Certificate[]> {
  const { bytes } = await readInput(path, CERTIFICATE_FILE_MAX_BYTES, what);
  const read = readCertificates(bytes);
  if (!read.ok) throw new Failure(`${what} ${path}: ${read.error}`);
  return read.value;
}

async function crlsOf(path: string): Promise<Crl[]> {
  const { bytes } = await readInput(path, CRL_FILE_MAX_BYTES, '--crl');
  const read = readCrls(bytes);
  if (!read.ok) throw new Failure(`--crl ${path}: ${read.error}`);
  return read.value;
}

/**
 * ISO 8601 as `date -u -Iseconds` writes it, or a bare date (UTC midnight). A time needs its zone:
 * without one, JavaScript would read it in the local zone, and a certificate's validity is UTC.
 */
export function parseTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  const help = 'expected 2031-01-31, 2031-01-31T12:00:00Z or 2031-01-31T13:00:00+01:00';
  if (m === null) throw new UsageError(`--at ${text}: ${/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? 'add the zone, Z for UTC' : help}`);
  const [, year, month, day, hour = '0', minute = '0', second = '0'] = m;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  // Date.parse rolls 2031-02-30 over into March; a date that does not come back unchanged is none.
  if (date.getUTCFullYear() !== Number(year) || date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    throw new UsageError(`--at ${text}: not a date and time`);
  }
  return Date.parse(m[4] === undefined ? `${text}T00:00:00Z` : text);
}

/** As the configuration reads remote.id (load-config.ts): a DN that does not parse is an error, not an FQDN. */
function parseId(text: string): IdentityConfig {
  if (text.trim() === '') throw new UsageError('--id needs an identity');
  if (looksLikeDistinguishedName(text)) {
    const dn = parseDistinguishedName(text);
    if (!dn.ok) throw new UsageError(`--id ${text}: looks like a DN but ${dn.error}`);
  }
  return parseIdentityConfig(text);
}
