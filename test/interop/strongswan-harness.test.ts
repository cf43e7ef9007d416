/**
 * Smoke test of the interop harness: strongSwan against strongSwan in a two-namespace lab.
 * It proves every piece the "ikekm vs strongSwan" tests will lean on: lab set-up and teardown,
 * charon start/load/initiate/rekey/terminate, list-sas parsing, key extraction from the log
 * (checked across both peers and by tshark decrypting the capture with them), traffic
 * through the kernel-libipsec tunnel, and a clean authentication failure.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { EspEncryptionName, EspIntegrityName, Ikev2EncryptionName, Ikev2IntegrityName, espSaLine, ikev2DecryptionTableLine } from '../../src/kernel/keylog.js';
import { parseEspSpiHex } from '../../src/wire/spi-text.js';
import { runTshark } from '../support/tshark.js';
import { startCapture, type Capture } from './harness/capture.js';
import { startCharon, type Charon } from './harness/charon.js';
import type { ChildSaKeys, IkeSaKeys } from './harness/charon-log.js';
import { createLab, type Lab } from './harness/netns.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';
import type { IkeSaInfo } from './harness/vici.js';

const IDS = { a: 'a.lab.example', b: 'b.lab.example' } as const;
const hexBytes = (hex: string | undefined): Uint8Array => Buffer.from(hex ?? '', 'hex');

/** IKE exchange types (RFC 7296 3.1). */
const IKE_SA_INIT = '34';
const IKE_AUTH = '35';
const CREATE_CHILD_SA = '36';
const INFORMATIONAL = '37';

