/**
 * `ikekm daemon` with RSA-2048 certificates against strongSwan's charon, end to end through the
 * YAML configuration: a root CA and both gateways' certificates made with `ikekm pki` in the lab
 * dir, ikekm's connection naming them as files (`auth: rsa-signature`; `cert:`, `key:` 0600,
 * `ca:`, the local ID left to the certificate's subject DN, `crl:` later), charon's as swanctl
 * folders (x509/, x509ca/, private/).
 *
 * - `ikekm up`: ikekm initiates, both sides sign with Digital Signature (AUTH method 14, RFC
 *   7427) and RSASSA-PKCS1-v1_5 SHA-256, charon's log and the daemon's say so, `status --json`
 *   agrees with charon, the keys in the daemon's `--keylog` tables equal charon's;
 * - charon initiates and the daemon answers: the same;
 * - tshark, with the daemon's IKE key table only, decrypts both IKE_AUTH exchanges: AUTH method
 *   14 and one X.509 CERT payload in each message;
 * - the key file made readable by others: the reload (SIGHUP) is refused with the file and the
 *   fix named (ssh's rule), the running configuration stays and still brings the SA up;
 * - charon's certificate revoked by a CRL from `ikekm pki crl`, added as `crl:` and reloaded
 *   (SIGHUP): `ikekm up` fails with a line naming the certificate (subject, issuer, serial) and
 *   saying it is revoked, and charon is told AUTHENTICATION_FAILED (RFC 7296 2.21.2); charon
 *   initiating is refused alike.
 */
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ESP_SA_FILE, IKEV2_TABLE_FILE } from '../../src/daemon/runtime-ports.js';
import { startCapture, type Capture } from './harness/capture.js';
import { startCharon, type Charon } from './harness/charon.js';
import { startLabDaemon, type LabDaemon } from './harness/daemon-process.js';
import { parseEspSaLine, parseIkev2TableLine } from './harness/ikekm.js';
import { createLab, type Lab } from './harness/netns.js';
import { waitUntil } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { labPubkeyConf } from './harness/swanctl-conf.js';
import type { IkeSaInfo } from './harness/vici.js';
import { runTshark } from '../support/tshark.js';
import { AUTH_METHOD, CERTIFICATE_TSHARK_FIELDS, charonAuthentications, expectIkeAuthOnWire, ikeAuthOnWire, ikekmRecords } from './support/certificate-expect.js';
import { ESP_CASES, IKE_CASES, charonChildKeys, charonIkeKeys, expectChildKeysMatch, expectIkeKeysMatch, expectNoMalformed } from './support/ikekm-expect.js';
import { LabPki, installForCharon, type PkiEntity } from './support/lab-pki.js';

const IKE = IKE_CASES.gcm384;
const ESP = ESP_CASES.gcm;
const ROOT_DN = 'C=CH, O=ikekm, CN=ikekm Lab Root CA';
const RSA_SHA256 = 'RSA_EMSA_PKCS1_SHA2_256';

interface Credentials {
  readonly root: PkiEntity;
  readonly a: PkiEntity;
  readonly b: PkiEntity;
}

/**
 * The daemon's YAML: paths relative to its directory (the loader resolves them against the
 * configuration file's), the local ID left out (the certificate's subject DN), `crl` when given.
 */
function daemonYaml(lab: Lab, control: string, creds: Credentials, crl?: string): string {
  return [
    'daemon:',
    `  listen: [${lab.a.outer4}]`,
    '  ports: { ike: 500, natt: 4500 }',
    `  control: ${JSON.stringify(control)}`,
    '  kernel: memory',
    'ikePolicies:',
    `  lab-ike: { version: 2, auth: rsa-signature, proposals: [${IKE.proposal}], lifetime: 24h }`,
    'dataPolicies:',
    `  lab-data: { protocol: esp, mode: tunnel, proposals: [${ESP.proposal}], lifetime: 60m }`,
    'connections:',
    '  lab:',
    '    ikePolicy: lab-ike',
    '    dataPolicy: lab-data',
    `    local: { address: ${lab.a.outer4}, cert: ../pki/${creds.a.name}.pem, key: ../pki/${creds.a.name}.key }`,
    `    remote: { address: ${lab.b.outer4}, id: ${JSON.stringify(creds.b.dn)}, ca: ../pki/${creds.root.name}.pem }`,
    `    traffic: { local: [${lab.a.inner4}/32], remote: [${lab.b.inner4}/32] }`,
    '    start: listen',
    ...(crl === undefined ? [] : [`    crl: ${crl}`]),
    '',
  ].join('\n');
}

