/**
 * One request's answer, gathered datagram by datagram (XfrmAnswer), on a real policy dump
 * (ip-xfrm-captures.ts): its parts and NLMSG_DONE, another request's leftovers passed over, and
 * a part the decoder refuses, after which the dump is still read to its end (else the kernel keeps
 * it running and refuses the socket's next dump with EBUSY).
 */
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../src/kernel/kernel-error.js';
import { XfrmAnswer } from '../../src/kernel/xfrm-answer.js';
import { NETLINK_HEADER_LENGTH, NetlinkMessageType, encodeNetlinkMessage } from '../../src/kernel/xfrm/netlink.js';
import { XfrmMessageType } from '../../src/kernel/xfrm/xfrm-constants.js';
import { XFRM_USERPOLICY_INFO } from '../../src/kernel/xfrm/xfrm-layout.js';
import { POLICY_LIST_WITH_SOCKET_POLICIES } from './xfrm/ip-xfrm-captures.js';

const [PARTS, DONE] = POLICY_LIST_WITH_SOCKET_POLICIES.received as [Buffer, Buffer];
/** iproute2's nlmsg_seq for that dump, which every part and the NLMSG_DONE carry. */
const SEQ = PARTS.readUInt32LE(8);

/** The same datagram under another nlmsg_seq (each message's header rewritten). */
function withSeq(datagram: Buffer, seq: number): Buffer {
  const copy = Buffer.from(datagram);
  for (let at = 0; at < copy.length; at += Math.ceil(copy.readUInt32LE(at) / 4) * 4) copy.writeUInt32LE(seq, at + 8);
  return copy;
}

/** NLMSG_ERROR with a negative errno for request `seq` (struct nlmsgerr: int error, then the request's header). */
function errorMessage(seq: number, errno: number): Buffer {
  const body = Buffer.alloc(4 + NETLINK_HEADER_LENGTH);
  body.writeInt32LE(-errno, 0);
  body.writeUInt16LE(XfrmMessageType.GETPOLICY, 4 + 4);
  body.writeUInt32LE(seq, 4 + 8);
  return encodeNetlinkMessage({ type: NetlinkMessageType.ERROR, flags: 0, seq, body });
}

/** The parts with the first policy's dir made 6: neither a direction nor a socket's. */
function withRefusedPart(): Buffer {
  const parts = Buffer.from(PARTS);
  parts.writeUInt8(6, NETLINK_HEADER_LENGTH + XFRM_USERPOLICY_INFO.dir);
  return parts;
}

describe('XfrmAnswer', () => {
  it("a dump: each part's policies, whole at NLMSG_DONE", () => {
    const answer = new XfrmAnswer(SEQ, 'dump', 'listing XFRM policies');
    expect(answer.take(PARTS)).toBe(false);
    expect(answer.take(DONE)).toBe(true);
    expect(answer.result().map((e) => (e.kind === 'policy' ? [e.policy.socket, e.policy.direction] : e.kind))).toEqual([
      [true, 'out'],
      [true, 'in'],
      [false, 'out'],
    ]);
  });

  it("passes over another request's leftovers: an earlier dump's parts and its NLMSG_DONE", () => {
    const answer = new XfrmAnswer(SEQ + 1, 'dump', 'listing XFRM policies');
    expect(answer.take(PARTS)).toBe(false);
    expect(answer.take(DONE)).toBe(false);
    expect(answer.take(withSeq(PARTS, SEQ + 1))).toBe(false);
    expect(answer.take(withSeq(DONE, SEQ + 1))).toBe(true);
    expect(answer.result()).toHaveLength(3);
  });

  it('reads a dump to its NLMSG_DONE past a part it refuses, then throws what did not parse', () => {
    const answer = new XfrmAnswer(SEQ, 'dump', 'listing XFRM policies');
    expect(answer.take(withRefusedPart())).toBe(false);
    expect(answer.failed?.message).toMatch(/^listing XFRM policies: the kernel's answer does not parse: .*dir 6/);
    expect(answer.take(DONE)).toBe(true);
    expect(() => answer.result()).toThrow(KernelError);
    expect(() => answer.result()).toThrow(/dir 6/);
  });

  it('the same past a datagram it cannot split into messages', () => {
    const answer = new XfrmAnswer(SEQ, 'dump', 'listing XFRM policies');
    expect(answer.take(PARTS.subarray(0, 100))).toBe(false);
    expect(answer.take(DONE)).toBe(true);
    expect(() => answer.result()).toThrow(/does not parse/);
  });

  it("a reply that does not parse ends the answer at once: no more is coming", () => {
    const answer = new XfrmAnswer(SEQ, 'reply', 'reading a policy');
    expect(answer.take(withRefusedPart())).toBe(true);
    expect(() => answer.result()).toThrow(/reading a policy: the kernel's answer does not parse/);
  });

  it("the kernel's error ends a dump, and outranks a part that did not parse", () => {
    const busy = new XfrmAnswer(SEQ, 'dump', 'listing XFRM states');
    expect(busy.take(errorMessage(SEQ, 16))).toBe(true);
    expect(() => busy.result()).toThrow(/^listing XFRM states: .*EBUSY/);
    const after = new XfrmAnswer(SEQ, 'dump', 'listing XFRM policies');
    expect(after.take(withRefusedPart())).toBe(false);
    expect(after.take(errorMessage(SEQ, 12))).toBe(true);
    expect(() => after.result()).toThrow(/ENOMEM/);
  });
});
