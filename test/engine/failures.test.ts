/**
 * Failures and the notifies around them (RFC 7296 1.2, 2.4, 2.5, 2.6, 2.7, 2.21, 2.23): what each
 * side ends up with, and that the logs explain why.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_SETTINGS } from '../../src/config/model.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { buildIkeSaInitRequest } from '../../src/ikev2/exchanges/ike-sa-init.js';
import { offerProposals, preferredDhGroup } from '../../src/ikev2/exchanges/negotiation.js';
import type { Datagram } from '../../src/ports.js';
import {
  ExchangeType,
  NotifyType,
  PayloadType,
  decodeMessage,
  encodeMessage,
  isUnknownPayload,
  type IkeMessage,
  type NotifyPayload,
} from '../../src/wire/index.js';
import { connectionPair, seededRandom } from './fixtures.js';
import { Lab } from './lab.js';

function decoded(bytes: Buffer): IkeMessage {
  const m = decodeMessage(bytes);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}

function notifiesIn(m: IkeMessage): number[] {
  return m.payloads.filter((p): p is NotifyPayload => !isUnknownPayload(p) && p.type === PayloadType.N).map((n) => n.notifyType);
}

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

describe('IKE_SA_INIT failures', () => {
  it('NO_PROPOSAL_CHOSEN: no SA anywhere, and the log shows both sides in strongSwan syntax', async () => {
    const lab = new Lab({ pair: { ike: ['aes128-sha256-modp2048'], ikeB: ['aes256gcm16-prfsha384-ecp384'] } });
    lab.a.engine.initiate('lab');
    await lab.run(30_000);
    expect(lab.a.engine.size()).toBe(0);
    expect(lab.b.engine.size()).toBe(0);
    const failed = lab.a.events.find((e) => e.kind === 'ike-sa-failed');
    expect(failed).toMatchObject({ notify: 'NO_PROPOSAL_CHOSEN' });
    const why = lab.b.logs.find((r) => r.message === 'IKE SA negotiation failed');
    expect(String(why?.fields.reason)).toMatch(/aes128-sha256-prfsha256-modp2048/);
    expect(String(why?.fields.reason)).toMatch(/aes256gcm16-prfsha384-ecp384/);
    expect(why?.bindings.spiI).toMatch(/^[0-9a-f]{16}$/);
  });

  it('INVALID_KE_PAYLOAD: the initiator retries with the group the responder asks for (1.2, 2.7)', async () => {
    const lab = new Lab({ pair: { ike: ['aes128-sha256-modp2048-ecp256'], ikeB: ['aes128-sha256-ecp256'] } });
    lab.network.traceEnabled = true;
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
    const inits = lab.network.trace.map((d) => decoded(d.bytes)).filter((m) => m.header.exchangeType === ExchangeType.IKE_SA_INIT);
    expect(inits.map((m) => [m.header.flags.response, notifiesIn(m).includes(NotifyType.INVALID_KE_PAYLOAD)])).toEqual([
      [false, false],
      [true, true],
      [false, false],
      [true, false],
    ]);
    expect(lab.a.engine.status()[0]?.transforms?.dh).toBe(19);
  });

  it('announces IKEV2_FRAGMENTATION_SUPPORTED and NAT detection, and no SIGNATURE_HASH_ALGORITHMS (a PSK connection signs nothing)', async () => {
    const lab = new Lab();
    lab.network.traceEnabled = true;
    lab.a.engine.initiate('lab');
    await lab.runUntil(both(lab), 30_000);
    const [request, response] = lab.network.trace.map((d) => decoded(d.bytes));
    for (const m of [request!, response!]) {
      expect(notifiesIn(m)).toEqual(
        expect.arrayContaining([NotifyType.IKEV2_FRAGMENTATION_SUPPORTED, NotifyType.NAT_DETECTION_SOURCE_IP, NotifyType.NAT_DETECTION_DESTINATION_IP]),
      );
      expect(notifiesIn(m)).not.toContain(NotifyType.SIGNATURE_HASH_ALGORITHMS);
    }
  });

  it('COOKIE (2.6): above the half-open threshold the responder demands one and the initiator retries', async () => {
    const lab = new Lab({ settingsB: { cookieThreshold: 1 }, pair: {} });
    // B accepts IKE_SA_INIT from anywhere for this test, so a stranger can leave one SA half-open.
    const { b } = connectionPair();
    lab.b.engine.reload({ settings: { ...DEFAULT_ENGINE_SETTINGS, cookieThreshold: 1 }, connections: [{ ...b, remote: { ...b.remote, address: '%any' } }] });
    const stranger: Datagram = strangerInit('198.51.100.77');
    lab.b.engine.receive(stranger);
    expect(lab.b.engine.size()).toBe(1);
    lab.network.traceEnabled = true;
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
    expect(lab.b.engine.counters().cookiesSent).toBe(1);
    const requests = lab.network.trace.map((d) => decoded(d.bytes)).filter((m) => m.header.exchangeType === ExchangeType.IKE_SA_INIT && !m.header.flags.response);
    expect(requests).toHaveLength(2);
    const first = requests[1]!.payloads[0];
    expect(first !== undefined && !isUnknownPayload(first) && first.type === PayloadType.N && first.notifyType).toBe(NotifyType.COOKIE);
  });

  it('the responder refuses IKE_SA_INIT beyond its limit of IKE SAs', async () => {
    const { a, b } = connectionPair();
    const lab = new Lab({ connections: { a: [{ ...a, initialContact: false }], b: [b] }, settingsB: { maxIkeSas: 1 } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    lab.a.engine.initiate('lab');
    await lab.run(200_000);
    expect(lab.b.engine.size()).toBe(1);
    expect(lab.b.engine.counters().refusedLimits).toBeGreaterThanOrEqual(1);
    expect(lab.a.engine.size()).toBe(1); // the second attempt gave up after its retransmissions
  });

  it('an unknown critical payload gets UNSUPPORTED_CRITICAL_PAYLOAD (2.5)', async () => {
    const lab = new Lab();
    const { b } = connectionPair();
    lab.b.engine.reload({ settings: DEFAULT_ENGINE_SETTINGS, connections: [{ ...b, remote: { ...b.remote, address: '%any' } }] });
    const answers: Buffer[] = [];
    lab.network.attach({ address: '198.51.100.78', port: 500 }, (d) => answers.push(d.bytes));
    const d = strangerInit('198.51.100.78');
    const m = decoded(d.bytes);
    m.payloads.push({ type: 200, unknown: true, critical: true, body: Buffer.from([1, 2, 3]) } as never);
    lab.b.engine.receive({ ...d, bytes: encodeMessage(m) });
    await lab.run(1000);
    expect(answers).toHaveLength(1);
    const answer = decoded(answers[0]!);
    const n = answer.payloads[0] as NotifyPayload;
    expect(n.notifyType).toBe(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD);
    expect([...n.data]).toEqual([200]);
    expect(lab.b.engine.size()).toBe(0);
  });
});

/** An IKE_SA_INIT request from an address of our choosing, that never goes further. */
function strangerInit(address: string): Datagram {
  const random = seededRandom(address);
  const { a } = connectionPair();
  const offer = offerProposals(a.ikePolicy.proposalSets, 'ike', Buffer.alloc(0), cryptoRegistry);
  const keyPair = cryptoRegistry.dhGroup(preferredDhGroup(offer)!)!.generateKeyPair(random);
  const local = { address, port: 500 };
  const remote = { address: '192.0.2.2', port: 500 };
  const bytes = buildIkeSaInitRequest({ spiI: random(8), Ni: random(32), keyPair, offer, local, remote, fragmentation: false });
  // As the responder receives it: its own address is `local`.
  return { local: remote, remote: local, bytes };
}