describeInterop(
  'interop harness: strongSwan ↔ strongSwan (PSK, kernel-libipsec)',
  () => {
    let lab: Lab;
    let capture: Capture | undefined;
    let a: Charon | undefined;
    let b: Charon | undefined;

    beforeAll(async () => {
      lab = await createLab();
      capture = await startCapture(lab.a.ns, lab.a.iface, join(lab.dir, 'a.pcapng'));
      [a, b] = await Promise.all([
        startCharon(lab.a.ns, { dir: join(lab.dir, 'a'), conf: labPskConf(lab, 'a', { ids: IDS }) }),
        startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { ids: IDS }) }),
      ]);
    }, 30_000);

    afterEach((context) => {
      if (context.task.result?.state === 'fail') lab.keepArtifacts();
    });

    afterAll(async () => {
      await capture?.stop();
      await Promise.all([a?.stop(), b?.stop()]);
      await lab?.destroy();
    }, 30_000);

    const sides = (): { a: Charon; b: Charon } => {
      if (!a || !b) throw new Error('charons did not start');
      return { a, b };
    };

    it('establishes the IKE SA and the Child SA; list-sas agrees on both sides', async () => {
      const { a, b } = sides();
      await a.initiate('net', { timeoutS: 10 });
      const [saA] = await a.listSas();
      // The responder may still be finishing its side when the initiator reports success.
      const [saB] = await b.waitForSas('responder CHILD_SA INSTALLED', (sas) => sas[0]?.childSas[0]?.state === 'INSTALLED');
      expectEstablished(saA, saB);
      if (!saA || !saB) return;
      expect(saA.initiator).toBe(true);
      expect(saB.initiator).toBe(false);
      expect(saA.localId).toBe(IDS.a);
      expect(saA.remoteId).toBe(IDS.b);
      // kernel-libipsec makes each side fake NAT detection: IKE_AUTH moved to 4500, ESP in UDP.
      expect(saA.localPort).toBe(4500);
      expect(saA.remotePort).toBe(4500);
      expect(saA.childSas[0]?.encap).toBe(true);
      expect(saA.childSas[0]?.localTs).toEqual(['198.51.100.1/32']);
      expect(saA.childSas[0]?.remoteTs).toEqual(['203.0.113.1/32']);
      expect(saB.childSas[0]?.localTs).toEqual(['203.0.113.1/32']);
    });

    it('carries traffic between the protected addresses through the tunnel', async () => {
      const { a, b } = sides();
      const ping = await lab.exec('a', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', lab.a.inner4, lab.b.inner4], { timeoutMs: 10_000 });
      expect(ping.ok, `${ping.stdout}\n${ping.stderr}`).toBe(true);
      expect(ping.stdout).toMatch(/3 received/);
      const childA = (await a.listSas())[0]?.childSas[0];
      const childB = (await b.listSas())[0]?.childSas[0];
      expect(childA?.packetsOut).toBeGreaterThanOrEqual(3);
      expect(childA?.packetsIn).toBeGreaterThanOrEqual(3);
      expect(childB?.packetsIn).toBeGreaterThanOrEqual(3);
      expect(childA?.bytesOut).toBeGreaterThan(0);
    });

    it('reads the same IKE and Child SA keys out of both charon logs', async () => {
      const { a, b } = sides();
      const keysA = a.derivedKeys();
      const keysB = b.derivedKeys();
      const [saA] = await a.listSas();
      expect(keysA.ike).toHaveLength(1);
      expect(keysB.ike).toHaveLength(1);
      const ikeA = keysA.ike[0];
      const ikeB = keysB.ike[0];
      expectSameIkeKeys(ikeA, ikeB);
      // The checkin line ties the keys to the SA list-sas shows.
      expect(ikeA?.spiI).toBe(saA?.spiI);
      expect(ikeA?.spiR).toBe(saA?.spiR);
      expect(ikeA?.name).toBe('lab');
      // AES-CBC-128 / HMAC-SHA2-256 / PRF-HMAC-SHA2-256: key sizes follow the algorithms.
      expect(ikeA?.SK_ei).toHaveLength(32);
      expect(ikeA?.SK_ai).toHaveLength(64);
      expect(ikeA?.SK_d).toHaveLength(64);
      expect(ikeA?.SKEYSEED).toHaveLength(64);
      expect(ikeA?.sharedSecret).toHaveLength(512); // MODP-2048
      expect(ikeA?.sharedSecret).toBe(ikeB?.sharedSecret);

      expect(keysA.child).toHaveLength(1);
      expect(keysB.child).toHaveLength(1);
      expectSameChildKeys(keysA.child[0], keysB.child[0]);
      expect(keysA.child[0]?.spiIn).toBe(saA?.childSas[0]?.spiIn);
      // AES-GCM-16-128: 16-byte key + 4-byte salt, no integrity key.
      expect(keysA.child[0]?.encryptionInitiator).toHaveLength(40);
      expect(keysA.child[0]?.integrityInitiator).toBeUndefined();
    });

    it('rekeys the Child SA and the IKE SA; each rekey adds a key set to derivedKeys()', async () => {
      const { a, b } = sides();
      const firstChild = a.derivedKeys().child[0];
      await a.rekey({ child: 'net' });
      await b.waitForSas('responder: rekeyed Child SA installed', (sas) =>
        (sas[0]?.childSas ?? []).some((c) => c.state === 'INSTALLED' && c.spiIn !== firstChild?.spiOut),
      );
      const childA = a.derivedKeys().child;
      const childB = b.derivedKeys().child;
      expect(childA).toHaveLength(2);
      expect(childB).toHaveLength(2);
      expectSameChildKeys(childA[1], childB[1]);
      expect(childA[1]?.encryptionInitiator).not.toBe(childA[0]?.encryptionInitiator);

      const firstIke = a.derivedKeys().ike[0];
      await a.rekey({ ike: 'lab' });
      const [saB] = await b.waitForSas('responder: rekeyed IKE SA established', (sas) =>
        sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && sas[0].spiI !== firstIke?.spiI,
      );
      const ikeA = a.derivedKeys().ike;
      const ikeB = b.derivedKeys().ike;
      expect(ikeA).toHaveLength(2);
      expect(ikeB).toHaveLength(2);
      expectSameIkeKeys(ikeA[1], ikeB[1]);
      expect(ikeA[1]?.uniqueId).toBe(2);
      expect(ikeA[1]?.spiI).toBe(saB?.spiI);
      expect(ikeA[1]?.SK_d).not.toBe(ikeA[0]?.SK_d);
      // The initiator logs the new SA's keys in the old SA's context, the responder in the new one's.
      expect(ikeA[1]?.context?.uniqueId).toBe(1);
      expect(ikeB[1]?.context?.uniqueId).toBe(2);

      // The tunnel still works on the rekeyed SAs.
      const ping = await lab.exec('a', 'ping', ['-c', '1', '-W', '2', '-I', lab.a.inner4, lab.b.inner4], { timeoutMs: 10_000 });
      expect(ping.ok, ping.stdout).toBe(true);
    });

    it('terminates: no SA left on either side, and pings no longer get through', async () => {
      const { a, b } = sides();
      await a.terminate({ ike: 'lab' });
      expect(await a.listSas()).toEqual([]);
      await b.waitForSas('responder: no SA', (sas) => sas.length === 0);
      const ping = await lab.exec('a', 'ping', ['-c', '1', '-W', '1', '-I', lab.a.inner4, lab.b.inner4], { timeoutMs: 10_000 });
      expect(ping.ok).toBe(false);
    });

    it('capture: IKE_SA_INIT on 500, the rest on 4500, decryptable with the keys from the log', async () => {
      const { a } = sides();
      await capture?.stop();
      const keys = a.derivedKeys();
      const ikev2Table = keys.ike.map((k) =>
        ikev2DecryptionTableLine({
          SPIi: hexBytes(k.spiI),
          SPIr: hexBytes(k.spiR),
          SK_ei: hexBytes(k.SK_ei),
          SK_er: hexBytes(k.SK_er),
          encryptionName: Ikev2EncryptionName.AES_CBC_128,
          SK_ai: hexBytes(k.SK_ai),
          SK_ar: hexBytes(k.SK_ar),
          integrityName: Ikev2IntegrityName.HMAC_SHA2_256_128,
        }),
      );
      // a initiated every Child SA exchange, so its outbound direction uses the initiator key.
      const espSa = keys.child.flatMap((c) => [
        espSaLine({
          family: 'IPv4',
          src: lab.a.outer4,
          dst: lab.b.outer4,
          spi: parseEspSpiHex(c.spiOut),
          encryptionName: EspEncryptionName.AES_GCM_16,
          encryptionKey: hexBytes(c.encryptionInitiator),
          integrityName: EspIntegrityName.NULL,
        }),
        espSaLine({
          family: 'IPv4',
          src: lab.b.outer4,
          dst: lab.a.outer4,
          spi: parseEspSpiHex(c.spiIn),
          encryptionName: EspEncryptionName.AES_GCM_16,
          encryptionKey: hexBytes(c.encryptionResponder),
          integrityName: EspIntegrityName.NULL,
        }),
      ]);
      const { packets } = await runTshark(capture?.file ?? '', {
        ikev2Table,
        espSa,
        fields: ['udp.srcport', 'udp.dstport', 'isakmp.exchangetype', 'isakmp.ispi', 'isakmp.ts.start_ipv4', 'esp.spi', 'icmp.type', '_ws.malformed'],
        filter: 'isakmp || esp',
      });
      const ike = packets.filter((p) => p['isakmp.exchangetype'] !== undefined);
      const exchanges = ike.map((p) => `${p['isakmp.exchangetype']?.[0]}@${p['udp.dstport']?.[0]}`);
      expect(exchanges.slice(0, 2)).toEqual([`${IKE_SA_INIT}@500`, `${IKE_SA_INIT}@500`]);
      expect(exchanges.slice(2, 4)).toEqual([`${IKE_AUTH}@4500`, `${IKE_AUTH}@4500`]);
      expect(exchanges).toContain(`${CREATE_CHILD_SA}@4500`);
      expect(exchanges).toContain(`${INFORMATIONAL}@4500`);
      expect(ike.filter((p) => p['udp.dstport']?.[0] === '500')).toHaveLength(2);
      // Decrypted IKE_AUTH: the traffic selectors inside SK are visible.
      expect(ike.some((p) => p['isakmp.ts.start_ipv4']?.includes(lab.a.inner4))).toBe(true);
      // Decrypted ESP: the pings inside, both directions (8 = echo request, 0 = reply).
      const icmp = packets.flatMap((p) => p['icmp.type'] ?? []);
      expect(icmp.filter((t) => t === '8').length).toBeGreaterThanOrEqual(4);
      expect(icmp.filter((t) => t === '0').length).toBeGreaterThanOrEqual(4);
      expect(packets.filter((p) => p['_ws.malformed'] !== undefined)).toEqual([]);
    });
  },
  { capture: true, ping: true, tshark: true },
);

