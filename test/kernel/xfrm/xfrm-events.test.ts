/**
 * Decoders on what the kernel really sent (ip-xfrm-captures.ts): SAs from ALLOCSPI, GETSA and a
 * dump, policies from a dump, acquires provoked by a UDP datagram and a ping, a hard expire of a
 * larval SA. Expected values come from the commands and from what `ip xfrm` printed for the same
 * messages. A soft expire and a policy expire could not be provoked on that machine: their tests
 * change the one field that differs (xfrm_user_expire.hard) or wrap a captured policy in
 * xfrm_user_polexpire, at the offsets gcc printed (xfrm-layout.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { NetlinkFlag, decodeNetlinkMessages, encodeNetlinkMessage, type NetlinkMessage } from '../../../src/kernel/xfrm/netlink.js';
import { XfrmAttributeType, XfrmMessageType } from '../../../src/kernel/xfrm/xfrm-constants.js';
import { decodeAcquire, decodeAllocatedSpi, decodeExpire, decodePolicyExpire, decodePolicyMessage, decodeSaMessage, decodeXfrmMessage } from '../../../src/kernel/xfrm/xfrm-events.js';
import { newSaRequest } from '../../../src/kernel/xfrm/xfrm-sa-requests.js';
import { hex } from '../../wire/hex.js';
import {
  ACQUIRE_ICMP,
  ACQUIRE_UDP,
  EXPIRE_HARD,
  POLICY_DELETE_OUT,
  POLICY_GET_ABSENT,
  POLICY_GET_UNUSED,
  POLICY_GET_USED,
  POLICY_LIST,
  POLICY_LIST_WITH_SOCKET_POLICIES,
  STATE_ALLOCSPI,
  STATE_GET,
  STATE_GET_ABSENT,
  STATE_LIST,
} from './ip-xfrm-captures.js';

function only<T>(result: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!result.ok) throw result.error;
  return result.value;
}

function messagesOf(datagram: Buffer): NetlinkMessage[] {
  return only(decodeNetlinkMessages(datagram));
}

function first(datagram: Buffer): NetlinkMessage {
  return messagesOf(datagram)[0]!;
}

/** The SPI the kernel allocated: the next command (`ip xfrm state get … spi 0xf1f13df3`) took it from `ip xfrm state`. */
const ALLOCATED_SPI = 0xf1f13df3;

