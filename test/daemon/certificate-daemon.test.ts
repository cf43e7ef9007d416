/**
 * Two daemons authenticating with certificates, configured in YAML and read by the real loader
 * (certificate, key and CA files on disk, keys 0600): the tunnel comes up and rekeys; `ikekm up`
 * towards a peer whose certificate is revoked fails with the reason, naming the certificate; no
 * log line and no record holds a private key (nor the DER, PEM or raw scalar of one).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replayCommand } from '../../src/cli/replay-command.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { commandOutput } from '../support/command-output.js';
import { assertNoSecrets } from '../support/log-capture.js';
import { testCa, testCertificate, testCrl, type TestCertificate } from '../support/test-pki.js';
import { recordFileOf, startDaemon, waitFor, type RunningDaemon } from './support/daemon-pair.js';
import { SIDES, testPorts, type Side } from './support/lab-connections.js';

let running: RunningDaemon[] = [];
let dir: string | undefined;
afterEach(async () => {
  await Promise.all(running.map((r) => r.daemon.stop({ graceMs: 500 })));
  running = [];
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const ca = testCa('C=CH, O=ikekm, CN=Daemon Test CA', { key: 'rsa-2048' });
const certificates: Record<Side, TestCertificate> = {
  a: testCertificate(ca, 'C=CH, O=ikekm, CN=a.test', { key: 'rsa-2048', san: ['a.test', SIDES.a.address] }),
  b: testCertificate(ca, 'C=CH, O=ikekm, CN=b.test', { key: 'ecdsa-p256', san: ['b.test', SIDES.b.address] }),
};

function writeSide(root: string, side: Side, ports: { ike: number; natt: number }, options: { crl?: Buffer | undefined; start?: string } = {}): string {
  const other: Side = side === 'a' ? 'b' : 'a';
  const put = (name: string, content: string | Buffer, mode = 0o644) => writeFileSync(join(root, side, name), content, { mode });
  put('gw.pem', certificates[side].pem);
  put('gw.key', certificates[side].keyPem, 0o600);
  put('ca.pem', ca.pem);
  if (options.crl !== undefined) put('ca.crl', options.crl);
  const yaml = [
    'daemon:',
    `  listen: [${SIDES[side].address}]`,
    `  ports: { ike: ${ports.ike}, natt: ${ports.natt} }`,
    `  control: ${JSON.stringify(join(root, side, 'ikekm.sock'))}`,
    '  kernel: memory',
    '  allowShortLifetimes: true',
    'ikePolicies:',
    '  certs: { version: 2, auth: pubkey, proposals: [aes256gcm16-prfsha384-ecp384], lifetime: 24h }',
    'dataPolicies:',
    '  net: { protocol: esp, mode: tunnel, proposals: [aes128gcm16], lifetime: 60m }',
    'connections:',
    '  lab:',
    '    ikePolicy: certs',
    '    dataPolicy: net',
    `    local: { address: ${SIDES[side].address}, port: ${ports.ike}, id: ${side}.test, cert: gw.pem, key: gw.key }`,
    `    remote: { address: ${SIDES[other].address}, port: ${ports.ike}, id: ${other}.test, ca: ca.pem }`,
    `    traffic: { local: [${SIDES[side].inner}], remote: [${SIDES[other].inner}] }`,
    ...(options.crl === undefined ? [] : ['    crl: ca.crl']),
    `    start: ${options.start ?? 'listen'}`,
    '',
  ].join('\n');
  const file = join(root, side, 'ikekm.yaml');
  writeFileSync(file, yaml, { mode: 0o600 });
  return file;
}

async function start(root: string, side: Side, ports: { ike: number; natt: number }, options: { crl?: Buffer; record?: boolean } = {}): Promise<RunningDaemon> {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(root, side), { recursive: true, mode: 0o700 });
  const file = writeSide(root, side, ports, options);
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  const daemon = await startDaemon(loaded.value, join(root, side, 'ikekm.sock'), options.record === true ? { recordFile: recordFileOf(root, side) } : {});
  running.push(daemon);
  return daemon;
}

/** Every encoding of each private key a leak could take: PKCS#8 DER, its PEM lines, the raw private scalar. */
function keySecrets(): (string | Buffer)[] {
  const out: (string | Buffer)[] = [];
  for (const c of Object.values(certificates)) {
    out.push(c.privateKey.export({ type: 'pkcs8', format: 'der' }));
    out.push(...c.keyPem.split('\n').filter((l) => l.length > 40));
    const jwk = c.privateKey.export({ format: 'jwk' });
    for (const part of [jwk.d, jwk.p, jwk.q]) if (typeof part === 'string') out.push(Buffer.from(part, 'base64url'));
  }
  return out;
}

