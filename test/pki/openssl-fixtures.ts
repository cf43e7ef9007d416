/**
 * Certificates and CRLs made by the OpenSSL command line (an independent judge of what ikekm
 * reads), in a temporary directory per test suite. Each CA is an `openssl ca` database of its
 * own, so serials, validity dates, extensions, revocations and CRL dates are all chosen by the
 * test rather than by the clock:
 *
 *   const pki = OpensslPki.create();
 *   const root = pki.selfSignedCa('root', { subject: 'C=CH, O=ikekm, CN=Root CA', key: 'rsa-2048', serial: '01', ... });
 *   const gw = pki.issue(root, 'gw', { subject: 'C=CH, O=ikekm, CN=gw', serial: '0a1b', extensions: ['subjectAltName=DNS:gw.example'], ... });
 *   pki.revoke(root, gw, { reason: 'keyCompromise', at: '20260301000000Z' });
 *   const crl = pki.crl(root, { lastUpdate: '20260401000000Z', nextUpdate: '20260501000000Z' });
 *   pki.remove();
 *
 * Times are OpenSSL's `YYYYMMDDHHMMSSZ` strings; `isoOf` turns one into what ikekm prints.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Ed448 is a key and signature ikekm does not support: fixtures for refusing them. */
export type FixtureKeyKind = 'rsa-2048' | 'ec-p256' | 'ec-p384' | 'ed25519' | 'ed448';

export interface FixtureCertificate {
  /** File stem in the workspace. */
  readonly name: string;
  /** The PEM certificate file. */
  readonly path: string;
  readonly keyPath: string;
  readonly pem: string;
  readonly der: Buffer;
  /** As given, `C=CH, O=ikekm, CN=gw` (the order is kept: -preserveDN). */
  readonly subject: string;
  /** Hex as given to OpenSSL's serial file, lower case. */
  readonly serial: string;
}

/** A certificate whose key signs: it has an `openssl ca` database in the workspace. */
export interface FixtureCa extends FixtureCertificate {
  readonly dir: string;
  readonly config: string;
}

export interface CertificateOptions {
  readonly subject: string;
  /** Default `ec-p256`. */
  readonly key?: FixtureKeyKind;
  /** Reuse the key of another fixture (same key, new certificate). */
  readonly keyFrom?: FixtureCertificate;
  /** Hex, e.g. `0a1b`; a first digit of 8 or more makes OpenSSL prepend the 00 sign octet. */
  readonly serial: string;
  /** `YYYYMMDDHHMMSSZ` (or `YYMMDDHHMMSSZ`). */
  readonly notBefore: string;
  readonly notAfter: string;
  /** Lines of an X.509 v3 extension section (`openssl x509v3_config`); none makes a certificate without extensions. */
  readonly extensions?: readonly string[];
  /** Message digest for the signature: default `default` (SHA-256 for RSA and EC, none for Ed25519). */
  readonly digest?: string;
}

export interface RevokeOptions {
  /** An RFC 5280 5.3.1 reason OpenSSL knows: keyCompromise, CACompromise, superseded, … */
  readonly reason?: string;
  /** The revocation date, `YYMMDDHHMMSSZ` (OpenSSL's database keeps UTCTime); default: now. */
  readonly at?: string;
}

export interface CrlOptions {
  readonly lastUpdate: string;
  readonly nextUpdate: string;
  /** Lines of the CRL extension section instead of `authorityKeyIdentifier = keyid` (the CRL number is always added). */
  readonly extensions?: readonly string[];
}

/** CA extensions most fixtures want. */
export const CA_EXTENSIONS = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'];
/** End-entity extensions for an IKE peer. */
export const PEER_EXTENSIONS = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'];

