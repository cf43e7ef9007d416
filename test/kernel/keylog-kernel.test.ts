import { createCipheriv } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { espSaEntryOf } from '../../src/kernel/esp-sa-entry.js';
import { EspEncryptionName, EspIntegrityName, espSaLine, Ikev2EncryptionName, Ikev2IntegrityName, ikev2DecryptionTableLine } from '../../src/kernel/keylog.js';
import { Ikev2KeylogWriter, KeylogKernel } from '../../src/kernel/keylog-kernel.js';
import { MemoryKernel } from '../../src/kernel/memory-kernel.js';
import { encodeUdpIpPacket, PcapWriter } from '../../src/record/pcap-writer.js';
import { EncrId, IntegId } from '../../src/wire/iana.js';
import { assertNoSecrets, captureLogs } from '../support/log-capture.js';
import { describeWithTshark, runTshark } from '../support/tshark.js';
import { cbcSa, CBC_KEY, gcmSa, GCM_KEY, policy, SHA256_KEY } from './kernel-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'ikekm-keylog-kernel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = (name: string): string => join(tmp, `${++fileCounter}-${name}`);
const linesOf = (path: string): string[] => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');

function keylogKernel() {
  const inner = new MemoryKernel();
  const capture = captureLogs();
  const espSaPath = freshPath('esp_sa');
  const kernel = new KeylogKernel(inner, { espSaPath, log: capture.logger });
  return { inner, kernel, espSaPath, capture };
}