describeInterop(
  'the ikekm daemon and strongSwan with RSA-2048 certificates from ikekm pki',
  () => {
    let lab: Lab;
    let creds: Credentials;
    let charon: Charon | undefined;
    let daemon: LabDaemon | undefined;
    let capture: Capture | undefined;
    let daemonDir: string;
    let keylogDir: string;
    /** The IKE SAs each test set up, for the wire check. */
    const spis: string[] = [];

    const cli = (args: readonly string[]) => daemon!.cli(args);

    beforeAll(async () => {
      lab = await createLab({ ipv6: false });
      const pki = new LabPki(join(lab.dir, 'pki'));
      const root = await pki.rootCa('root', ROOT_DN, 'rsa-2048');
      const a = await pki.issue(root, 'gw-a', { dn: 'C=CH, O=ikekm, CN=gw-a.lab.example', san: ['gw-a.lab.example', lab.a.outer4], type: 'rsa-2048' });
      const b = await pki.issue(root, 'gw-b', { dn: 'C=CH, O=ikekm, CN=gw-b.lab.example', san: ['gw-b.lab.example', lab.b.outer4], type: 'rsa-2048' });
      creds = { root, a, b };
      const charonDir = join(lab.dir, 'b');
      installForCharon(charonDir, { certs: [b], keys: [b], cas: [root] });
      capture = await startCapture(lab.a.ns, lab.a.iface, join(lab.dir, 'a.pcapng'), { filter: 'udp' });
      charon = await startCharon(lab.b.ns, {
        dir: charonDir,
        conf: labPubkeyConf(lab, 'b', { proposals: IKE.proposal, espProposals: ESP.proposal, cert: 'gw-b.pem', remoteId: a.dn, cacerts: ['root.pem'] }),
      });
      daemonDir = join(lab.dir, 'ikekm-daemon');
      keylogDir = join(daemonDir, 'keys');
      daemon = await startLabDaemon(lab, { dir: daemonDir, yaml: (control) => daemonYaml(lab, control, creds), daemonArgs: ['--keylog', keylogDir] });
    }, 90_000);

    afterEach((context) => {
      if (context.task.result?.state === 'fail') daemon?.saveLogOnFailure();
    });

    afterAll(async () => {
      daemon?.kill();
      await capture?.stop();
      await charon?.stop();
      await lab?.destroy();
    }, 60_000);

    const charonLogsSince = (from: number, pattern: RegExp) =>
      waitUntil(`/${pattern.source}/ in charon's log`, async () => charon!.log().slice(from).match(pattern) ?? undefined, { timeoutMs: 10_000 });

    /** The daemon's key tables for the SA charon lists as `theirs` equal charon's logged keys. */
    const expectKeysMatch = async (theirs: IkeSaInfo | undefined, initiator: 'ikekm' | 'charon'): Promise<void> => {
      const readTable = (file: string): string[] => {
        try {
          return readFileSync(join(keylogDir, file), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
        } catch {
          return [];
        }
      };
      const ike = await waitUntil('the IKE SA in the daemon key table', async () => {
        const lines = readTable(IKEV2_TABLE_FILE).map(parseIkev2TableLine);
        return lines.some((l) => l.spiI === theirs?.spiI) ? lines : undefined;
      }, { timeoutMs: 5_000 });
      const esp = await waitUntil('the Child SA in the daemon esp_sa', async () => {
        const lines = readTable(ESP_SA_FILE).map(parseEspSaLine);
        return lines.some((l) => l.spi === theirs?.childSas[0]?.spiOut) ? lines : undefined;
      }, { timeoutMs: 5_000 });
      const keys = charon!.derivedKeys();
      expectIkeKeysMatch(ike, charonIkeKeys(keys, theirs?.spiI ?? '', theirs?.spiR ?? ''), IKE);
      expectChildKeysMatch(lab, esp, charonChildKeys(keys, theirs?.childSas[0]?.spiIn ?? ''), { esp: ESP, initiator });
    };

    it('ikekm up: both sign with Digital Signature (14) and RSASSA-PKCS1-v1_5 SHA-256, status agrees with charon, the keys match', async () => {
      const logFrom = charon!.log().length;
      const linesFrom = daemon!.logLines.length;
      const up = await cli(['up', 'lab']);
      expect(up.stderr).toBe('');
      expect(up.stdout).toMatch(/^lab up: IKE SA [0-9a-f]{16}_i [0-9a-f]{16}_r, Child SA [0-9a-f]{8}_i [0-9a-f]{8}_o\n$/);
      const [theirs] = await charon!.waitForSas('charon to list the SA', (sas) => sas.length === 1 && sas[0]?.childSas[0]?.state === 'INSTALLED');
      expect(theirs).toMatchObject({ state: 'ESTABLISHED', initiator: false, localId: creds.b.dn, remoteId: creds.a.dn });
      expect(charonAuthentications(charon!.log().slice(logFrom))).toEqual([
        { id: creds.a.dn, myself: false, method: RSA_SHA256 },
        { id: creds.b.dn, myself: true, method: RSA_SHA256 },
      ]);
      const [done] = ikekmRecords(daemon!.logLines.slice(linesFrom), 'IKE_AUTH done: IKE SA established');
      expect(done).toMatchObject({ connection: 'lab', peerId: creds.b.dn, method: `RSASSA-PKCS1-v1_5 SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "${creds.b.dn}"` });
      const [checked] = ikekmRecords(daemon!.logLines.slice(linesFrom), "the peer's certificate checked out");
      expect(checked?.chain).toEqual([creds.b.dn, ROOT_DN]);

      const status = await daemon!.status();
      expect(status.ikeSas).toHaveLength(1);
      expect(status.ikeSas[0]).toMatchObject({
        connection: 'lab',
        state: 'ESTABLISHED',
        role: 'initiator',
        peer: { address: lab.b.outer4, port: 4500, id: creds.b.dn },
        spiI: theirs?.spiI,
        spiR: theirs?.spiR,
      });
      expect(status.ikeSas[0]?.childSas[0]).toMatchObject({ state: 'INSTALLED', spiIn: theirs?.childSas[0]?.spiOut, spiOut: theirs?.childSas[0]?.spiIn });
      await expectKeysMatch(theirs, 'ikekm');
      spis.push(theirs?.spiI ?? '');

      expect((await cli(['down', 'lab'])).stdout).toBe('lab down: 1 IKE SA(s) deleted at the peer\n');
      await charon!.waitForSas('charon to drop the SA', (sas) => sas.length === 0);
    }, 60_000);

    it('charon initiates, the daemon answers: the same methods, the keys match', async () => {
      const logFrom = charon!.log().length;
      const linesFrom = daemon!.logLines.length;
      await charon!.initiate('net', { timeoutS: 10 });
      const [theirs] = await charon!.listSas();
      expect(theirs).toMatchObject({ state: 'ESTABLISHED', initiator: true, localId: creds.b.dn, remoteId: creds.a.dn });
      expect(charonAuthentications(charon!.log().slice(logFrom))).toEqual([
        { id: creds.b.dn, myself: true, method: RSA_SHA256 },
        { id: creds.a.dn, myself: false, method: RSA_SHA256 },
      ]);
      const answered = await waitUntil(
        'the daemon to log its answer',
        async () => ikekmRecords(daemon!.logLines.slice(linesFrom), 'IKE_AUTH answered: IKE SA established')[0],
        { timeoutMs: 5_000 },
      );
      expect(answered).toMatchObject({ peerId: creds.b.dn, method: `RSASSA-PKCS1-v1_5 SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "${creds.b.dn}"` });
      await waitUntil('the daemon to list the SA', async () => ((await daemon!.status()).ikeSas.some((sa) => sa.spiI === theirs?.spiI && sa.role === 'responder' && sa.childSas.length === 1) ? true : undefined), {
        timeoutMs: 5_000,
      });
      await expectKeysMatch(theirs, 'charon');
      spis.push(theirs?.spiI ?? '');

      await charon!.terminate({ ike: 'lab' });
      await waitUntil('the daemon to drop the SA', async () => ((await daemon!.status()).ikeSas.every((sa) => sa.state !== 'ESTABLISHED') ? true : undefined), { timeoutMs: 5_000 });
    }, 60_000);

    it("tshark decrypts both IKE_AUTH exchanges with the daemon's key table: AUTH method 14 and one X.509 CERT in each message", async () => {
      await capture?.stop();
      const ikev2Table = readFileSync(join(keylogDir, IKEV2_TABLE_FILE), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
      const { packets } = await runTshark(capture?.file ?? '', { ikev2Table, fields: CERTIFICATE_TSHARK_FIELDS, filter: 'isakmp' });
      const exchanges = ikeAuthOnWire(packets);
      expect([...exchanges.keys()].sort()).toEqual([...spis].sort());
      for (const spi of spis) expectIkeAuthOnWire(exchanges, spi, { request: AUTH_METHOD.DIGITAL_SIGNATURE, response: AUTH_METHOD.DIGITAL_SIGNATURE });
      expect(exchanges.get(spis[0]!)?.initiator).toBe(lab.a.outer4);
      expect(exchanges.get(spis[1]!)?.initiator).toBe(lab.b.outer4);
      expectNoMalformed(packets);
    }, 60_000);

    it('a key file others can read is refused on reload (SIGHUP), naming the file and the fix; the running configuration stays', async () => {
      const keyFile = join(lab.dir, 'pki', `${creds.a.name}.key`);
      chmodSync(keyFile, 0o644);
      try {
        const from = daemon!.logLines.length;
        daemon!.process.kill('SIGHUP');
        const refused = await waitUntil(
          'the reload to be refused',
          async () => daemon!.logLines.slice(from).find((l) => l.msg === 'reload refused: the configuration file has errors; the running configuration stays'),
          { timeoutMs: 10_000 },
        );
        expect(JSON.stringify(refused.diagnostics)).toContain(`private key file ${keyFile} can be read by group or others (mode 0644); run: chmod 600 ${keyFile}`);
      } finally {
        chmodSync(keyFile, 0o600);
      }
      expect((await cli(['up', 'lab'])).stdout).toMatch(/^lab up: /);
      expect((await cli(['down', 'lab'])).stdout).toBe('lab down: 1 IKE SA(s) deleted at the peer\n');
    }, 60_000);

    it("charon's certificate revoked by a CRL from ikekm pki crl: ikekm up fails naming the certificate, its issuer and serial, and why; charon hears AUTHENTICATION_FAILED", async () => {
      const pki = new LabPki(join(lab.dir, 'pki'));
      await pki.crl(creds.root, 'root', [creds.b]);
      const reloads = daemon!.logLines.filter((l) => l.msg === 'configuration reloaded').length;
      daemon!.writeConfig(daemonYaml(lab, daemon!.socket, creds, '../pki/root.crl'));
      daemon!.process.kill('SIGHUP');
      await waitUntil('the reload', async () => (daemon!.logLines.filter((l) => l.msg === 'configuration reloaded').length > reloads ? true : undefined), { timeoutMs: 10_000 });

      const logFrom = charon!.log().length;
      const linesFrom = daemon!.logLines.length;
      const up = await cli(['up', 'lab']);
      expect(up.code).not.toBe(0);
      const refusal = new RegExp(
        `the peer's certificate is refused for connection lab: "${creds.b.dn}" \\(issuer "${ROOT_DN}", serial ${creds.b.serial}\\): revoked at \\S+ \\(keyCompromise\\) by the CRL of "${ROOT_DN}"`,
      );
      expect(up.stderr).toMatch(refusal);
      const [failed] = ikekmRecords(daemon!.logLines.slice(linesFrom), 'IKE SA negotiation failed');
      expect(failed).toMatchObject({ notify: 'AUTHENTICATION_FAILED', reason: expect.stringMatching(refusal) });
      // charon answered IKE_AUTH (the SA was up on its side), then heard in an INFORMATIONAL why
      // ikekm refused it (RFC 7296 2.21.2).
      await charonLogsSince(logFrom, /parsed INFORMATIONAL request \d+ \[ N\(AUTH_FAILED\) \]/);
      await charon!.waitForSas('charon to drop the SA', (sas) => sas.length === 0);
      expect(charon!.log().slice(logFrom)).toContain(`authentication of '${creds.a.dn}' with ${RSA_SHA256} successful`);

      // charon initiating is refused alike: ikekm answers AUTHENTICATION_FAILED before it signs.
      const linesFrom2 = daemon!.logLines.length;
      const logFrom2 = charon!.log().length;
      const initiated = await charon!.initiate('net', { timeoutS: 5, allowFailure: true });
      expect(initiated.ok).toBe(false);
      await charonLogsSince(logFrom2, /received AUTHENTICATION_FAILED notify error/);
      const refused = await waitUntil('the daemon to log the refusal', async () => ikekmRecords(daemon!.logLines.slice(linesFrom2), 'IKE SA negotiation failed')[0], { timeoutMs: 5_000 });
      expect(refused).toMatchObject({ notify: 'AUTHENTICATION_FAILED', reason: expect.stringMatching(refusal) });
      expect(await daemon!.status()).toMatchObject({ ikeSas: [] });
    }, 60_000);
  },
  { capture: true, tshark: true },
);
