/**
 * SA requests against what `ip xfrm` sent for the same SA (ip-xfrm-captures.ts names each
 * command): the bodies and attributes must be the same octets.
 */
import { describe, expect, it } from 'vitest';
import { isKernelError } from '../../../src/kernel/kernel-error.js';
import { NetlinkFlag } from '../../../src/kernel/xfrm/netlink.js';
import { XfrmAttributeType, XfrmMessageType } from '../../../src/kernel/xfrm/xfrm-constants.js';
import { allocSpiRequest, deleteSaRequest, dumpSasRequest, getSaRequest, newSaRequest, type XfrmSaSpec } from '../../../src/kernel/xfrm/xfrm-sa-requests.js';
import { hex } from '../../wire/hex.js';
import {
  STATE_ADD_AEAD,
  STATE_ADD_AEAD_ESN,
  STATE_ADD_AEAD_WINDOW_128,
  STATE_ADD_CBC_SHA256_ENCAP,
  STATE_ADD_CHACHA_IPV6_TRANSPORT_LIMITS,
  STATE_ALLOCSPI,
  STATE_DELETE,
  STATE_GET,
  STATE_UPDATE_AEAD,
} from './ip-xfrm-captures.js';
import { expectSameRequest, headerOf } from './request-helpers.js';

const GCM_KEY = hex`0102030405060708090a0b0c0d0e0f10 11121314`; // AES-128 key, then the 4-octet salt
const CBC_KEY = hex`00112233445566778899aabbccddeeff`;
const SHA256_KEY = hex`202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f`;

/** The SA of `ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x11223344 reqid 7 mode tunnel aead … 128 replay-window 32`. */
const AEAD_SA: XfrmSaSpec = {
  family: 4,
  source: '192.0.2.1',
  destination: '192.0.2.2',
  spi: 0x11223344,
  protocol: 'esp',
  mode: 'tunnel',
  reqid: 7,
  replayWindow: 32,
  esn: false,
  encryption: { algorithm: 'rfc4106(gcm(aes))', key: GCM_KEY, icvBits: 128 },
};

const NEW = NetlinkFlag.REQUEST | NetlinkFlag.ACK | NetlinkFlag.CREATE | NetlinkFlag.EXCL;

