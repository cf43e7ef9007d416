/**
 * The IKE SA in service (`succession.current`): on entry its lifetimes start (2.8: soft → rekey,
 * hard → delete, with jitter), liveness checks are scheduled (2.4), the Child SAs moved here from
 * the SA we replace start again (2.18), the key log gets its keys and the user hears `ike-sa-up`.
 * The keys used only to authenticate are wiped.
 */
import { securityInService } from '../../../src/ikev2/ike-sa-session.js';
import { SOFT_EXPIRE, lifetimeDeadlines } from '../../../src/timers/lifetime.js';
import { byteLifetimePollMs, childInput, setChild } from '../child-records.js';
import { TIMER, type Step } from '../ike-sa-step.js';
import { keylogIkeSa } from '../sa-reports.js';
import { ikeSpiHex } from '../../../src/wire/index.js';

/** Entry of `succession.current`. */
export function enter(step: Step): void {
  const conn = step.connection();
  if (conn === undefined) {
    step.set({ endReason: 'connection removed' });
    step.raise({ type: 'IKE_SA_ENDED' });
    return;
  }
  // IKE_AUTH is over (or this SA came from a rekey, 2.18): the authentication keys go, and the
  // SPIs and the other keys move into one allocation.
  const security = step.ctx.security;
  if (security !== undefined) {
    const kept = securityInService(security);
    step.set({ security: kept, spiI: kept.spiI, spiR: kept.spiR });
  }
  const lt = conn.ikePolicy.lifetime;
  const lifetime = lifetimeDeadlines({ rekeySeconds: lt.rekeySeconds, lifetimeSeconds: lt.lifetimeSeconds, jitterSeconds: lt.jitterSeconds }, step.now, step.ports.random);
  step.set({ lifetime, establishedAtMs: step.now, lastHeardMs: step.now });
  // The hard lifetime is armed when the rekey starts (rekey-ike-sa.ts, armHardLifetime): it can
  // only matter after the soft one, and an SA in service then waits on one timer, not two.
  step.arm(TIMER.rekey, lifetime.rekeyAtMs, SOFT_EXPIRE);
  if (conn.ikePolicy.dpd !== undefined) step.arm(TIMER.dpd, step.now + conn.ikePolicy.dpd.intervalSeconds * 1000, { type: 'DPD_DUE' });

  const adopted = step.ctx.adopted;
  if (adopted !== undefined) {
    // Child SAs moved here from the IKE SA we replace (2.18): restart their actors as installed.
    const pollMs = byteLifetimePollMs(step);
    step.set({ adopted: undefined });
    for (const record of adopted) {
      setChild(step, record);
      step.spawnChild(childInput(step.ctx, record, pollMs));
    }
  }
  const ctx = step.ctx;
  keylogIkeSa(step);
  step.report({
    kind: 'ike-sa-up',
    connection: conn.name,
    id: ctx.id,
    spiI: ikeSpiHex(ctx.spiI),
    spiR: ikeSpiHex(ctx.spiR),
    role: ctx.role,
    rekeyed: ctx.predecessor !== undefined,
    rekeyAtMs: lifetime.rekeyAtMs,
    expireAtMs: lifetime.expireAtMs,
    atMs: step.now,
    ...(ctx.nat.localBehindNat ? { natKeepalive: { local: ctx.local, remote: ctx.remote } } : {}),
  });
  step.toSupervisor({ type: 'IKE_SA_ESTABLISHED', id: ctx.id, connection: conn.name, peerId: ctx.peerId });
}
