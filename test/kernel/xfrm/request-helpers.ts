/** Comparing our requests with the ones `ip xfrm` sent (ip-xfrm-captures.ts). */
import { expect } from 'vitest';
import { NETLINK_HEADER_LENGTH } from '../../../src/kernel/xfrm/netlink.js';

export interface RequestHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
}

export function headerOf(message: Buffer): RequestHeader {
  return { length: message.readUInt32LE(0), type: message.readUInt16LE(4), flags: message.readUInt16LE(6), seq: message.readUInt32LE(8) };
}

/**
 * Same length, type and XFRM body and attributes as iproute2's request; nlmsg_seq and nlmsg_pid
 * are iproute2's own, and its flags are compared by each test, as ours may say more.
 */
export function expectSameRequest(ours: Buffer, captured: Buffer): void {
  expect(ours.length).toBe(captured.length);
  expect(headerOf(ours).length).toBe(headerOf(captured).length);
  expect(headerOf(ours).type).toBe(headerOf(captured).type);
  expect(ours.subarray(NETLINK_HEADER_LENGTH).toString('hex')).toBe(captured.subarray(NETLINK_HEADER_LENGTH).toString('hex'));
}