describe('espSaEntryOf', () => {
  it('maps an AES-GCM SA: key || salt as the key, NULL integrity', () => {
    expect(espSaEntryOf(gcmSa())).toEqual({
      ok: true,
      entry: {
        family: 'IPv4',
        src: '192.0.2.1',
        dst: '198.51.100.2',
        spi: 0xc0ffee01,
        encryptionName: EspEncryptionName.AES_GCM_16,
        encryptionKey: GCM_KEY,
        integrityName: EspIntegrityName.NULL,
        integrityKey: Buffer.alloc(0),
      },
    });
  });

  it('maps an AES-CBC + HMAC-SHA-256 SA over IPv6', () => {
    const result = espSaEntryOf(cbcSa({ source: '2001:db8::1', destination: '2001:db8::2' }));
    expect(result).toMatchObject({ ok: true, entry: { family: 'IPv6', encryptionName: EspEncryptionName.AES_CBC, integrityName: EspIntegrityName.HMAC_SHA2_256_128, integrityKey: SHA256_KEY } });
  });

  it.each([
    ['ChaCha20-Poly1305, which tshark 4.0 cannot name', gcmSa({ encryption: { id: EncrId.ENCR_CHACHA20_POLY1305, key: Buffer.alloc(36) } }), /no esp_sa name for ENCR/],
    ['a GCM key without its salt', gcmSa({ encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128, key: Buffer.alloc(16) } }), /16-octet key does not fit AES-GCM/],
    ['a CBC key of an impossible length', cbcSa({ encryption: { id: EncrId.ENCR_AES_CBC, key: Buffer.alloc(20) } }), /20-octet key does not fit AES-CBC/],
    ['an HMAC key of the wrong length', cbcSa({ integrity: { id: IntegId.AUTH_HMAC_SHA2_256_128, key: Buffer.alloc(20) } }), /does not fit HMAC-SHA-256-128/],
    ['integrity with an AEAD cipher', gcmSa({ integrity: { id: IntegId.AUTH_HMAC_SHA1_96, key: Buffer.alloc(20) } }), /AEAD/],
    ['an integrity transform tshark 4.0 cannot name', cbcSa({ integrity: { id: IntegId.AUTH_AES_XCBC_96, key: Buffer.alloc(16) } }), /no esp_sa name for INTEG/],
    ['mixed address families', gcmSa({ destination: '2001:db8::2' }), /not one IP family/],
  ])('skips %s', (_what, sa, reason) => {
    const result = espSaEntryOf(sa);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('KeylogKernel', () => {
  it('writes the esp_sa line of each installed SA to a 0600 file', async () => {
    const { inner, kernel, espSaPath } = keylogKernel();
    await kernel.installSa(gcmSa());
    await kernel.installSa(cbcSa({ direction: 'in', spi: 0x2000, source: '198.51.100.2', destination: '192.0.2.1' }));
    expect(linesOf(espSaPath)).toEqual([
      `"IPv4","192.0.2.1","198.51.100.2","0xc0ffee01","AES-GCM with 16 octet ICV [RFC4106]","0x${GCM_KEY.toString('hex')}","NULL","0x"`,
      `"IPv4","198.51.100.2","192.0.2.1","0x00002000","AES-CBC [RFC3602]","0x${CBC_KEY.toString('hex')}","HMAC-SHA-256-128 [RFC4868]","0x${SHA256_KEY.toString('hex')}"`,
    ]);
    expect(statSync(espSaPath).mode & 0o777).toBe(0o600);
    expect(inner.sas()).toHaveLength(2);
  });

  it('writes nothing when the inner kernel refuses the SA, and passes the refusal on', async () => {
    const { kernel, espSaPath } = keylogKernel();
    await kernel.installSa(gcmSa());
    await expect(kernel.installSa(gcmSa())).rejects.toMatchObject({ code: 'exists' });
    expect(linesOf(espSaPath)).toHaveLength(1);
  });

  it('installs but skips, with a key-free warning, an SA tshark cannot describe', async () => {
    const { inner, kernel, espSaPath, capture } = keylogKernel();
    const chachaKey = Buffer.alloc(36, 0x77);
    await kernel.installSa(gcmSa({ encryption: { id: EncrId.ENCR_CHACHA20_POLY1305, key: chachaKey } }));
    expect(inner.sas()).toHaveLength(1);
    expect(() => statSync(espSaPath)).toThrow(/ENOENT/);
    expect(capture.lines()).toEqual([
      expect.objectContaining({ level: 40, msg: 'ESP SA not written to the esp_sa key table', spi: 'c0ffee01', connection: 'home', reason: expect.stringMatching(/ENCR transform 28/) }),
    ]);
    assertNoSecrets(capture.text(), [chachaKey]);
  });

  it('keeps lines of concurrent installs whole and in order', async () => {
    const { kernel, espSaPath } = keylogKernel();
    await Promise.all(Array.from({ length: 50 }, (_, i) => kernel.installSa(cbcSa({ spi: 0x100 + i }))));
    const lines = linesOf(espSaPath);
    expect(lines).toHaveLength(50);
    lines.forEach((line, i) => expect(line).toBe(espSaLine({ ...(espSaEntryOf(cbcSa({ spi: 0x100 + i })) as { entry: Parameters<typeof espSaLine>[0] }).entry })));
  });

  it('logs, but does not fail the install, when the table cannot be written', async () => {
    const inner = new MemoryKernel();
    const capture = captureLogs();
    const kernel = new KeylogKernel(inner, { espSaPath: join(tmp, 'no-such-dir', 'esp_sa'), log: capture.logger });
    await expect(kernel.installSa(gcmSa())).resolves.toBeUndefined();
    expect(inner.sas()).toHaveLength(1);
    expect(capture.lines()).toEqual([expect.objectContaining({ level: 50, err: expect.objectContaining({ code: 'ENOENT' }) })]);
    assertNoSecrets(capture.text(), [GCM_KEY]);
  });

  it('warns once when an existing table is readable by others', async () => {
    const { kernel, espSaPath, capture } = keylogKernel();
    writeFileSync(espSaPath, '');
    chmodSync(espSaPath, 0o644);
    await kernel.installSa(gcmSa());
    await kernel.installSa(gcmSa({ spi: 2 }));
    expect(capture.lines().filter((l) => l.level === 40)).toEqual([expect.objectContaining({ mode: '644', path: espSaPath })]);
    expect(linesOf(espSaPath)).toHaveLength(2);
  });

  it('passes deletes, policies, usage and policies\' last use to the inner kernel', async () => {
    const { inner, kernel, espSaPath } = keylogKernel();
    await kernel.installSa(gcmSa());
    await kernel.installPolicy(policy());
    inner.addTraffic('198.51.100.2', 0xc0ffee01, 100);
    expect(await kernel.usage('198.51.100.2', 0xc0ffee01)).toEqual({ bytes: 100, packets: 1 });
    expect(await kernel.policyLastUse?.(policy())).toBeUndefined();
    inner.markPolicyUsed(policy(), 1_765_000_000_000);
    expect(await kernel.policyLastUse?.(policy())).toBe(1_765_000_000_000);
    await kernel.deletePolicy(policy());
    await kernel.deleteSa('198.51.100.2', 0xc0ffee01);
    await expect(kernel.deleteSa('198.51.100.2', 0xc0ffee01)).rejects.toMatchObject({ code: 'not-found' });
    expect(inner.sas()).toEqual([]);
    expect(inner.policies()).toEqual([]);
    expect(linesOf(espSaPath)).toHaveLength(1); // the capture still needs the deleted SA's keys
  });

  it("passes the inner kernel's whole-kernel usage read on, so a status reads the kernel once", async () => {
    const { inner, kernel } = keylogKernel();
    await kernel.installSa(gcmSa());
    await kernel.installPolicy(policy());
    inner.addTraffic('198.51.100.2', 0xc0ffee01, 100);
    inner.markPolicyUsed(policy(), 1_765_000_000_000);
    const usage = await kernel.readUsage?.();
    expect(usage?.sa('198.51.100.2', 0xc0ffee01)).toEqual({ bytes: 100, packets: 1 });
    expect(usage?.policyLastUse?.(policy())).toBe(1_765_000_000_000);
  });
});

describe('Ikev2KeylogWriter', () => {
  const SPIi = Buffer.from('0011223344556677', 'hex');
  const SPIr = Buffer.from('8899aabbccddeeff', 'hex');

  function writer() {
    const capture = captureLogs();
    const path = freshPath('ikev2_decryption_table');
    return { writer: new Ikev2KeylogWriter({ path, log: capture.logger }), path, capture };
  }

  it('appends one ikev2_decryption_table line per IKE SA to a 0600 file', async () => {
    const { writer: w, path } = writer();
    const keys = { SK_ei: Buffer.alloc(32, 1), SK_er: Buffer.alloc(32, 2), SK_ai: Buffer.alloc(32, 3), SK_ar: Buffer.alloc(32, 4) };
    await w.ikeSaEstablished({ SPIi, SPIr, ...keys, encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 256 }, integrity: IntegId.AUTH_HMAC_SHA2_256_128 });
    await w.ikeSaEstablished({ SPIi: SPIr, SPIr: SPIi, SK_ei: Buffer.alloc(20, 5), SK_er: Buffer.alloc(20, 6), encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128 }, integrity: IntegId.NONE });
    expect(linesOf(path)).toEqual([
      ikev2DecryptionTableLine({ SPIi, SPIr, ...keys, encryptionName: Ikev2EncryptionName.AES_CBC_256, integrityName: Ikev2IntegrityName.HMAC_SHA2_256_128 }),
      `8899aabbccddeeff,0011223344556677,${'05'.repeat(20)},${'06'.repeat(20)},"AES-GCM-128 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"`,
    ]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('skips with a warning an IKE SA tshark 4.0 cannot name, and one whose key lengths do not fit', async () => {
    const { writer: w, path, capture } = writer();
    const chachaKey = Buffer.alloc(36, 0x42);
    await w.ikeSaEstablished({ SPIi, SPIr, SK_ei: chachaKey, SK_er: chachaKey, encryption: { id: EncrId.ENCR_CHACHA20_POLY1305 }, integrity: IntegId.NONE });
    const shortKey = Buffer.alloc(16, 0x43);
    await w.ikeSaEstablished({ SPIi, SPIr, SK_ei: shortKey, SK_er: shortKey, encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 256 }, integrity: IntegId.AUTH_HMAC_SHA1_96, SK_ai: Buffer.alloc(20), SK_ar: Buffer.alloc(20) });
    await w.ikeSaEstablished({ SPIi, SPIr, SK_ei: shortKey, SK_er: shortKey, encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 128 }, integrity: IntegId.AUTH_AES_XCBC_96 });
    expect(() => statSync(path)).toThrow(/ENOENT/);
    expect(capture.lines().map((l) => [l.level, l.spiI, l.spiR, l.reason])).toEqual([
      [40, '0011223344556677', '8899aabbccddeeff', expect.stringMatching(/ENCR transform 28/)],
      [40, '0011223344556677', '8899aabbccddeeff', 'SK_ei is 16 octets, the named algorithm needs 32'],
      [40, '0011223344556677', '8899aabbccddeeff', expect.stringMatching(/INTEG transform 5/)],
    ]);
    assertNoSecrets(capture.text(), [chachaKey, shortKey]);
  });
});

/**
 * The proof that the esp_sa line is right: tshark decrypts an ESP packet (UDP-encapsulated,
 * RFC 3948) sealed with the SA's key, using the table KeylogKernel wrote.
 */
describeWithTshark('KeylogKernel output judged by tshark 4.0', () => {
  /** RFC 4106: AES-GCM ESP with an 8-octet explicit IV; nonce = salt || IV; AAD = SPI || sequence number. */
  function sealEspGcm(key: Buffer, spi: number, seq: number, inner: Buffer): Buffer {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(spi, 0);
    header.writeUInt32BE(seq, 4);
    const iv = Buffer.from('0102030405060708', 'hex');
    // RFC 4303 2.4: pad so that payload + pad + 2 trailer octets is a multiple of 4; pad octets 1, 2, 3…
    const padLength = (4 - ((inner.length + 2) % 4)) % 4;
    const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
    const plaintext = Buffer.concat([inner, padding, Buffer.from([padLength, 4 /* next header: IPv4, tunnel mode */])]);
    const cipher = createCipheriv('aes-128-gcm', key.subarray(0, 16), Buffer.concat([key.subarray(16), iv]));
    cipher.setAAD(header);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, ciphertext, cipher.getAuthTag()]);
  }

  it('decrypts UDP-encapsulated ESP with the line written for the SA', async () => {
    const { kernel, espSaPath } = keylogKernel();
    const sa = gcmSa({ encapsulation: { sourcePort: 4500, destinationPort: 4500 } });
    await kernel.installSa(sa);
    const innerPacket = encodeUdpIpPacket({ address: '10.1.0.1', port: 5000 }, { address: '10.2.0.1', port: 6000 }, Buffer.from('hello through the tunnel'));
    const esp = sealEspGcm(GCM_KEY, sa.spi, 1, innerPacket);
    const capture = freshPath('esp.pcap');
    writeFileSync(capture, new PcapWriter().addUdp({ src: { address: sa.source, port: 4500 }, dst: { address: sa.destination, port: 4500 }, payload: esp }).toBuffer());
    const run = await runTshark(capture, { espSa: linesOf(espSaPath), fields: ['esp.spi', 'ip.dst', 'udp.dstport', 'esp.icv_good'] });
    const [packet] = run.packets;
    // The inner packet's addresses and port appear only if tshark decrypted the payload.
    expect(packet?.['ip.dst']).toEqual(['198.51.100.2', '10.2.0.1']);
    expect(packet?.['udp.dstport']).toEqual(['4500', '6000']);
    expect(packet?.['esp.icv_good']).toEqual(['1']);
  });
});
