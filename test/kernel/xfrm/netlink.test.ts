/**
 * Netlink framing: headers, padding and attributes as linux/netlink.h lays them out, the decoder
 * on real datagrams (captures of `ip xfrm` with the kernel, ip-xfrm-captures.ts) and on broken
 * lengths, which it reports with their offset instead of throwing.
 */
import { describe, expect, it } from 'vitest';
import {
  NetlinkFlag,
  NetlinkMessageType,
  decodeAttributes,
  decodeNetlinkError,
  decodeNetlinkMessages,
  encodeNetlinkMessage,
  netlinkAlign,
  type NetlinkMessage,
} from '../../../src/kernel/xfrm/netlink.js';
import { XfrmMessageType } from '../../../src/kernel/xfrm/xfrm-constants.js';
import { hex } from '../../wire/hex.js';
import { CAPPED_ERROR_WITH_TEXT, POLICY_ADD_EXISTING, POLICY_DELETE_OUT, POLICY_LIST, STATE_ADD_AEAD, STATE_ADD_CBC_SHA256_ENCAP, STATE_GET_ABSENT } from './ip-xfrm-captures.js';

function only<T>(result: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!result.ok) throw result.error;
  return result.value;
}

function single(datagram: Buffer): NetlinkMessage {
  const messages = only(decodeNetlinkMessages(datagram));
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

describe('encodeNetlinkMessage', () => {
  it('writes the 16-octet header little-endian, pads the body and each attribute to 4 octets', () => {
    const message = encodeNetlinkMessage({
      type: 0x1234,
      flags: NetlinkFlag.REQUEST | NetlinkFlag.ACK,
      seq: 0x01020304,
      pid: 0x0a0b0c0d,
      body: Buffer.from([0xaa, 0xbb, 0xcc]),
      attributes: [
        { type: 7, value: Buffer.from([1, 2, 3, 4, 5]) },
        { type: 8, value: Buffer.from([9, 9, 9, 9]) },
      ],
    });
    expect(message).toEqual(hex`
      28000000 3412 0500 04030201 0d0c0b0a  # nlmsg_len 40, type, flags, seq, pid
      aabbcc 00                             # body, padded
      0900 0700 0102030405 000000           # nla_len 9 (header and value, not the padding), type 7
      0800 0800 09090909                    # nla_len 8, type 8: no padding needed
    `);
  });

  it('is what ip xfrm sends, header and all, once its seq is ours', () => {
    const sent = POLICY_DELETE_OUT.sent[0]!;
    const rebuilt = encodeNetlinkMessage({ type: XfrmMessageType.DELPOLICY, flags: NetlinkFlag.REQUEST | NetlinkFlag.ACK, seq: sent.readUInt32LE(8), body: sent.subarray(16) });
    expect(rebuilt).toEqual(sent);
  });

  it('aligns with arithmetic, so a length near 2^32 cannot wrap', () => {
    expect([0, 1, 4, 5, 39, 40].map(netlinkAlign)).toEqual([0, 4, 4, 8, 40, 40]);
    expect(netlinkAlign(0xffffffff)).toBe(0x100000000);
  });
});

describe('decodeNetlinkMessages', () => {
  it('splits a dump datagram into its messages (`ip xfrm policy list`: a block policy, then five with a template)', () => {
    const messages = only(decodeNetlinkMessages(POLICY_LIST.received[0]!));
    expect(messages.map((m) => [m.type, m.flags, m.offset, m.payload.length])).toEqual([
      [XfrmMessageType.NEWPOLICY, NetlinkFlag.MULTI, 0, 196 - 16],
      [XfrmMessageType.NEWPOLICY, NetlinkFlag.MULTI, 196, 264 - 16],
      [XfrmMessageType.NEWPOLICY, NetlinkFlag.MULTI, 460, 264 - 16],
      [XfrmMessageType.NEWPOLICY, NetlinkFlag.MULTI, 724, 264 - 16],
      [XfrmMessageType.NEWPOLICY, NetlinkFlag.MULTI, 988, 264 - 16],
      [XfrmMessageType.NEWPOLICY, NetlinkFlag.MULTI, 1252, 264 - 16],
    ]);
    expect(new Set(messages.map((m) => m.seq)).size).toBe(1);
    expect(single(POLICY_LIST.received[1]!).type).toBe(NetlinkMessageType.DONE);
  });

  it('takes an empty buffer as no messages', () => {
    expect(only(decodeNetlinkMessages(Buffer.alloc(0)))).toEqual([]);
  });

  it('refuses an nlmsg_len below the header, at its offset', () => {
    const datagram = Buffer.concat([POLICY_DELETE_OUT.received[0]!, hex`0f000000 0200 0000 00000000 00000000`]);
    const result = decodeNetlinkMessages(datagram);
    expect(result.ok).toBe(false);
    if (!result.ok) expect([result.error.code, result.error.offset, result.error.what]).toEqual(['bad-message-length', 36, 'nlmsghdr']);
  });

  it('refuses an nlmsg_len past the end of the datagram', () => {
    const datagram = Buffer.from(STATE_GET_ABSENT.received[0]!);
    datagram.writeUInt32LE(datagram.length + 4, 0);
    const result = decodeNetlinkMessages(datagram);
    expect(result.ok ? undefined : [result.error.code, result.error.offset]).toEqual(['bad-message-length', 0]);
  });

  it('refuses trailing octets too few for a header', () => {
    const datagram = Buffer.concat([POLICY_DELETE_OUT.received[0]!, Buffer.alloc(5)]);
    const result = decodeNetlinkMessages(datagram);
    expect(result.ok ? undefined : [result.error.code, result.error.offset]).toEqual(['truncated', 36]);
  });
});

describe('decodeAttributes', () => {
  it('reads type and value, masks NLA_F_NESTED and NLA_F_NET_BYTEORDER, and gives absolute offsets', () => {
    const attributes = only(decodeAttributes(hex`0500 0180 aa 000000  0800 0240 01020304`, 100));
    expect(attributes).toEqual([
      { type: 1, value: hex`aa`, offset: 100 },
      { type: 2, value: hex`01020304`, offset: 108 },
    ]);
  });

  it('accepts a last attribute without its padding', () => {
    expect(only(decodeAttributes(hex`0500 0300 aa`)).map((a) => a.value)).toEqual([hex`aa`]);
  });

  it.each([
    ['an nla_len below 4', hex`0800 0100 00000000  0300 0100`, 8],
    ['an nla_len past the end', hex`0800 0100 00000000  0900 0100 00000000`, 8],
    ['a header cut short', hex`0800 0100 00000000  0400`, 8],
  ])('refuses %s at its offset', (_, buffer, offset) => {
    const result = decodeAttributes(buffer, 1000);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.offset).toBe(1000 + offset);
  });
});