describe('daemons with certificates (auth: pubkey in YAML)', () => {
  it('come up, rekey both SAs, and no log line or record holds a private key', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ikekm-cert-daemon-'));
    const ports = testPorts();
    const a = await start(dir, 'a', ports, { record: true });
    const b = await start(dir, 'b', ports, { record: true });
    await b.daemon.up('lab');
    const status = await b.daemon.status();
    expect(status.ikeSas[0]?.peer.id).toBe('a.test');
    await b.daemon.rekey('lab', { ike: true });
    await b.daemon.rekey('lab', { ike: false });
    await waitFor('a to see the rekeys', async () => (await a.daemon.status()).ikeSas.length === 1);
    const methods = [...a.logs.lines(), ...b.logs.lines()].filter((r) => r.msg === 'IKE_AUTH done: IKE SA established' || r.msg === 'IKE_AUTH answered: IKE SA established').map((r) => r.method);
    expect(methods).toEqual(
      expect.arrayContaining([
        'ECDSA SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "C=CH, O=ikekm, CN=b.test"',
        'RSASSA-PKCS1-v1_5 SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "C=CH, O=ikekm, CN=a.test"',
      ]),
    );
    await Promise.all(running.map((r) => r.daemon.stop({ graceMs: 500 })));
    running = [];
    const records = (['a', 'b'] as const).map((s) => readFileSync(recordFileOf(dir!, s), 'utf8'));
    expect(records.every((r) => r.includes('"SIGNED"'))).toBe(true);
    assertNoSecrets([...a.logs.text(), ...b.logs.text(), ...records.flatMap((r) => r.split('\n'))], keySecrets());
    // The records replay as recorded with the YAML they ran under: the signatures are answers in them.
    for (const side of ['a', 'b'] as const) {
      const replayed = await commandOutput(() => replayCommand([recordFileOf(dir!, side), '--config', join(dir!, side, 'ikekm.yaml')]));
      expect(replayed.out).toMatch(/datagrams out and \d+ state changes as recorded/);
      expect(replayed.code).toBe(0);
    }
  });

  it('`ikekm up` towards a peer whose certificate our CRL revokes fails with the reason, naming the certificate', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ikekm-cert-daemon-'));
    const ports = testPorts();
    await start(dir, 'a', ports);
    const crl = testCrl(ca, [{ certificate: certificates.a, reason: 'keyCompromise' }]);
    const b = await start(dir, 'b', ports, { crl: crl.der });
    const serial = [...certificates.a.serial].map((o) => o.toString(16).padStart(2, '0')).join(':');
    await expect(b.daemon.up('lab')).rejects.toThrow(
      `the peer's certificate is refused for connection lab: "C=CH, O=ikekm, CN=a.test" (issuer "C=CH, O=ikekm, CN=Daemon Test CA", serial ${serial}): revoked at`,
    );
  });

  it('a reload with a new CRL keeps the SAs that are up and refuses the revoked peer from the next negotiation on', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ikekm-cert-daemon-'));
    const ports = testPorts();
    await start(dir, 'a', ports);
    const b = await start(dir, 'b', ports);
    await b.daemon.up('lab');
    const before = (await b.daemon.status()).ikeSas.map((sa) => sa.spiI);
    const crl = testCrl(ca, [{ certificate: certificates.a, reason: 'superseded' }]);
    const reloaded = await loadConfigFile(writeSide(dir, 'b', ports, { crl: crl.der }));
    if (!reloaded.ok) throw new Error(JSON.stringify(reloaded.error));
    expect(b.daemon.reload(reloaded.value)).toMatchObject({ changed: [], unchanged: ['lab'] });
    expect((await b.daemon.status()).ikeSas.map((sa) => sa.spiI)).toEqual(before);
    await b.daemon.down('lab');
    await expect(b.daemon.up('lab')).rejects.toThrow(/"C=CH, O=ikekm, CN=a\.test" .*: revoked at .* \(superseded\)/);
  });
});