describe('SAs: ALLOCSPI and GETSA answers, dumps', () => {
  it('decodeAllocatedSpi reads the SPI the kernel chose', () => {
    expect(only(decodeAllocatedSpi(first(STATE_ALLOCSPI.received[0]!)))).toBe(ALLOCATED_SPI);
  });

  it('decodeSaMessage reads the larval SA as ip xfrm state printed it', () => {
    const sa = only(decodeSaMessage(first(STATE_GET.received[0]!)));
    expect(sa).toMatchObject({ family: 4, source: '192.0.2.1', destination: '192.0.2.2', spi: ALLOCATED_SPI, protocol: 50, mode: 'tunnel', reqid: 7, replayWindow: 0, esn: false, limits: {} });
    // `sel src 192.0.2.1/32 dst 192.0.2.2/32`: the kernel left the selector's family 0, the SA's stands in.
    expect(sa.selector).toMatchObject({ family: 4, source: '192.0.2.1', sourcePrefixLength: 32, destination: '192.0.2.2', destinationPrefixLength: 32, ipProtocol: 0, sourcePortMask: 0 });
    expect(sa.usage).toMatchObject({ bytes: 0, packets: 0, useTime: 0 });
    expect(sa.usage.addTime).toBeGreaterThan(1_700_000_000);
    expect(sa.encryption).toBeUndefined();
  });

  it('a dump: NEWSA flagged NLM_F_MULTI, then NLMSG_DONE', () => {
    const [sa, done] = STATE_LIST.received.map((datagram) => only(decodeXfrmMessage(first(datagram))));
    expect(sa).toMatchObject({ kind: 'sa', sa: { spi: ALLOCATED_SPI } });
    expect(done?.kind).toBe('done');
  });

  it('reads the algorithms, encapsulation and ESN state a NEWSA carries (our own request is one)', () => {
    const request = newSaRequest(
      1,
      {
        family: 6,
        source: '2001:db8::1',
        destination: '2001:db8::2',
        spi: 0x1000,
        protocol: 'esp',
        mode: 'tunnel',
        reqid: 3,
        replayWindow: 64,
        esn: true,
        encryption: { algorithm: 'cbc(aes)', key: Buffer.alloc(32, 0xaa) },
        integrity: { algorithm: 'hmac(sha512)', key: Buffer.alloc(64, 0xbb), truncationBits: 256 },
        encapsulation: { type: 'espinudp', sourcePort: 4500, destinationPort: 4501 },
        limits: { hardBytes: 2 ** 40 },
      },
      { update: false },
    );
    const sa = only(decodeSaMessage(first(request)));
    expect(sa).toMatchObject({ family: 6, source: '2001:db8::1', destination: '2001:db8::2', spi: 0x1000, esn: true, replayWindow: 0, limits: { hardBytes: 2 ** 40 } });
    expect(sa.encryption).toEqual({ algorithm: 'cbc(aes)', key: Buffer.alloc(32, 0xaa) });
    expect(sa.integrity).toEqual({ algorithm: 'hmac(sha512)', key: Buffer.alloc(64, 0xbb), icvBits: 256 });
    expect(sa.encapsulation).toEqual({ type: 2, sourcePort: 4500, destinationPort: 4501 });
    expect(sa.replayEsn).toEqual({ replayWindow: 64, outboundSequence: 0n, inboundSequence: 0n });
  });

  it('reads an AEAD algorithm with its ICV length', () => {
    const request = newSaRequest(
      1,
      { family: 4, source: '192.0.2.1', destination: '192.0.2.2', spi: 0x1000, protocol: 'esp', mode: 'tunnel', reqid: 3, replayWindow: 32, esn: false, encryption: { algorithm: 'rfc4106(gcm(aes))', key: Buffer.alloc(36, 1), icvBits: 96 } },
      { update: false },
    );
    expect(only(decodeSaMessage(first(request))).encryption).toEqual({ algorithm: 'rfc4106(gcm(aes))', key: Buffer.alloc(36, 1), icvBits: 96 });
  });

  it('refuses an address family or a mode it has no meaning for, at the field', () => {
    const badFamily = Buffer.from(STATE_GET.received[0]!);
    badFamily.writeUInt16LE(7, 16 + 212);
    const family = decodeSaMessage(first(badFamily));
    expect(family.ok ? undefined : [family.error.code, family.error.offset]).toEqual(['bad-value', 16 + 212]);
    const badMode = Buffer.from(STATE_GET.received[0]!);
    badMode[16 + 214] = 9;
    const mode = decodeSaMessage(first(badMode));
    expect(mode.ok ? undefined : [mode.error.code, mode.error.offset]).toEqual(['bad-value', 16 + 214]);
  });

  it('refuses a NEWSA cut short, and a message of another type', () => {
    const whole = STATE_GET.received[0]!;
    const cut = Buffer.from(whole.subarray(0, 16 + 200));
    cut.writeUInt32LE(cut.length, 0);
    const short = decodeSaMessage(first(cut));
    expect(short.ok ? undefined : [short.error.code, short.error.offset, short.error.what]).toEqual(['truncated', 16, 'xfrm_usersa_info']);
    const other = decodeAllocatedSpi(first(POLICY_DELETE_OUT.received[0]!));
    expect(other.ok ? undefined : other.error.code).toBe('unexpected-message');
  });
});