describeInterop('interop harness: wrong PSK fails cleanly', () => {
  let lab: Lab;
  let a: Charon | undefined;
  let b: Charon | undefined;

  beforeAll(async () => {
    lab = await createLab({ ipv6: false });
    [a, b] = await Promise.all([
      startCharon(lab.a.ns, { dir: join(lab.dir, 'a'), conf: labPskConf(lab, 'a', { psk: 'the-initiator-secret' }) }),
      startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { psk: 'the-responder-secret' }) }),
    ]);
  }, 30_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') lab.keepArtifacts();
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await lab?.destroy();
  }, 30_000);

  it('initiate fails with AUTHENTICATION_FAILED and leaves no SA on either side', async () => {
    if (!a || !b) throw new Error('charons did not start');
    const result = await a.initiate('net', { timeoutS: 10, allowFailure: true });
    expect(result.ok).toBe(false);
    // swanctl relays charon's log lines for the initiation, the notify among them.
    expect(result.stdout).toMatch(/received AUTHENTICATION_FAILED notify error/);
    await a.waitForLog(/received AUTHENTICATION_FAILED notify error/);
    expect(b.log()).toMatch(/tried 1 shared key for '192\.0\.2\.2' - '192\.0\.2\.1', but MAC mismatched/);
    await a.waitForSas('initiator: no SA', (sas) => sas.length === 0);
    await b.waitForSas('responder: no SA', (sas) => sas.length === 0);
  });
});

