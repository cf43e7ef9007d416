/**
 * RFC 7296 2.8: an IKE SA is rekeyed at its soft lifetime and deleted at its hard one. An SA in
 * service waits on its rekey timer alone (the soft lifetime always comes first); the hard lifetime
 * is armed when the rekey starts, and ends the SA should the rekey not succeed by then (its Delete
 * waits for a rekey request still in flight: one request at a time, 2.3).
 */
import { expect, it } from 'vitest';
import { Lab } from './lab.js';

const ikeLifetime = { rekeySeconds: 600, lifetimeSeconds: 900, jitterSeconds: 0 };

it('an IKE SA in service waits on its rekey timer; from the rekey on also on its hard lifetime, which fires at its deadline when the rekey goes unanswered', async () => {
  // Retransmissions that outlast the hard lifetime, so the rekey is still in flight at it.
  const lab = new Lab({ pair: { ikeLifetime, retransmit: { initialMs: 4000, factor: 1.8, tries: 12, limitMs: 60_000 } } });
  lab.a.engine.initiate('lab');
  expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b))).toBe(true);
  const id = lab.a.engine.status()[0]!.id;
  const establishedAt = lab.scheduler.now();
  expect(lab.a.timers.deadlineOf(id, 'rekey')).toBe(establishedAt + 600_000);
  expect(lab.a.timers.deadlineOf(id, 'expire')).toBeUndefined();

  // The peer goes silent just before the soft lifetime: the rekey starts and gets no answer.
  await lab.run(599_000);
  lab.network.filter = () => false;
  await lab.run(2_000);
  expect(lab.a.timers.deadlineOf(id, 'expire')).toBe(establishedAt + 900_000);
  await lab.run(establishedAt + 899_000 - lab.scheduler.now());
  expect(lab.a.engine.ikeSaContext(id)?.endReason).toBeUndefined();
  await lab.run(2_000);
  // The Delete is queued behind the rekey in flight (RFC 7296 2.3: one request at a time).
  expect(lab.a.engine.ikeSaContext(id)?.endReason).toBe('IKE SA hard lifetime expired');
  expect(await lab.runUntil(() => lab.a.engine.status().length === 0, 900_000)).toBe(true);
});