describe('policies from a dump', () => {
  it('reads each policy and its templates as the commands installed them', () => {
    const policies = messagesOf(POLICY_LIST.received[0]!).map((message) => only(decodePolicyMessage(message)));
    const summary = policies.map((p) => ({
      from: `${p.selector.source}/${p.selector.sourcePrefixLength}`,
      to: `${p.selector.destination}/${p.selector.destinationPrefixLength}`,
      ports: [p.selector.ipProtocol, p.selector.sourcePort, p.selector.destinationPort],
      direction: p.direction,
      action: p.action,
      priority: p.priority,
      templates: p.templates.map((t) => [t.source, t.destination, t.mode, t.reqid, t.optional]),
    }));
    expect(summary).toEqual([
      { from: '10.9.0.0/16', to: '10.8.0.0/16', ports: [0, 0, 0], direction: 'out', action: 'block', priority: 5, templates: [] },
      { from: '2001:db8:1::/48', to: '2001:db8:2::/48', ports: [17, 500, 0], direction: 'in', action: 'allow', priority: 200, templates: [['::', '::', 'transport', 9, true]] },
      { from: '10.1.0.0/16', to: '10.2.0.0/16', ports: [0, 0, 0], direction: 'out', action: 'allow', priority: 1000, templates: [['192.0.2.1', '192.0.2.2', 'tunnel', 8, false]] },
      ...(['fwd', 'in', 'out'] as const).map((direction) => ({
        from: '198.51.100.0/24',
        to: '203.0.113.0/24',
        ports: [6, 0, 443],
        direction,
        action: 'allow',
        priority: 1000,
        templates: [['192.0.2.1', '192.0.2.2', 'tunnel', 7, false]],
      })),
    ]);
  });

  it("reads a socket's own policies (dir XFRM_POLICY_MAX + dir) as socket policies, beside the SPD's", () => {
    const [parts, done] = POLICY_LIST_WITH_SOCKET_POLICIES.received;
    const policies = messagesOf(parts!).map((message) => only(decodePolicyMessage(message)));
    expect(policies.map((p) => ({ socket: p.socket, direction: p.direction, index: p.index, from: `${p.selector.source}/${p.selector.sourcePrefixLength}`, templates: p.templates.length }))).toEqual([
      { socket: true, direction: 'out', index: 20, from: '0.0.0.0/0', templates: 0 },
      { socket: true, direction: 'in', index: 11, from: '0.0.0.0/0', templates: 0 },
      { socket: false, direction: 'out', index: 1, from: '10.1.0.0/16', templates: 1 },
    ]);
    expect(only(decodeXfrmMessage(first(done!))).kind).toBe('done');
  });

  it('refuses a dir that is neither a direction nor a socket one', () => {
    const captured = first(POLICY_LIST.received[0]!).payload;
    const body = Buffer.from(captured.subarray(0, 168));
    body.writeUInt8(6, 160);
    const result = decodePolicyMessage(first(encodeNetlinkMessage({ type: XfrmMessageType.NEWPOLICY, flags: 0, seq: 0, body })));
    expect(result.ok ? undefined : [result.error.code, result.error.offset]).toEqual(['bad-value', 16 + 160]);
  });

  it('refuses an XFRMA_TMPL that is not a whole number of templates', () => {
    const captured = first(POLICY_LIST.received[0]!.subarray(196, 196 + 264)).payload;
    const template = captured.subarray(168 + 4, 168 + 4 + 64);
    const policy = encodeNetlinkMessage({ type: XfrmMessageType.NEWPOLICY, flags: 0, seq: 0, body: captured.subarray(0, 168), attributes: [{ type: XfrmAttributeType.TMPL, value: template.subarray(0, 60) }] });
    const result = decodePolicyMessage(first(policy));
    expect(result.ok ? undefined : [result.error.code, result.error.offset]).toEqual(['bad-attribute-length', 16 + 168 + 4]);
  });
});

describe('a policy by selector and direction (GETPOLICY answers)', () => {
  // ip -s xfrm policy printed `add 2026-12-05 04:12:35 use 2026-12-05 04:12:39` (UTC) for the in policy.
  const ADDED = Date.UTC(2026, 11, 5, 4, 12, 35) / 1000;
  const USED = Date.UTC(2026, 11, 5, 4, 12, 39) / 1000;

  it('the in policy a packet met: its use_time is that packet\'s second, not the add time', () => {
    const event = only(decodeXfrmMessage(first(POLICY_GET_USED.received[0]!)));
    expect(event).toMatchObject({
      kind: 'policy',
      policy: { direction: 'in', priority: 1000, selector: { source: '203.0.113.0', sourcePrefixLength: 24, destination: '198.51.100.0', destinationPrefixLength: 24 } },
    });
    if (event.kind !== 'policy') return;
    expect(event.policy.usage).toEqual({ bytes: 0, packets: 0, addTime: ADDED, useTime: USED });
    expect(event.policy.templates.map((t) => [t.source, t.destination, t.reqid])).toEqual([['192.0.2.2', '192.0.2.1', 7]]);
  });

  it('the fwd policy no packet met: use_time 0', () => {
    const policy = only(decodePolicyMessage(first(POLICY_GET_UNUSED.received[0]!)));
    expect(policy.direction).toBe('fwd');
    expect(policy.usage).toEqual({ bytes: 0, packets: 0, addTime: ADDED, useTime: 0 });
  });

  it('no such policy: ENOENT for the GETPOLICY', () => {
    expect(only(decodeXfrmMessage(first(POLICY_GET_ABSENT.received[0]!)))).toMatchObject({ kind: 'error', error: { errno: 2, requestType: XfrmMessageType.GETPOLICY } });
  });
});