function invalidMessage(build: () => unknown): string {
  try {
    build();
  } catch (e) {
    if (isKernelError(e, 'invalid')) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('newSaRequest', () => {
  it('AEAD (AES-GCM-16): XFRMA_ALG_AEAD with the key and salt, replay window in xfrm_usersa_info', () => {
    const ours = newSaRequest(41, AEAD_SA, { update: false });
    expectSameRequest(ours, STATE_ADD_AEAD.sent[0]!);
    expect(headerOf(ours)).toMatchObject({ type: XfrmMessageType.NEWSA, flags: NEW, seq: 41 });
  });

  it('AES-CBC with HMAC-SHA-256-128 and ESP in UDP 4500: XFRMA_ALG_CRYPT, XFRMA_ALG_AUTH_TRUNC, XFRMA_ENCAP', () => {
    const ours = newSaRequest(
      1,
      {
        ...AEAD_SA,
        encryption: { algorithm: 'cbc(aes)', key: CBC_KEY },
        integrity: { algorithm: 'hmac(sha256)', key: SHA256_KEY, truncationBits: 128 },
        encapsulation: { type: 'espinudp', sourcePort: 4500, destinationPort: 4500 },
      },
      { update: false },
    );
    expectSameRequest(ours, STATE_ADD_CBC_SHA256_ENCAP.sent[0]!);
  });

  it('ESN: the XFRM_STATE_ESN flag and the window in XFRMA_REPLAY_ESN_VAL, replay_window 0', () => {
    expectSameRequest(newSaRequest(1, { ...AEAD_SA, replayWindow: 128, esn: true }, { update: false }), STATE_ADD_AEAD_ESN.sent[0]!);
  });

  it('a window beyond 32 packets without ESN also goes in XFRMA_REPLAY_ESN_VAL', () => {
    expectSameRequest(newSaRequest(1, { ...AEAD_SA, replayWindow: 128 }, { update: false }), STATE_ADD_AEAD_WINDOW_128.sent[0]!);
  });

  it('IPv6, transport mode, ChaCha20-Poly1305 and byte and packet limits', () => {
    const ours = newSaRequest(
      1,
      {
        ...AEAD_SA,
        family: 6,
        source: '2001:db8::1',
        destination: '2001:db8::2',
        spi: 0xc0ffee01,
        mode: 'transport',
        reqid: 9,
        encryption: { algorithm: 'rfc7539esp(chacha20,poly1305)', key: Buffer.concat([SHA256_KEY, hex`a0a1a2a3`]), icvBits: 128 },
        limits: { softBytes: 1_000_000, hardBytes: 2_000_000, softPackets: 3000, hardPackets: 4000 },
      },
      { update: false },
    );
    expectSameRequest(ours, STATE_ADD_CHACHA_IPV6_TRANSPORT_LIMITS.sent[0]!);
  });

  it('update: XFRM_MSG_UPDSA with REPLACE, the same body', () => {
    const ours = newSaRequest(2, AEAD_SA, { update: true });
    expectSameRequest(ours, STATE_UPDATE_AEAD.sent[0]!);
    expect(headerOf(ours)).toMatchObject({ type: XfrmMessageType.UPDSA, flags: NetlinkFlag.REQUEST | NetlinkFlag.ACK | NetlinkFlag.REPLACE });
  });

  it('carries an acquire seq in xfrm_usersa_info.seq (0 without one, as in every capture)', () => {
    expect(newSaRequest(1, { ...AEAD_SA, acquireSeq: 0x0a0b0c0d }, { update: false }).readUInt32LE(16 + 204)).toBe(0x0a0b0c0d);
    expect(newSaRequest(1, AEAD_SA, { update: false }).readUInt32LE(16 + 204)).toBe(0);
  });

  it('rounds bmp_len up to whole u32 words', () => {
    const ours = newSaRequest(1, { ...AEAD_SA, replayWindow: 100, esn: true }, { update: false });
    const esnAttribute = ours.subarray(ours.length - 28);
    expect(esnAttribute.readUInt16LE(2)).toBe(XfrmAttributeType.REPLAY_ESN_VAL);
    expect([esnAttribute.readUInt32LE(4), esnAttribute.readUInt32LE(24)]).toEqual([4, 100]);
  });

  it.each<[string, Partial<XfrmSaSpec>, RegExp]>([
    ['an address of the other family', { destination: '2001:db8::2' }, /destination '2001:db8::2' is not an IPv4 address/],
    ['a host name', { source: 'gateway.example' }, /not an IPv4 address/],
    ['a reserved SPI', { spi: 255 }, /SPI 255 is reserved/],
    ['an SPI beyond 32 bits', { spi: 2 ** 32 }, /SPI must be an integer/],
    ['a GCM key without its salt', { encryption: { algorithm: 'rfc4106(gcm(aes))', key: GCM_KEY.subarray(0, 16), icvBits: 128 } }, /20\/28\/36 octets, not 16/],
    ['an ICV GCM does not have', { encryption: { algorithm: 'rfc4106(gcm(aes))', key: GCM_KEY, icvBits: 32 } }, /ICV of 64\/96\/128 bits, not 32/],
    ['integrity beside AEAD', { integrity: { algorithm: 'hmac(sha256)', key: SHA256_KEY, truncationBits: 128 } }, /is AEAD/],
    ['a cipher without integrity', { encryption: { algorithm: 'cbc(aes)', key: CBC_KEY } }, /needs an integrity algorithm/],
    ['SHA-256 truncated to 96 bits', { encryption: { algorithm: 'cbc(aes)', key: CBC_KEY }, integrity: { algorithm: 'hmac(sha256)', key: SHA256_KEY, truncationBits: 96 } }, /128 bits in ESP, not 96/],
    ['an unknown cipher', { encryption: { algorithm: 'cbc(des)' as 'cbc(aes)', key: CBC_KEY } }, /unknown encryption algorithm/],
    ['a replay window beyond the kernel bitmap', { replayWindow: 4096 * 8 + 1 }, /replay window/],
    ['a zero byte limit', { limits: { hardBytes: 0 } }, /hard byte limit must be a positive integer/],
    ['a selector prefix beyond 32', { selector: { family: 4, source: '10.0.0.0', sourcePrefixLength: 33, destination: '10.1.0.0', destinationPrefixLength: 16 } }, /prefix length must be from 0 to 32/],
    ['a port beyond 16 bits', { encapsulation: { type: 'espinudp', sourcePort: 70000, destinationPort: 4500 } }, /source port must be an integer/],
  ])('refuses %s as KernelError invalid', (_, change, message) => {
    expect(invalidMessage(() => newSaRequest(1, { ...AEAD_SA, ...change } as XfrmSaSpec, { update: false }))).toMatch(message);
  });
});

describe('allocSpiRequest', () => {
  it('XFRM_MSG_ALLOCSPI with the range, as ip xfrm state allocspi sends it (no ack: the NEWSA is the answer)', () => {
    const ours = allocSpiRequest(3, { family: 4, source: '192.0.2.1', destination: '192.0.2.2', reqid: 7, mode: 'tunnel', min: 0x100, max: 0xffffffff });
    expectSameRequest(ours, STATE_ALLOCSPI.sent[0]!);
    expect(headerOf(ours)).toMatchObject({ type: XfrmMessageType.ALLOCSPI, flags: NetlinkFlag.REQUEST, seq: 3 });
  });

  it('carries an acquire seq in xfrm_usersa_info.seq', () => {
    const ours = allocSpiRequest(3, { family: 4, source: '192.0.2.1', destination: '192.0.2.2', reqid: 7, mode: 'tunnel', min: 0x100, max: 0x1000, acquireSeq: 0x01020304 });
    expect(ours.readUInt32LE(16 + 204)).toBe(0x01020304);
  });

  it('refuses a range reaching into the reserved SPIs, or upside down', () => {
    const spec = { family: 4, source: '192.0.2.1', destination: '192.0.2.2', reqid: 7, mode: 'tunnel', min: 0x100, max: 0x1000 } as const;
    expect(invalidMessage(() => allocSpiRequest(1, { ...spec, min: 0 }))).toMatch(/RFC 4303/);
    expect(invalidMessage(() => allocSpiRequest(1, { ...spec, min: 0x2000 }))).toMatch(/SPI range/);
  });
});

describe('getSaRequest, deleteSaRequest, dumpSasRequest', () => {
  const spi = STATE_GET.sent[0]!.readUInt32BE(16 + 16);
  const id = { family: 4, destination: '192.0.2.2', spi, protocol: 'esp', source: '192.0.2.1' } as const;

  it('GETSA: xfrm_usersa_id and XFRMA_SRCADDR, no ack (the NEWSA is the answer)', () => {
    const ours = getSaRequest(5, id);
    expectSameRequest(ours, STATE_GET.sent[0]!);
    expect(headerOf(ours).flags).toBe(NetlinkFlag.REQUEST);
  });

  it('DELSA: the same id, acked; the whole message is what ip xfrm sent but for the seq', () => {
    const captured = STATE_DELETE.sent[0]!;
    expect(deleteSaRequest(headerOf(captured).seq, id)).toEqual(captured);
  });

  it('DELSA without a source: no XFRMA_SRCADDR (ESP SAs are found by destination and SPI)', () => {
    expect(deleteSaRequest(1, { family: 4, destination: '192.0.2.2', spi, protocol: 'esp' })).toHaveLength(16 + 24);
  });

  it('dump: a bare GETSA header with NLM_F_DUMP (strace showed `ip xfrm state list` send that type and those flags)', () => {
    expect(dumpSasRequest(9)).toEqual(hex`10000000 1200 0103 09000000 00000000`);
  });
});