/** `20260101000000Z` → `2026-01-01T00:00:00Z`; `260101000000Z` per RFC 5280's UTCTime years. */
export function isoOf(opensslTime: string): string {
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(opensslTime);
  if (m === null) throw new Error(`not an OpenSSL time: ${opensslTime}`);
  const year = m[1]!.length === 4 ? m[1]! : String(Number(m[1]) >= 50 ? 1900 + Number(m[1]) : 2000 + Number(m[1]));
  return `${year}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

/** Milliseconds of an OpenSSL time. */
export const msOf = (opensslTime: string): number => Date.parse(isoOf(opensslTime));

/** `/C=CH/O=ikekm/CN=gw` from `C=CH, O=ikekm, CN=gw` (no commas or slashes inside values). */
const slashSubject = (subject: string): string => subject.split(/,\s*/).map((part) => `/${part}`).join('');

export class OpensslPki {
  private constructor(readonly dir: string) {}

  static create(prefix = 'ikekm-pki-'): OpensslPki {
    return new OpensslPki(mkdtempSync(join(tmpdir(), prefix)));
  }

  /** Runs `openssl` with `args` in the workspace; throws with its stderr if it fails. */
  openssl(args: readonly string[], input?: string | Buffer): Buffer {
    try {
      return execFileSync('openssl', args, { cwd: this.dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`openssl ${args.join(' ')} failed: ${stderr}`);
    }
  }

  /** `openssl x509 -noout <args>` on a fixture: what OpenSSL says the certificate holds. */
  x509Text(certificate: FixtureCertificate, args: readonly string[]): string {
    return this.openssl(['x509', '-in', certificate.path, '-noout', ...args]).toString();
  }

  key(name: string, kind: FixtureKeyKind): string {
    const path = join(this.dir, `${name}.key.pem`);
    const options: Record<FixtureKeyKind, string[]> = {
      'rsa-2048': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      'ec-p256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      'ec-p384': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      ed25519: ['-algorithm', 'ED25519'],
      ed448: ['-algorithm', 'ED448'],
    };
    this.openssl(['genpkey', ...options[kind], '-out', path]);
    return path;
  }

  /** A self-signed CA certificate (`openssl ca -selfsign`), with CA_EXTENSIONS unless told otherwise. */
  selfSignedCa(name: string, options: CertificateOptions): FixtureCa {
    const keyPath = options.keyFrom?.keyPath ?? this.key(name, options.key ?? 'ec-p256');
    const dir = this.database(name, join(this.dir, `${name}.pem`), keyPath);
    const request = this.request(name, keyPath, options.subject);
    this.sign(dir, request, join(this.dir, `${name}.pem`), { ...options, extensions: options.extensions ?? CA_EXTENSIONS }, ['-selfsign', '-keyfile', keyPath]);
    return { ...this.certificate(name, keyPath, options), dir, config: join(dir, 'ca.cnf') };
  }

  /** A certificate issued by `ca`, with PEER_EXTENSIONS unless told otherwise. */
  issue(ca: FixtureCa, name: string, options: CertificateOptions): FixtureCertificate {
    const keyPath = options.keyFrom?.keyPath ?? this.key(name, options.key ?? 'ec-p256');
    const request = this.request(name, keyPath, options.subject);
    this.sign(ca.dir, request, join(this.dir, `${name}.pem`), { ...options, extensions: options.extensions ?? PEER_EXTENSIONS }, []);
    return this.certificate(name, keyPath, options);
  }

  /** A CA certificate issued by `ca`, with its own database for what it issues in turn. */
  issueCa(ca: FixtureCa, name: string, options: CertificateOptions): FixtureCa {
    const certificate = this.issue(ca, name, { ...options, extensions: options.extensions ?? CA_EXTENSIONS });
    return { ...certificate, dir: this.database(name, certificate.path, certificate.keyPath), config: join(this.dir, `${name}.ca`, 'ca.cnf') };
  }

  /** Marks `certificate` revoked in `ca`'s database (`openssl ca -revoke`), at a chosen time if `at`. */
  revoke(ca: FixtureCa, certificate: FixtureCertificate, options: RevokeOptions = {}): void {
    this.openssl(['ca', '-config', ca.config, '-revoke', certificate.path, ...(options.reason === undefined ? [] : ['-crl_reason', options.reason])]);
    if (options.at === undefined) return;
    // OpenSSL revokes at the clock's time; the database's third column is that time[,reason].
    const index = join(ca.dir, 'index.txt');
    const serial = certificate.serial.toUpperCase();
    const lines = readFileSync(index, 'utf8')
      .split('\n')
      .map((line) => {
        const columns = line.split('\t');
        if (columns[0] !== 'R' || columns[3]?.replace(/^0+/, '') !== serial.replace(/^0+/, '')) return line;
        const reason = columns[2]!.split(',').slice(1);
        columns[2] = [options.at!, ...reason].join(',');
        return columns.join('\t');
      });
    writeFileSync(index, lines.join('\n'));
  }

  /** A CRL of `ca` (`openssl ca -gencrl`), DER. */
  crl(ca: FixtureCa, name: string, options: CrlOptions): { readonly path: string; readonly der: Buffer; readonly pem: string } {
    const path = join(this.dir, `${name}.crl.pem`);
    const extensionArgs: string[] = [];
    if (options.extensions !== undefined) {
      // -crlexts names a section of the CA's configuration: append one for this CRL.
      const section = `crl_extensions_${name.replace(/\W/g, '_')}`;
      appendFileSync(ca.config, `[ ${section} ]\n${options.extensions.join('\n')}\n`);
      extensionArgs.push('-crlexts', section);
    }
    this.openssl(['ca', '-config', ca.config, '-gencrl', '-crl_lastupdate', options.lastUpdate, '-crl_nextupdate', options.nextUpdate, ...extensionArgs, '-out', path]);
    const der = this.openssl(['crl', '-in', path, '-outform', 'DER']);
    return { path, der, pem: readFileSync(path, 'utf8') };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private request(name: string, keyPath: string, subject: string): string {
    const path = join(this.dir, `${name}.csr.pem`);
    const config = join(this.dir, 'req.cnf');
    writeFileSync(config, '[ req ]\ndistinguished_name = dn\n[ dn ]\n');
    this.openssl(['req', '-new', '-config', config, '-key', keyPath, '-subj', slashSubject(subject), '-out', path]);
    return path;
  }

  private sign(caDir: string, request: string, out: string, options: CertificateOptions, extra: readonly string[]): void {
    writeFileSync(join(caDir, 'serial'), `${options.serial.length % 2 === 1 ? '0' : ''}${options.serial}\n`);
    const extfile = join(this.dir, 'ext.cnf');
    writeFileSync(extfile, `[ ext ]\n${(options.extensions ?? []).join('\n')}\n`);
    const extensionArgs = (options.extensions ?? []).length === 0 ? [] : ['-extfile', extfile, '-extensions', 'ext'];
    this.openssl([
      'ca', '-batch', '-notext', '-preserveDN', '-config', join(caDir, 'ca.cnf'), '-in', request, '-out', out,
      '-startdate', options.notBefore, '-enddate', options.notAfter, '-md', options.digest ?? 'default', ...extensionArgs, ...extra,
    ]);
  }

  private certificate(name: string, keyPath: string, options: CertificateOptions): FixtureCertificate {
    const path = join(this.dir, `${name}.pem`);
    return {
      name,
      path,
      keyPath,
      pem: readFileSync(path, 'utf8'),
      der: this.openssl(['x509', '-in', path, '-outform', 'DER']),
      subject: options.subject,
      serial: options.serial.toLowerCase(),
    };
  }

  /** An `openssl ca` database: index, serial, crlnumber and a configuration naming the CA's files. */
  private database(name: string, certificatePath: string, keyPath: string): string {
    const dir = join(this.dir, `${name}.ca`);
    mkdirSync(join(dir, 'newcerts'), { recursive: true });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '01\n');
    writeFileSync(join(dir, 'crlnumber'), '01\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ ca ]',
        'default_ca = ca_section',
        '[ ca_section ]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'serial = $dir/serial',
        'crlnumber = $dir/crlnumber',
        'new_certs_dir = $dir/newcerts',
        `certificate = ${certificatePath}`,
        `private_key = ${keyPath}`,
        'default_md = default',
        'policy = policy_any',
        'unique_subject = no',
        'email_in_dn = yes',
        'copy_extensions = none',
        'crl_extensions = crl_extensions',
        '[ crl_extensions ]',
        'authorityKeyIdentifier = keyid',
        '[ policy_any ]',
        ...['countryName', 'stateOrProvinceName', 'localityName', 'organizationName', 'organizationalUnitName', 'commonName', 'emailAddress'].map((f) => `${f} = optional`),
        '',
      ].join('\n'),
    );
    return dir;
  }
}
