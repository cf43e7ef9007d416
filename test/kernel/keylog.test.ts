import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EspEncryptionName,
  EspIntegrityName,
  Ikev2EncryptionName,
  Ikev2IntegrityName,
  appendKeylogLines,
  espEncryptionName,
  espIntegrityName,
  espSaLine,
  ikev1DecryptionTableLine,
  ikev2DecryptionTableLine,
  ikev2EncryptionName,
  ikev2IntegrityName,
} from '../../src/kernel/keylog.js';
import { PcapWriter } from '../../src/record/pcap-writer.js';
import { EncrId, IntegId } from '../../src/wire/iana.js';
import { describeWithTshark, runTshark } from '../support/tshark.js';

const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);
const SPIi = Buffer.from('0011223344556677', 'hex');
const SPIr = Buffer.from('8899aabbccddeeff', 'hex');

describe('ikev2DecryptionTableLine', () => {
  it('formats AES-CBC + HMAC as bare lowercase hex with quoted names', () => {
    const line = ikev2DecryptionTableLine({
      SPIi,
      SPIr,
      SK_ei: bytes(32, 0xab),
      SK_er: bytes(32, 0xcd),
      encryptionName: Ikev2EncryptionName.AES_CBC_256,
      SK_ai: bytes(32, 0x01),
      SK_ar: bytes(32, 0x02),
      integrityName: Ikev2IntegrityName.HMAC_SHA2_256_128,
    });
    expect(line).toBe(
      `0011223344556677,8899aabbccddeeff,${'ab'.repeat(32)},${'cd'.repeat(32)},"AES-CBC-256 [RFC3602]",${'01'.repeat(32)},${'02'.repeat(32)},"HMAC_SHA2_256_128 [RFC4868]"`,
    );
  });

  it('formats AEAD with empty integrity keys and NONE', () => {
    const line = ikev2DecryptionTableLine({
      SPIi,
      SPIr,
      SK_ei: bytes(36, 0xee),
      SK_er: bytes(36, 0xff),
      encryptionName: Ikev2EncryptionName.AES_GCM_256_16,
      integrityName: Ikev2IntegrityName.NONE,
    });
    expect(line).toBe(`0011223344556677,8899aabbccddeeff,${'ee'.repeat(36)},${'ff'.repeat(36)},"AES-GCM-256 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"`);
  });

  it('refuses lengths tshark would refuse', () => {
    const base = {
      SPIi,
      SPIr,
      SK_ei: bytes(16, 1),
      SK_er: bytes(16, 1),
      encryptionName: Ikev2EncryptionName.AES_CBC_128,
      SK_ai: bytes(20, 1),
      SK_ar: bytes(20, 1),
      integrityName: Ikev2IntegrityName.HMAC_SHA1_96,
    } as const;
    expect(() => ikev2DecryptionTableLine(base)).not.toThrow();
    expect(() => ikev2DecryptionTableLine({ ...base, SPIi: bytes(4, 1) })).toThrow(RangeError);
    expect(() => ikev2DecryptionTableLine({ ...base, SK_er: bytes(32, 1) })).toThrow(RangeError);
    expect(() => ikev2DecryptionTableLine({ ...base, SK_ai: bytes(32, 1) })).toThrow(RangeError);
    // GCM without its 4-octet salt.
    expect(() =>
      ikev2DecryptionTableLine({ SPIi, SPIr, SK_ei: bytes(32, 1), SK_er: bytes(32, 1), encryptionName: Ikev2EncryptionName.AES_GCM_256_16, integrityName: Ikev2IntegrityName.NONE }),
    ).toThrow(RangeError);
    // AEAD with an integrity algorithm.
    expect(() =>
      ikev2DecryptionTableLine({ ...base, SK_ei: bytes(20, 1), SK_er: bytes(20, 1), encryptionName: Ikev2EncryptionName.AES_GCM_128_16 }),
    ).toThrow(RangeError);
  });
});