describeInterop(
  'interop harness: IPv6 outer and inner addresses',
  () => {
    let lab: Lab;
    let a: Charon | undefined;
    let b: Charon | undefined;

    beforeAll(async () => {
      lab = await createLab({ ipv6: true });
      [a, b] = await Promise.all([
        startCharon(lab.a.ns, { dir: join(lab.dir, 'a'), conf: labPskConf(lab, 'a', { ipv6: true }) }),
        startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { ipv6: true }) }),
      ]);
    }, 30_000);

    afterEach((context) => {
      if (context.task.result?.state === 'fail') lab.keepArtifacts();
    });

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await lab?.destroy();
    }, 30_000);

    it('establishes over 2001:db8::1 <-> ::2 and carries ping6 between the lo addresses', async () => {
      if (!a || !b) throw new Error('charons did not start');
      await a.initiate('net', { timeoutS: 10 });
      const [sa] = await a.listSas();
      expect(sa?.localHost).toBe(lab.a.outer6);
      expect(sa?.remoteHost).toBe(lab.b.outer6);
      expect(sa?.childSas[0]?.localTs).toEqual([`${lab.a.inner6}/128`]);
      const ping = await lab.exec('a', 'ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', '-I', lab.a.inner6 ?? '', lab.b.inner6 ?? ''], { timeoutMs: 10_000 });
      expect(ping.ok, `${ping.stdout}\n${ping.stderr}`).toBe(true);
      expectSameChildKeys(a.derivedKeys().child[0], b.derivedKeys().child[0]);
    });
  },
  { ping: true },
);