describe('IKE_AUTH failures', () => {
  it('AUTHENTICATION_FAILED on a wrong PSK: the SA is gone on both sides, the log names ID and method', async () => {
    const lab = new Lab({ pair: { pskB: 'a different preshared key' } });
    lab.a.engine.initiate('lab');
    await lab.run(60_000);
    expect(lab.a.engine.size()).toBe(0);
    expect(lab.b.engine.size()).toBe(0);
    expect(lab.a.kernel.sas()).toHaveLength(0);
    expect(lab.b.kernel.sas()).toHaveLength(0);
    expect(lab.a.events.find((e) => e.kind === 'ike-sa-failed')).toMatchObject({ notify: 'AUTHENTICATION_FAILED' });
    const why = lab.b.logs.find((r) => r.message === 'IKE SA negotiation failed');
    expect(String(why?.fields.reason)).toMatch(/192\.0\.2\.1.*PSK/);
  });

  it('an IDr the responder does not have: AUTHENTICATION_FAILED, no SA on either side', async () => {
    const { a, b } = connectionPair();
    const lab = new Lab({ connections: { a: [a], b: [{ ...b, local: { ...b.local, id: { kind: 'fqdn', fqdn: 'impostor.example.net' } } }] } });
    lab.a.engine.initiate('lab');
    await lab.run(60_000);
    expect(lab.a.engine.size()).toBe(0);
    expect(lab.b.engine.size()).toBe(0);
    expect(lab.b.kernel.sas()).toHaveLength(0);
    const why = lab.b.logs.find((r) => r.message === 'IKE SA negotiation failed');
    expect(String(why?.fields.reason)).toMatch(/192\.0\.2\.1 asking for hq\.example\.net/);
  });

  it('TS_UNACCEPTABLE for the first Child SA keeps the IKE SA (2.21.3), logging both sides\' selectors', async () => {
    const lab = new Lab({ pair: { trafficB: { local: ['10.1.0.0/16'], remote: ['10.2.0.0/16'] } } });
    lab.a.engine.initiate('lab');
    await lab.run(30_000);
    for (const side of [lab.a, lab.b]) {
      const [sa] = side.engine.status();
      expect(sa?.state).toBe('established');
      expect(sa?.children).toHaveLength(0);
      expect(side.kernel.sas()).toHaveLength(0);
    }
    expect(lab.a.events.find((e) => e.kind === 'child-sa-failed')).toMatchObject({ notify: 'TS_UNACCEPTABLE' });
    const why = lab.b.logs.find((r) => r.message.startsWith('Child SA not created'));
    expect(String(why?.fields.reason)).toMatch(/198\.51\.100\.0\/24.*10\.2\.0\.0\/16|10\.2\.0\.0\/16.*198\.51\.100\.0\/24/);
  });

  it('NO_PROPOSAL_CHOSEN for the first Child SA keeps the IKE SA', async () => {
    const lab = new Lab({ pair: { esp: ['aes128gcm16'], espB: ['aes256-sha512'] } });
    lab.a.engine.initiate('lab');
    await lab.run(30_000);
    expect(lab.a.engine.status()[0]?.state).toBe('established');
    expect(lab.b.engine.status()[0]?.state).toBe('established');
    expect(lab.a.events.find((e) => e.kind === 'child-sa-failed')).toMatchObject({ notify: 'NO_PROPOSAL_CHOSEN' });
  });

  it('INITIAL_CONTACT (2.4): a restarted initiator makes the responder drop the stale IKE SA', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
    const stale = lab.b.engine.status()[0]!.id;
    lab.restart('a');
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.b.engine.status().every((s) => s.id !== stale), 30_000)).toBe(true);
    expect(lab.b.engine.size()).toBe(1);
    expect(lab.b.kernel.sas()).toHaveLength(2);
    expect(lab.b.events.find((e) => e.kind === 'ike-sa-down' && e.id === stale)).toMatchObject({ reason: 'INITIAL_CONTACT from the peer' });
  });
});

