/**
 * Policy requests against what `ip xfrm policy` sent for the same policy (ip-xfrm-captures.ts
 * names each command): the bodies and templates must be the same octets.
 */
import { describe, expect, it } from 'vitest';
import { isKernelError } from '../../../src/kernel/kernel-error.js';
import { NetlinkFlag } from '../../../src/kernel/xfrm/netlink.js';
import { AF_INET6, XfrmMessageType } from '../../../src/kernel/xfrm/xfrm-constants.js';
import { XFRM_SELECTOR, XFRM_USERPOLICY_INFO } from '../../../src/kernel/xfrm/xfrm-layout.js';
import { deletePolicyRequest, dumpPoliciesRequest, getPolicyRequest, newPolicyRequest, socketBypassPolicy, type XfrmPolicySpec } from '../../../src/kernel/xfrm/xfrm-policy-requests.js';
import type { XfrmSelectorSpec } from '../../../src/kernel/xfrm/xfrm-selector.js';
import { hex } from '../../wire/hex.js';
import {
  POLICY_ADD_BLOCK,
  POLICY_ADD_FWD,
  POLICY_ADD_IN,
  POLICY_ADD_IPV6_TRANSPORT_OPTIONAL,
  POLICY_ADD_OUT,
  POLICY_ADD_PLAIN,
  POLICY_DELETE_FWD,
  POLICY_DELETE_IN,
  POLICY_DELETE_IPV6,
  POLICY_DELETE_OUT,
  POLICY_GET_ABSENT,
  POLICY_GET_UNUSED,
  POLICY_GET_USED,
  POLICY_UPDATE,
  type Capture,
} from './ip-xfrm-captures.js';
import { expectSameRequest, headerOf } from './request-helpers.js';

/** `src 198.51.100.0/24 dst 203.0.113.0/24 proto tcp dport 443` */
const HTTPS: XfrmSelectorSpec = { family: 4, source: '198.51.100.0', sourcePrefixLength: 24, destination: '203.0.113.0', destinationPrefixLength: 24, destinationPort: 443, ipProtocol: 6 };
/** `src 2001:db8:1::/48 dst 2001:db8:2::/48 proto udp sport 500` */
const IKE_V6: XfrmSelectorSpec = { family: 6, source: '2001:db8:1::', sourcePrefixLength: 48, destination: '2001:db8:2::', destinationPrefixLength: 48, sourcePort: 500, ipProtocol: 17 };
const TUNNEL = { family: 4, source: '192.0.2.1', destination: '192.0.2.2', protocol: 'esp', mode: 'tunnel', reqid: 7 } as const;

const POLICY: XfrmPolicySpec = { direction: 'out', selector: HTTPS, priority: 1000, action: 'allow', templates: [TUNNEL] };