describe('IANA transform → Wireshark name', () => {
  it('maps the suites ikekm negotiates', () => {
    expect(ikev2EncryptionName(EncrId.ENCR_AES_CBC, 128)).toBe('AES-CBC-128 [RFC3602]');
    expect(ikev2EncryptionName(EncrId.ENCR_AES_CBC, 192)).toBe('AES-CBC-192 [RFC3602]');
    expect(ikev2EncryptionName(EncrId.ENCR_AES_CBC, 256)).toBe('AES-CBC-256 [RFC3602]');
    expect(ikev2EncryptionName(EncrId.ENCR_AES_GCM_16, 128)).toBe('AES-GCM-128 with 16 octet ICV [RFC5282]');
    expect(ikev2EncryptionName(EncrId.ENCR_AES_GCM_16, 192)).toBe('AES-GCM-192 with 16 octet ICV [RFC5282]');
    expect(ikev2EncryptionName(EncrId.ENCR_AES_GCM_16, 256)).toBe('AES-GCM-256 with 16 octet ICV [RFC5282]');
    expect(ikev2IntegrityName(IntegId.AUTH_HMAC_SHA1_96)).toBe('HMAC_SHA1_96 [RFC2404]');
    expect(ikev2IntegrityName(IntegId.AUTH_HMAC_SHA2_256_128)).toBe('HMAC_SHA2_256_128 [RFC4868]');
    expect(ikev2IntegrityName(IntegId.AUTH_HMAC_SHA2_384_192)).toBe('HMAC_SHA2_384_192 [RFC4868]');
    expect(ikev2IntegrityName(IntegId.AUTH_HMAC_SHA2_512_256)).toBe('HMAC_SHA2_512_256 [RFC4868]');
    expect(ikev2IntegrityName(IntegId.NONE)).toBe('NONE [RFC4306]');
    expect(espEncryptionName(EncrId.ENCR_AES_GCM_16)).toBe('AES-GCM with 16 octet ICV [RFC4106]');
    expect(espIntegrityName(IntegId.AUTH_HMAC_SHA2_256_128)).toBe('HMAC-SHA-256-128 [RFC4868]');
  });

  it('has no name for what tshark 4.0 cannot decrypt (ChaCha20-Poly1305, missing key length)', () => {
    expect(ikev2EncryptionName(EncrId.ENCR_CHACHA20_POLY1305, 256)).toBeUndefined();
    expect(ikev2EncryptionName(EncrId.ENCR_CHACHA20_POLY1305)).toBeUndefined();
    expect(espEncryptionName(EncrId.ENCR_CHACHA20_POLY1305)).toBeUndefined();
    expect(ikev2EncryptionName(EncrId.ENCR_AES_CBC)).toBeUndefined();
    expect(ikev2IntegrityName(IntegId.AUTH_AES_XCBC_96)).toBeUndefined();
  });
});

describe('espSaLine / ikev1DecryptionTableLine', () => {
  it('formats an ESP SA with every field quoted and 0x-prefixed hex', () => {
    expect(
      espSaLine({
        family: 'IPv4',
        src: '192.0.2.1',
        dst: '192.0.2.2',
        spi: 0x51cbf2f2,
        encryptionName: EspEncryptionName.AES_CBC,
        encryptionKey: bytes(16, 0x11),
        integrityName: EspIntegrityName.HMAC_SHA2_256_128,
        integrityKey: bytes(32, 0x22),
      }),
    ).toBe(`"IPv4","192.0.2.1","192.0.2.2","0x51cbf2f2","AES-CBC [RFC3602]","0x${'11'.repeat(16)}","HMAC-SHA-256-128 [RFC4868]","0x${'22'.repeat(32)}"`);
    expect(
      espSaLine({ family: 'IPv6', src: '2001:db8::1', dst: '2001:db8::2', spi: 0x1, encryptionName: EspEncryptionName.AES_GCM_16, encryptionKey: bytes(36, 0x33), integrityName: EspIntegrityName.NULL }),
    ).toBe(`"IPv6","2001:db8::1","2001:db8::2","0x00000001","AES-GCM with 16 octet ICV [RFC4106]","0x${'33'.repeat(36)}","NULL","0x"`);
  });
  it('formats an IKEv1 line', () => {
    expect(ikev1DecryptionTableLine(SPIi, bytes(16, 0x44))).toBe(`0011223344556677,${'44'.repeat(16)}`);
  });
});