describe('decodeNetlinkError', () => {
  it('reads the errno, the request it answers and the kernel extended-ack text (SA add refused, ENOSYS)', () => {
    const request = STATE_ADD_AEAD.sent[0]!;
    const answer = single(STATE_ADD_AEAD.received[0]!);
    expect(answer.flags).toBe(NetlinkFlag.ACK_TLVS);
    expect(only(decodeNetlinkError(answer))).toEqual({
      errno: 38,
      requestSeq: request.readUInt32LE(8),
      requestType: XfrmMessageType.NEWSA,
      kernelMessage: 'Requested AEAD algorithm not found',
    });
  });

  it('finds the extended-ack text after a whole echoed request with attributes', () => {
    expect(only(decodeNetlinkError(single(STATE_ADD_CBC_SHA256_ENCAP.received[0]!)))).toMatchObject({ errno: 93, kernelMessage: 'Requested type not found' });
  });

  it('finds the text after a request cut to its header (NETLINK_CAP_ACK: NLM_F_CAPPED with NLM_F_ACK_TLVS)', () => {
    const answer = single(CAPPED_ERROR_WITH_TEXT.received[0]!);
    expect(answer.flags).toBe(NetlinkFlag.CAPPED | NetlinkFlag.ACK_TLVS);
    expect(only(decodeNetlinkError(answer))).toEqual({ errno: 38, requestSeq: 109, requestType: XfrmMessageType.NEWSA, kernelMessage: 'Requested AEAD algorithm not found' });
  });

  it('reads an ack: errno 0, the request cut to its header (NLM_F_CAPPED)', () => {
    const answer = single(POLICY_DELETE_OUT.received[0]!);
    expect(answer.flags).toBe(NetlinkFlag.CAPPED);
    expect(only(decodeNetlinkError(answer))).toEqual({ errno: 0, requestSeq: POLICY_DELETE_OUT.sent[0]!.readUInt32LE(8), requestType: XfrmMessageType.DELPOLICY });
  });

  it('reads EEXIST and ESRCH without extended ack', () => {
    expect(only(decodeNetlinkError(single(POLICY_ADD_EXISTING.received[0]!))).errno).toBe(17);
    expect(only(decodeNetlinkError(single(STATE_GET_ABSENT.received[0]!))).errno).toBe(3);
  });

  it('refuses a message that is not NLMSG_ERROR, and a positive error', () => {
    const done = single(POLICY_LIST.received[1]!);
    const notError = decodeNetlinkError(done);
    expect(notError.ok ? undefined : notError.error.code).toBe('unexpected-message');
    const positive = Buffer.from(POLICY_DELETE_OUT.received[0]!);
    positive.writeInt32LE(17, 16);
    const result = decodeNetlinkError(single(positive));
    expect(result.ok ? undefined : [result.error.code, result.error.offset]).toEqual(['bad-value', 16]);
  });
});