describe('newPolicyRequest', () => {
  it.each<[XfrmPolicySpec['direction'], Capture]>([
    ['out', POLICY_ADD_OUT],
    ['in', POLICY_ADD_IN],
    ['fwd', POLICY_ADD_FWD],
  ])('dir %s, a TCP port selector and a tunnel template: xfrm_userpolicy_info and XFRMA_TMPL', (direction, capture) => {
    const ours = newPolicyRequest(11, { ...POLICY, direction }, { update: false });
    expectSameRequest(ours, capture.sent[0]!);
    // ip xfrm sends REQUEST|ACK only: the kernel decides by the message type, the flags are for a reader.
    expect(headerOf(ours)).toMatchObject({ type: XfrmMessageType.NEWPOLICY, flags: NetlinkFlag.REQUEST | NetlinkFlag.ACK | NetlinkFlag.CREATE | NetlinkFlag.EXCL, seq: 11 });
  });

  it('any port and protocol: masks and protocol zero', () => {
    const selector: XfrmSelectorSpec = { family: 4, source: '10.1.0.0', sourcePrefixLength: 16, destination: '10.2.0.0', destinationPrefixLength: 16 };
    expectSameRequest(newPolicyRequest(1, { ...POLICY, selector }, { update: false }), POLICY_ADD_PLAIN.sent[0]!);
  });

  it('update: XFRM_MSG_UPDPOLICY, CREATE|REPLACE', () => {
    const selector: XfrmSelectorSpec = { family: 4, source: '10.1.0.0', sourcePrefixLength: 16, destination: '10.2.0.0', destinationPrefixLength: 16 };
    const ours = newPolicyRequest(1, { ...POLICY, selector, templates: [{ ...TUNNEL, reqid: 8 }] }, { update: true });
    expectSameRequest(ours, POLICY_UPDATE.sent[0]!);
    expect(headerOf(ours)).toMatchObject({ type: XfrmMessageType.UPDPOLICY, flags: NetlinkFlag.REQUEST | NetlinkFlag.ACK | NetlinkFlag.CREATE | NetlinkFlag.REPLACE });
  });

  it('IPv6, a source port, an optional transport-mode template without addresses (`level use`)', () => {
    const spec: XfrmPolicySpec = { direction: 'in', selector: IKE_V6, priority: 200, action: 'allow', templates: [{ family: 6, protocol: 'esp', mode: 'transport', reqid: 9, optional: true }] };
    expectSameRequest(newPolicyRequest(1, spec, { update: false }), POLICY_ADD_IPV6_TRANSPORT_OPTIONAL.sent[0]!);
  });

  it('block without templates: no XFRMA_TMPL', () => {
    const selector: XfrmSelectorSpec = { family: 4, source: '10.9.0.0', sourcePrefixLength: 16, destination: '10.8.0.0', destinationPrefixLength: 16 };
    expectSameRequest(newPolicyRequest(1, { direction: 'out', selector, priority: 5, action: 'block', templates: [] }, { update: false }), POLICY_ADD_BLOCK.sent[0]!);
  });

  it('several templates go in one XFRMA_TMPL, in order', () => {
    const ours = newPolicyRequest(1, { ...POLICY, templates: [TUNNEL, { ...TUNNEL, reqid: 8 }] }, { update: false });
    expect(ours.readUInt16LE(16 + 168)).toBe(4 + 2 * 64);
    expect([ours.readUInt32LE(16 + 168 + 4 + 44), ours.readUInt32LE(16 + 168 + 4 + 64 + 44)]).toEqual([7, 8]);
  });

  it.each<[string, Partial<XfrmPolicySpec>, RegExp]>([
    ['a direction XFRM does not have', { direction: 'inbound' as 'in' }, /direction 'inbound'/],
    ['an action XFRM does not have', { action: 'drop' as 'block' }, /action 'drop'/],
    ['a selector address of the other family', { selector: { ...HTTPS, destination: '2001:db8::' } }, /selector destination '2001:db8::' is not an IPv4 address/],
    ['a port mask beyond 16 bits', { selector: { ...HTTPS, destinationPortMask: 0x1ffff } }, /port mask/],
    ['an IPv6 prefix of 129', { selector: { ...IKE_V6, sourcePrefixLength: 129 } }, /from 0 to 128/],
    ['a template address of the other family', { templates: [{ ...TUNNEL, destination: '::1' }] }, /template destination/],
    ['a negative priority', { priority: -1 }, /priority/],
  ])('refuses %s as KernelError invalid', (_, change, message) => {
    let error: unknown;
    try {
      newPolicyRequest(1, { ...POLICY, ...change }, { update: false });
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'invalid')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});

describe('deletePolicyRequest', () => {
  it.each<[XfrmPolicySpec['direction'], Capture]>([
    ['out', POLICY_DELETE_OUT],
    ['in', POLICY_DELETE_IN],
    ['fwd', POLICY_DELETE_FWD],
  ])('dir %s: xfrm_userpolicy_id, acked; the whole message is what ip xfrm sent but for the seq', (direction, capture) => {
    const captured = capture.sent[0]!;
    expect(deletePolicyRequest(headerOf(captured).seq, { direction, selector: HTTPS })).toEqual(captured);
  });

  it('IPv6 with a source port', () => {
    const captured = POLICY_DELETE_IPV6.sent[0]!;
    expect(deletePolicyRequest(headerOf(captured).seq, { direction: 'in', selector: IKE_V6 })).toEqual(captured);
  });
});

describe('getPolicyRequest', () => {
  /** `src 203.0.113.0/24 dst 198.51.100.0/24`, the peer's side first: an inbound selector. */
  const INBOUND: XfrmSelectorSpec = { family: 4, source: '203.0.113.0', sourcePrefixLength: 24, destination: '198.51.100.0', destinationPrefixLength: 24 };
  const OUTBOUND: XfrmSelectorSpec = { family: 4, source: '198.51.100.0', sourcePrefixLength: 24, destination: '203.0.113.0', destinationPrefixLength: 24 };

  it.each<[string, XfrmPolicySpec['direction'], XfrmSelectorSpec, Capture]>([
    ['in', 'in', INBOUND, POLICY_GET_USED],
    ['fwd', 'fwd', INBOUND, POLICY_GET_UNUSED],
    ['out', 'out', OUTBOUND, POLICY_GET_ABSENT],
  ])('dir %s: xfrm_userpolicy_id, REQUEST only (the NEWPOLICY is the answer); the whole message is what ip xfrm sent but for the seq', (_, direction, selector, capture) => {
    const captured = capture.sent[0]!;
    const ours = getPolicyRequest(headerOf(captured).seq, { direction, selector });
    expect(ours).toEqual(captured);
    expect(headerOf(ours)).toMatchObject({ type: XfrmMessageType.GETPOLICY, flags: NetlinkFlag.REQUEST });
  });

  it('refuses a direction XFRM does not have', () => {
    expect(() => getPolicyRequest(1, { direction: 'inbound' as 'in', selector: INBOUND })).toThrow(/direction 'inbound'/);
  });
});

describe('dumpPoliciesRequest', () => {
  it('a bare GETPOLICY header with NLM_F_DUMP, as strace showed `ip xfrm policy list` send it', () => {
    expect(dumpPoliciesRequest(9)).toEqual(hex`10000000 1500 0103 09000000 00000000`);
  });
});

describe('socketBypassPolicy', () => {
  it.each([
    ['out', 4, 1, 2],
    ['in', 6, 0, AF_INET6],
  ] as const)('%s, IPv%d: an xfrm_userpolicy_info that allows, without templates, of the socket family; all else zero', (direction, family, dir, familyCode) => {
    const policy = socketBypassPolicy(direction, family);
    expect(policy).toHaveLength(XFRM_USERPOLICY_INFO.sizeof);
    expect(policy.readUInt16LE(XFRM_USERPOLICY_INFO.sel + XFRM_SELECTOR.family)).toBe(familyCode);
    expect(policy[XFRM_USERPOLICY_INFO.dir]).toBe(dir);
    expect(policy[XFRM_USERPOLICY_INFO.action]).toBe(0); // XFRM_POLICY_ALLOW
    const rest = Buffer.from(policy);
    rest.writeUInt16LE(0, XFRM_USERPOLICY_INFO.sel + XFRM_SELECTOR.family);
    rest[XFRM_USERPOLICY_INFO.dir] = 0;
    expect(rest.equals(Buffer.alloc(XFRM_USERPOLICY_INFO.sizeof))).toBe(true);
  });
});