describe('acquires', () => {
  it('a UDP datagram: the packet, the template reqid and SA endpoints, the policy, the acquire seq', () => {
    const acquire = only(decodeAcquire(first(ACQUIRE_UDP.received[0]!)));
    // ip xfrm monitor printed: sel src 192.0.2.2/32 dst 203.0.113.5/32 proto udp sport 33231 dport 9 dev eth0
    expect(acquire.packet).toMatchObject({ source: '192.0.2.2', destination: '203.0.113.5', ipProtocol: 17, sourcePort: 33231, destinationPort: 9, sourcePrefixLength: 32, destinationPrefixLength: 32 });
    expect(acquire).toMatchObject({ reqid: 42, saSource: '192.0.2.2', saDestination: '198.51.100.7', protocol: 50 });
    expect(acquire.policy).toMatchObject({ direction: 'out', priority: 900, selector: { source: '192.0.2.2', sourcePrefixLength: 32, destination: '203.0.113.0', destinationPrefixLength: 24, destinationPort: 9, ipProtocol: 17 } });
    expect(acquire.policy.index).toBeGreaterThan(0);
    // xfrm_user_acquire.seq, the u32 at offset 276 of the struct: 03000000.
    expect(acquire.seq).toBe(3);
    expect(acquire.templates).toHaveLength(1);
  });

  it('a ping: the ICMP type in the source port, the code in the destination port', () => {
    const event = only(decodeXfrmMessage(first(ACQUIRE_ICMP.received[0]!)));
    // ip xfrm monitor printed: sel src 192.0.2.2/32 dst 203.0.113.6/32 proto icmp type 8 code 0 dev eth0
    expect(event).toMatchObject({ kind: 'acquire', acquire: { reqid: 43, packet: { destination: '203.0.113.6', ipProtocol: 1, sourcePort: 8, destinationPort: 0 } } });
  });
});

describe('expires', () => {
  it('a hard expire: the SA as ip xfrm monitor printed it (spi 0xe3a398c7 reqid 7, hard 1)', () => {
    const expire = only(decodeExpire(first(EXPIRE_HARD.received[0]!)));
    expect(expire.hard).toBe(true);
    expect(expire.sa).toMatchObject({ source: '192.0.2.1', destination: '198.51.100.7', spi: 0xe3a398c7, reqid: 7, protocol: 50, mode: 'tunnel' });
  });

  it('a soft expire: xfrm_user_expire.hard 0', () => {
    const soft = Buffer.from(EXPIRE_HARD.received[0]!);
    soft[16 + 224] = 0;
    expect(only(decodeXfrmMessage(first(soft)))).toMatchObject({ kind: 'expire', expire: { hard: false, sa: { spi: 0xe3a398c7 } } });
  });

  it('a policy expire: xfrm_user_polexpire around a policy the kernel sent', () => {
    const policy = first(POLICY_LIST.received[0]!).payload.subarray(0, 168);
    const body = Buffer.concat([policy, hex`01 00000000000000`]);
    const message = first(encodeNetlinkMessage({ type: XfrmMessageType.POLEXPIRE, flags: 0, seq: 0, body }));
    expect(only(decodePolicyExpire(message))).toMatchObject({ hard: true, policy: { action: 'block', priority: 5, selector: { source: '10.9.0.0' } } });
  });
});

describe('decodeXfrmMessage: answers and others', () => {
  it('an error, an ack, and a type it does not decode', () => {
    expect(only(decodeXfrmMessage(first(STATE_GET_ABSENT.received[0]!)))).toMatchObject({ kind: 'error', error: { errno: 3, requestType: XfrmMessageType.GETSA } });
    expect(only(decodeXfrmMessage(first(POLICY_DELETE_OUT.received[0]!)))).toEqual({ kind: 'ack', requestSeq: POLICY_DELETE_OUT.sent[0]!.readUInt32LE(8) });
    const deleted = encodeNetlinkMessage({ type: XfrmMessageType.DELSA, flags: NetlinkFlag.MULTI, seq: 4, body: Buffer.alloc(24) });
    expect(only(decodeXfrmMessage(first(deleted)))).toEqual({ kind: 'other', type: XfrmMessageType.DELSA, seq: 4 });
  });
});
