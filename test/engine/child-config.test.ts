/**
 * The responder's choice of child config by traffic selectors (RFC 7296 2.9; strongSwan: peer
 * config by IDs, then the child config whose TS fit the offer): two connections between the same
 * peers with the same IDs and IKE policy but different selectors, for the first Child SA in
 * IKE_AUTH and for CREATE_CHILD_SA on an existing IKE SA.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_SETTINGS, type ConnectionConfig } from '../../src/config/model.js';
import { connectionPair } from './fixtures.js';
import { Lab } from './lab.js';

function twoNets(): { a: ConnectionConfig[]; b: ConnectionConfig[] } {
  const netA = connectionPair({ name: 'net-a', trafficA: { local: ['198.51.100.0/25'], remote: ['203.0.113.0/25'] } });
  const netB = connectionPair({ name: 'net-b', trafficA: { local: ['198.51.100.128/25'], remote: ['203.0.113.128/25'] } });
  // One IKE policy for both (strongSwan: one connection, two children).
  const shared = (c: ConnectionConfig, like: ConnectionConfig): ConnectionConfig => ({ ...c, ikePolicy: like.ikePolicy });
  return { a: [netA.a, shared(netB.a, netA.a)], b: [netA.b, shared(netB.b, netA.b)] };
}

const upOn = (lab: Lab, side: 'a' | 'b', connection: string) =>
  lab[side].events.some((e) => e.kind === 'child-sa-up' && e.connection === connection);

describe('responder: child config by traffic selectors', () => {
  it('IKE_AUTH: the second connection with the same IDs gets its own selectors and data policy, not TS_UNACCEPTABLE', async () => {
    const lab = new Lab({ connections: twoNets() });
    lab.a.engine.initiate('net-a');
    expect(await lab.runUntil(() => upOn(lab, 'b', 'net-a'), 30_000)).toBe(true);
    lab.a.engine.initiate('net-b');
    expect(await lab.runUntil(() => upOn(lab, 'a', 'net-b') && upOn(lab, 'b', 'net-b'), 30_000)).toBe(true);
    expect(lab.b.events.filter((e) => e.kind === 'child-sa-failed')).toEqual([]);
    const byConnection = Object.fromEntries(lab.b.engine.status().map((sa) => [sa.connection, sa.children.map((c) => [c.localTs, c.remoteTs])]));
    expect(byConnection).toEqual({
      'net-a': [[['203.0.113.0/25'], ['198.51.100.0/25']]],
      'net-b': [[['203.0.113.128/25'], ['198.51.100.128/25']]],
    });
    expect(lab.b.logs.some((l) => l.message.includes('connection chosen by traffic selectors') && String(l.fields['why']).includes('203.0.113.128/25'))).toBe(true);
  });

  it('CREATE_CHILD_SA: a new Child SA whose selectors belong to the other connection is accepted under that connection', async () => {
    const nets = twoNets();
    const lab = new Lab({ connections: nets });
    const id = lab.a.engine.initiate('net-a');
    expect(await lab.runUntil(() => upOn(lab, 'a', 'net-a') && upOn(lab, 'b', 'net-a'), 30_000)).toBe(true);
    // A asks, on the same IKE SA, for net-b's traffic (its net-a now names net-b's selectors).
    lab.a.engine.reload({ settings: DEFAULT_ENGINE_SETTINGS, connections: [{ ...nets.a[0]!, traffic: nets.a[1]!.traffic }, nets.a[1]!] });
    lab.a.engine.createChildSa(id);
    expect(await lab.runUntil(() => upOn(lab, 'a', 'net-a') && upOn(lab, 'b', 'net-b'), 30_000)).toBe(true);
    const [sa] = lab.b.engine.status();
    expect(lab.b.engine.status()).toHaveLength(1);
    // The IKE SA keeps its connection; the Child SA runs under net-b's.
    expect(sa?.connection).toBe('net-a');
    expect(sa?.children.map((c) => c.remoteTs)).toEqual([['198.51.100.0/25'], ['198.51.100.128/25']]);
    const childB = lab.b.engine.ikeSaContext(sa!.id)!;
    const placements = Object.values(childB.children).map((r) => r.placement.connection).sort();
    expect(placements).toEqual(['net-a', 'net-b']);
  });

  it('nothing fits: TS_UNACCEPTABLE, and the log names the offer and every configured selector', async () => {
    const nets = twoNets();
    const wrong = { ...nets.a[0]!, traffic: { local: ['192.0.2.128/25'], remote: ['203.0.113.0/24'] } };
    const lab = new Lab({ connections: { a: [wrong], b: nets.b } });
    lab.a.engine.initiate('net-a');
    expect(await lab.runUntil(() => lab.b.events.some((e) => e.kind === 'child-sa-failed'), 30_000)).toBe(true);
    const failed = lab.b.events.find((e) => e.kind === 'child-sa-failed');
    expect(failed).toMatchObject({ notify: 'TS_UNACCEPTABLE' });
    if (failed?.kind !== 'child-sa-failed') return;
    expect(failed.reason).toContain('192.0.2.128/25');
    expect(failed.reason).toContain('net-a: local 203.0.113.0/25 remote 198.51.100.0/25');
    expect(failed.reason).toContain('net-b: local 203.0.113.128/25 remote 198.51.100.128/25');
  });
});
