/**
 * A lab's PKI made with `ikekm pki` itself (src/cli/pki-command.ts, called in process): a root
 * CA, intermediates, gateway certificates and CRLs as PEM files in one directory (keys 0600, as
 * the command writes them), for the certificate interop files. Every run of the command must
 * succeed; a failure throws with its output.
 *
 * `installForCharon` copies what a charon needs into the swanctl folders beside its
 * swanctl.conf (x509/ for its own certificates, intermediates included; x509ca/ for trust
 * anchors; private/ for keys; x509crl/ for CRLs) before `loadAll()`.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pkiCommand } from '../../../src/cli/pki-command.js';

export type LabKeyType = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ecdsa-p256' | 'ecdsa-p384';

/** A certificate and its key as files. */
export interface PkiEntity {
  /** Short name, the files' stem: NAME.pem, NAME.key. */
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  /** The subject DN as written (and as both ikekm and strongSwan print it). */
  readonly dn: string;
  /** The serial as `ikekm pki crl --revoke` takes it and ikekm prints it: lowercase hex pairs with colons. */
  readonly serial: string;
}

/** Runs `ikekm pki ARGS`; its output lines, or an error with them. */
export async function runPki(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await pkiCommand(args, { out: (line) => out.push(line), warn: (line) => err.push(line) });
  if (code !== 0) throw new Error(`ikekm pki ${args.join(' ')} exited ${code}:\n${[...out, ...err].join('\n')}`);
  return out;
}

function serialOf(certPath: string): string {
  const hex = new X509Certificate(readFileSync(certPath)).serialNumber.toLowerCase();
  return (hex.length % 2 === 1 ? `0${hex}` : hex).match(/../g)!.join(':');
}

export class LabPki {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private entity(name: string, dn: string): PkiEntity {
    const cert = join(this.dir, `${name}.pem`);
    return { name, cert, key: join(this.dir, `${name}.key`), dn, serial: serialOf(cert) };
  }

  /** `ikekm pki ca create`: a self-signed root. */
  async rootCa(name: string, dn: string, type: LabKeyType): Promise<PkiEntity> {
    await runPki(['ca', 'create', '--dn', dn, '--type', type, '--cert', join(this.dir, `${name}.pem`), '--key', join(this.dir, `${name}.key`)]);
    return this.entity(name, dn);
  }

  /** `ikekm pki issue`: a gateway certificate, or with `caFlag` an intermediate CA. */
  async issue(issuer: PkiEntity, name: string, options: { readonly dn: string; readonly san?: readonly string[]; readonly type: LabKeyType; readonly caFlag?: boolean }): Promise<PkiEntity> {
    await runPki([
      'issue',
      '--ca',
      issuer.cert,
      '--ca-key',
      issuer.key,
      '--dn',
      options.dn,
      ...(options.san ?? []).flatMap((s) => ['--san', s]),
      '--type',
      options.type,
      ...(options.caFlag === true ? ['--ca-flag'] : []),
      '--cert',
      join(this.dir, `${name}.pem`),
      '--key-out',
      join(this.dir, `${name}.key`),
    ]);
    return this.entity(name, options.dn);
  }

  /** `ikekm pki crl`: a CRL of `ca` revoking `revoked` (keyCompromise), in NAME.crl. */
  async crl(ca: PkiEntity, name: string, revoked: readonly PkiEntity[]): Promise<string> {
    const out = join(this.dir, `${name}.crl`);
    await runPki(['crl', '--ca', ca.cert, '--ca-key', ca.key, ...revoked.flatMap((r) => ['--revoke', r.serial]), '--reason', 'keyCompromise', '--out', out]);
    return out;
  }

  /**
   * A PEM file with the certificates of `chain` in order (end entity first, then its
   * intermediates), as ikekm's `cert:` takes them (RFC 7296 3.6 sends them in this order).
   */
  bundle(name: string, chain: readonly PkiEntity[]): string {
    const path = join(this.dir, `${name}.pem`);
    const text = chain.map((c) => readFileSync(c.cert, 'utf8').trimEnd()).join('\n');
    // ikekm pki writes no bundles; written new ('wx') and 0644 as it writes certificates.
    writeFileSync(path, `${text}\n`, { flag: 'wx', mode: 0o644 });
    return path;
  }
}

/**
 * Copies credentials into a charon's swanctl folders: `certs` (its own, and intermediates it
 * should send) to x509/, `cas` (trust anchors) to x509ca/, `keys` to private/, `crls` to
 * x509crl/. swanctl.conf names them by file name (`certs = NAME.pem`, `cacerts = NAME.pem`).
 */
export function installForCharon(
  charonDir: string,
  credentials: { readonly certs?: readonly PkiEntity[]; readonly cas?: readonly PkiEntity[]; readonly keys?: readonly PkiEntity[]; readonly crls?: readonly string[] },
): void {
  const put = (sub: string, files: readonly string[]): void => {
    mkdirSync(join(charonDir, sub), { recursive: true });
    for (const f of files) copyFileSync(f, join(charonDir, sub, basename(f)));
  };
  put('x509', (credentials.certs ?? []).map((c) => c.cert));
  put('x509ca', (credentials.cas ?? []).map((c) => c.cert));
  put('private', (credentials.keys ?? []).map((c) => c.key));
  put('x509crl', credentials.crls ?? []);
}