describe('NAT detection (2.23)', () => {
  it('both sides detect the NAT, IKE moves to port 4500 and the Child SA is UDP-encapsulated', async () => {
    const lab = new Lab({ pair: {} });
    const { b } = connectionPair();
    lab.b.engine.reload({ settings: DEFAULT_ENGINE_SETTINGS, connections: [{ ...b, remote: { ...b.remote, address: '%any' } }] });
    // A sits behind a NAT that maps 192.0.2.1:p to 198.18.0.1:40000+p.
    const inside = '192.0.2.1';
    const outside = '198.18.0.1';
    lab.network.rewrite = (d) => {
      if (d.local.address === inside) return { ...d, local: { address: outside, port: 40000 + d.local.port } };
      if (d.remote.address === outside) return { ...d, remote: { address: inside, port: d.remote.port - 40000 } };
      return d;
    };
    lab.network.traceEnabled = true;
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 30_000)).toBe(true);
    const a = lab.a.engine.ikeSaContext(lab.a.engine.status()[0]!.id)!;
    const bb = lab.b.engine.ikeSaContext(lab.b.engine.status()[0]!.id)!;
    expect(a.nat).toMatchObject({ localBehindNat: true, remoteBehindNat: false });
    expect(bb.nat).toMatchObject({ localBehindNat: false, remoteBehindNat: true });
    expect(a.local.port).toBe(4500);
    expect(lab.a.engine.status()[0]!.nat).toEqual({ localBehindNat: true, remoteBehindNat: false });
    expect(bb.remote).toEqual({ address: outside, port: 44500 });
    const auth = lab.network.trace.filter((d) => decoded(d.bytes).header.exchangeType === ExchangeType.IKE_AUTH);
    expect(auth.map((d) => [d.local.port, d.remote.port])).toEqual([
      [4500, 4500],
      [4500, 44500],
    ]);
    expect(lab.a.kernel.sas().every((s) => s.encapsulation !== undefined)).toBe(true);
    expect(lab.b.kernel.sas().find((s) => s.direction === 'out')?.encapsulation).toEqual({ sourcePort: 4500, destinationPort: 44500 });
    // The side behind the NAT names the endpoints its keepalives go between (RFC 3948 2.3); the other none.
    expect(lab.a.events.find((e) => e.kind === 'ike-sa-up')).toMatchObject({ natKeepalive: { local: { address: inside, port: 4500 }, remote: { address: '192.0.2.2', port: 4500 } } });
    expect(lab.b.events.find((e) => e.kind === 'ike-sa-up')).not.toHaveProperty('natKeepalive');
  });
});