describeInterop('interop harness: charon on configurable IKE ports', () => {
  let lab: Lab;
  let a: Charon | undefined;
  let b: Charon | undefined;

  beforeAll(async () => {
    lab = await createLab({ ipv6: false });
    [a, b] = await Promise.all([
      startCharon(lab.a.ns, { dir: join(lab.dir, 'a'), conf: labPskConf(lab, 'a', { remotePort: 1500 }), port: 2500, portNatT: 24500 }),
      startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { remotePort: 2500 }), port: 1500, portNatT: 14500 }),
    ]);
  }, 30_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') lab.keepArtifacts();
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await lab?.destroy();
  }, 30_000);

  it('uses charon.port / port_nat_t; after NAT detection the initiator keeps the peer\'s non-500 port', async () => {
    if (!a || !b) throw new Error('charons did not start');
    const result = await a.initiate('net', { timeoutS: 10 });
    expect(result.stdout).toMatch(/sending packet: from 192\.0\.2\.1\[2500\] to 192\.0\.2\.2\[1500\]/);
    const [saA] = await a.listSas();
    // a floats to its own port_nat_t but, the peer's port not being 500, goes on sending to 1500
    // (with the non-ESP marker): a peer on a custom port must accept both framings there.
    expect([saA?.localPort, saA?.remotePort]).toEqual([24500, 1500]);
    const [saB] = await b.waitForSas('responder CHILD_SA INSTALLED', (sas) => sas[0]?.childSas[0]?.state === 'INSTALLED');
    expect([saB?.localPort, saB?.remotePort]).toEqual([1500, 24500]);
  });
});

function expectEstablished(saA: IkeSaInfo | undefined, saB: IkeSaInfo | undefined): void {
  expect(saA?.state).toBe('ESTABLISHED');
  expect(saB?.state).toBe('ESTABLISHED');
  expect(saA?.spiI).toMatch(/^[0-9a-f]{16}$/);
  expect(saA?.spiI).toBe(saB?.spiI);
  expect(saA?.spiR).toBe(saB?.spiR);
  for (const sa of [saA, saB]) {
    expect(sa?.encrAlg).toBe('AES_CBC');
    expect(sa?.encrKeysize).toBe(128);
    expect(sa?.integAlg).toBe('HMAC_SHA2_256_128');
    expect(sa?.prfAlg).toBe('PRF_HMAC_SHA2_256');
    expect(sa?.dhGroup).toBe('MODP_2048');
    expect(sa?.childSas).toHaveLength(1);
    const child = sa?.childSas[0];
    expect(child?.state).toBe('INSTALLED');
    expect(child?.mode).toBe('TUNNEL');
    expect(child?.protocol).toBe('ESP');
    expect(child?.encrAlg).toBe('AES_GCM_16');
    expect(child?.encrKeysize).toBe(128);
    expect(child?.integAlg).toBeUndefined();
  }
  expect(saA?.childSas[0]?.spiIn).toBe(saB?.childSas[0]?.spiOut);
  expect(saA?.childSas[0]?.spiOut).toBe(saB?.childSas[0]?.spiIn);
}

function expectSameIkeKeys(x: IkeSaKeys | undefined, y: IkeSaKeys | undefined): void {
  expect(x).toBeDefined();
  expect(y).toBeDefined();
  for (const field of ['spiI', 'spiR', 'SKEYSEED', 'SK_d', 'SK_ai', 'SK_ar', 'SK_ei', 'SK_er', 'SK_pi', 'SK_pr'] as const) {
    expect(x?.[field], field).toMatch(/^[0-9a-f]+$/);
    expect(x?.[field], field).toBe(y?.[field]);
  }
}

/** Same Child SA seen from both ends: SPIs cross over, keys are equal per role. */
function expectSameChildKeys(x: ChildSaKeys | undefined, y: ChildSaKeys | undefined): void {
  expect(x).toBeDefined();
  expect(y).toBeDefined();
  expect(x?.spiIn).toBe(y?.spiOut);
  expect(x?.spiOut).toBe(y?.spiIn);
  expect(x?.localTs).toBe(y?.remoteTs);
  expect(x?.encryptionInitiator).toMatch(/^[0-9a-f]+$/);
  expect(x?.encryptionInitiator).toBe(y?.encryptionInitiator);
  expect(x?.encryptionResponder).toBe(y?.encryptionResponder);
  expect(x?.encryptionInitiator).not.toBe(x?.encryptionResponder);
  expect(x?.integrityInitiator).toBe(y?.integrityInitiator);
  expect(x?.integrityResponder).toBe(y?.integrityResponder);
}