const tmp = mkdtempSync(join(tmpdir(), 'ikekm-keylog-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('appendKeylogLines', () => {
  it('appends lines to a 0600 file', async () => {
    const path = join(tmp, 'ikev2_decryption_table');
    await appendKeylogLines(path, ['a', 'b']);
    await appendKeylogLines(path, ['c']);
    await appendKeylogLines(path, []);
    expect(readFileSync(path, 'utf8')).toBe('a\nb\nc\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describeWithTshark('keylog lines judged by tshark 4.0', () => {
  const capture = join(tmp, 'one.pcap');
  writeFileSync(
    capture,
    new PcapWriter().addUdp({ src: { address: '192.0.2.1', port: 500 }, dst: { address: '192.0.2.2', port: 500 }, payload: Buffer.alloc(28) }).toBuffer(),
  );

  it('accepts every IKEv2 encryption × integrity name we can produce', async () => {
    const cbc = [Ikev2EncryptionName.AES_CBC_128, Ikev2EncryptionName.AES_CBC_192, Ikev2EncryptionName.AES_CBC_256] as const;
    const aead = [
      Ikev2EncryptionName.AES_GCM_128_16,
      Ikev2EncryptionName.AES_GCM_192_16,
      Ikev2EncryptionName.AES_GCM_256_16,
      Ikev2EncryptionName.AES_GCM_128_12,
      Ikev2EncryptionName.AES_GCM_256_8,
    ] as const;
    const ctr = [Ikev2EncryptionName.AES_CTR_128, Ikev2EncryptionName.AES_CTR_256] as const;
    const integ = [
      [Ikev2IntegrityName.HMAC_MD5_96, 16],
      [Ikev2IntegrityName.HMAC_SHA1_96, 20],
      [Ikev2IntegrityName.HMAC_SHA2_256_128, 32],
      [Ikev2IntegrityName.HMAC_SHA2_384_192, 48],
      [Ikev2IntegrityName.HMAC_SHA2_512_256, 64],
    ] as const;
    const keyOctets = (name: string): number => {
      const bits = Number(/-(\d{3})/.exec(name)?.[1]);
      return bits / 8 + (name.includes('GCM') || name.includes('CTR') ? 4 : 0);
    };
    const lines: string[] = [];
    let n = 0;
    const spi = (): Buffer => {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(++n, 4);
      return b;
    };
    for (const encr of [...cbc, ...ctr]) {
      for (const [integrityName, octets] of integ) {
        const k = keyOctets(encr);
        lines.push(ikev2DecryptionTableLine({ SPIi: spi(), SPIr: spi(), SK_ei: bytes(k, 1), SK_er: bytes(k, 2), encryptionName: encr, SK_ai: bytes(octets, 3), SK_ar: bytes(octets, 4), integrityName }));
      }
    }
    for (const encr of aead) {
      const k = keyOctets(encr);
      lines.push(ikev2DecryptionTableLine({ SPIi: spi(), SPIr: spi(), SK_ei: bytes(k, 1), SK_er: bytes(k, 2), encryptionName: encr, integrityName: Ikev2IntegrityName.NONE }));
    }
    lines.push(ikev2DecryptionTableLine({ SPIi: spi(), SPIr: spi(), SK_ei: bytes(0, 0), SK_er: bytes(0, 0), encryptionName: Ikev2EncryptionName.NULL, SK_ai: bytes(32, 3), SK_ar: bytes(32, 4), integrityName: Ikev2IntegrityName.HMAC_SHA2_256_128 }));
    const run = await runTshark(capture, { ikev2Table: lines, fields: ['frame.number'] });
    expect(run.stderr).not.toContain('Error loading table');
  });

  it('accepts every ESP name we can produce', async () => {
    const lines: string[] = [];
    let spi = 0x1000;
    const add = (encryptionName: EspEncryptionName, keyOctets: number, integrityName: EspIntegrityName, integOctets: number): void => {
      lines.push(
        espSaLine({ family: 'IPv4', src: '192.0.2.1', dst: '192.0.2.2', spi: spi++, encryptionName, encryptionKey: bytes(keyOctets, 5), integrityName, ...(integOctets > 0 ? { integrityKey: bytes(integOctets, 6) } : {}) }),
      );
    };
    for (const k of [16, 24, 32]) {
      add(EspEncryptionName.AES_CBC, k, EspIntegrityName.HMAC_SHA1_96, 20);
      add(EspEncryptionName.AES_CBC, k, EspIntegrityName.HMAC_SHA2_256_128, 32);
      add(EspEncryptionName.AES_CBC, k, EspIntegrityName.HMAC_SHA2_384_192, 48);
      add(EspEncryptionName.AES_CBC, k, EspIntegrityName.HMAC_SHA2_512_256, 64);
      add(EspEncryptionName.AES_GCM_16, k + 4, EspIntegrityName.NULL, 0);
      add(EspEncryptionName.AES_GCM_12, k + 4, EspIntegrityName.NULL, 0);
      add(EspEncryptionName.AES_GCM_8, k + 4, EspIntegrityName.NULL, 0);
      add(EspEncryptionName.AES_CTR, k + 4, EspIntegrityName.HMAC_SHA2_256_128, 32);
    }
    add(EspEncryptionName.TRIPLE_DES_CBC, 24, EspIntegrityName.HMAC_MD5_96, 16);
    add(EspEncryptionName.NULL, 0, EspIntegrityName.HMAC_SHA2_256_128, 32);
    lines.push(espSaLine({ family: 'IPv6', src: '2001:db8::1', dst: '2001:db8::2', spi: 0xffffffff, encryptionName: EspEncryptionName.AES_GCM_16, encryptionKey: bytes(36, 7), integrityName: EspIntegrityName.NULL }));
    const run = await runTshark(capture, { espSa: lines, fields: ['frame.number'] });
    expect(run.stderr).not.toContain('Error loading table');
  });

  it('the harness notices a name tshark refuses (ChaCha20-Poly1305 is not in tshark 4.0)', async () => {
    const chacha = `0011223344556677,8899aabbccddeeff,${'00'.repeat(36)},${'00'.repeat(36)},"ChaCha20-Poly1305 [RFC7634]",,,"NONE [RFC4306]"`;
    await expect(runTshark(capture, { ikev2Table: [chacha], fields: ['frame.number'] })).rejects.toThrow(/refused a key table/);
    const run = await runTshark(capture, { ikev2Table: [chacha], fields: ['frame.number'], allowTableErrors: true });
    expect(run.stderr).toMatch(/invalid value: ChaCha20-Poly1305/);
  });
});
