/**
 * Whether a fresh IKE_SA_INIT request becomes a responder, in the order strongSwan's charon
 * checks (receiver.c) plus ikekm's own limits:
 *
 *   1. refusing new SAs (the daemon is stopping): dropped
 *   2. no connection fits the addresses: dropped
 *   3. the address is backing off after failed authentications (auth-backoff.ts): dropped
 *   4. COOKIE (RFC 7296 2.6, RFC 8019 4.1): demanded, statelessly, once `cookieThreshold` SAs are
 *      half-open, or `cookieThresholdPerAddress` from this address; and for 10 s after either
 *      was last reached, so that retransmissions of one initiator are not answered now with and
 *      now without (the cookie is part of what IKE_AUTH signs)
 *   5. `blockThresholdPerAddress` half-open SAs from this address: dropped
 *   6. the limit on IKE SAs: dropped
 *   7. a configured peer that returned a valid COOKIE: admitted (below)
 *   8. the limit on half-open SAs, then the half-open memory budget: dropped
 *   9. the event loop busier than `loadLimitPercent` (LoadPort): dropped
 *  10. the rate of new negotiations (a token bucket): dropped
 *
 * Everything before 10 costs no DH computation; a COOKIE answer is one hash.
 *
 * Beyond charon (7): a flood that returns our COOKIEs from many addresses (a botnet, or one host
 * with many addresses) spends the half-open limits and the rate as fast as they refill, and a
 * site-to-site peer would then wait for a token among thousands of strangers. A request from the
 * address a connection names (not `%any`), with a COOKIE that verifies, proves that the peer
 * receives at that address; it skips 8 to 10, while 5 still bounds what one address can hold.
 * Without a COOKIE demanded nothing is proven, and such a request takes the common path.
 */
import type { CookieGenerator } from '../../src/ikev2/cookie.js';
import { connectionsForAddresses } from '../../src/ikev2/exchanges/connection-policy.js';
import { cookieResponse } from '../../src/ikev2/exchanges/ike-sa-init.js';
import type { Datagram } from '../../src/ports.js';
import type { IkeSaInitPeek } from '../../src/wire/index.js';
import type { LogLevel } from '../effects.js';
import type { MachinePorts } from '../ports.js';
import { CALMDOWN_BUCKETS, COOKIE_CALMDOWN_MS } from './admission-state.js';
import { HALF_OPEN_STATE_BYTES } from './half-open-table.js';
import type { SupervisorContext, SupervisorCounters } from './supervisor-context.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '%any']);
const NO_NONCE = Buffer.alloc(0);

export type RefusalCounter = keyof Pick<
  SupervisorCounters,
  'noConnection' | 'refusedLimits' | 'refusedShutdown' | 'refusedAuthBackoff' | 'refusedPerAddress' | 'refusedBudget' | 'refusedRate' | 'refusedLoad'
>;

export type Admission =
  /** `configuredPeer`: admitted past the half-open limits and the rate (7 above). */
  | { readonly kind: 'admit'; readonly candidates: string[]; readonly halfOpenBytes: number; readonly configuredPeer: boolean }
  | { readonly kind: 'cookie'; readonly response: Buffer }
  | { readonly kind: 'refuse'; readonly counter: RefusalCounter; readonly level: LogLevel; readonly fields: object; readonly message: string };

function addressBucket(address: string): number {
  // FNV-1a: spreads addresses over the buckets; not a defence by itself (the per-address counts are exact).
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
  return (h >>> 0) % CALMDOWN_BUCKETS;
}

export function createAdmission(ports: MachinePorts, cookies: CookieGenerator) {
  /** RFC 7296 2.6 / RFC 8019 4.1, as charon decides it (cookie_required in receiver.c). */
  const cookieRequired = (context: SupervisorContext, address: string, nowMs: number): boolean => {
    const { settings } = ports.config.current();
    const state = context.admission;
    const calm = (last: number | undefined) => last !== undefined && nowMs < last + COOKIE_CALMDOWN_MS;
    let required = false;
    if (settings.cookieThreshold > 0) {
      if (context.halfOpen.size >= settings.cookieThreshold) state.lastGlobalThresholdMs = nowMs;
      required ||= calm(state.lastGlobalThresholdMs);
    }
    if (settings.cookieThresholdPerAddress > 0) {
      const bucket = addressBucket(address);
      if (context.halfOpen.from(address) >= settings.cookieThresholdPerAddress) state.lastAddressThresholdMs[bucket] = nowMs;
      required ||= calm(state.lastAddressThresholdMs[bucket]);
    }
    return required;
  };

  return (context: SupervisorContext, datagram: Datagram, init: IkeSaInitPeek): Admission => {
    const { settings, connections } = ports.config.current();
    const state = context.admission;
    const address = datagram.remote.address;
    const nowMs = ports.clock.now();
    if (state.refusingNewSas) {
      return { kind: 'refuse', counter: 'refusedShutdown', level: 'debug', fields: { remote: address }, message: 'IKE_SA_INIT dropped: stopping, no new IKE SAs' };
    }
    const local = WILDCARDS.has(datagram.local.address) ? undefined : datagram.local.address;
    // A socket bound to a wildcard does not know the address the peer used: any connection's
    // local address is then possible.
    const candidates = connectionsForAddresses(connections, local ?? '%any', address, local === undefined);
    if (candidates.length === 0) {
      return { kind: 'refuse', counter: 'noConnection', level: 'info', fields: { remote: address }, message: 'IKE_SA_INIT from a peer no connection is configured for: dropped' };
    }
    const blockedUntil = state.authBackoff.blockedUntil(address, nowMs);
    if (blockedUntil !== undefined) {
      return {
        kind: 'refuse',
        counter: 'refusedAuthBackoff',
        level: 'debug',
        fields: { remote: address, blockedSeconds: Math.ceil((blockedUntil - nowMs) / 1000) },
        message: 'IKE_SA_INIT dropped: this address failed to authenticate too often',
      };
    }
    const h = init.header;
    let cookieVerified = false;
    if (cookieRequired(context, address, nowMs)) {
      // RFC 7296 2.6: under load, answer statelessly with a cookie until the initiator returns it.
      const Ni = init.nonce ?? NO_NONCE;
      const cookie = init.cookie;
      if (cookie === undefined || !cookies.verify(cookie, Ni, address, h.spiI)) {
        return { kind: 'cookie', response: cookieResponse(h, cookies.cookie(Ni, address, h.spiI)) };
      }
      cookieVerified = true;
    }
    // charon keeps the block threshold above the per-address cookie threshold.
    const blockThreshold = Math.max(settings.blockThresholdPerAddress, settings.cookieThresholdPerAddress + 1);
    if (settings.blockThresholdPerAddress > 0 && context.halfOpen.from(address) >= blockThreshold) {
      return {
        kind: 'refuse',
        counter: 'refusedPerAddress',
        level: 'debug',
        fields: { remote: address, halfOpen: context.halfOpen.from(address) },
        message: 'IKE_SA_INIT dropped: per-address limit of half-open IKE SAs reached',
      };
    }
    const halfOpenBytes = datagram.bytes.length + HALF_OPEN_STATE_BYTES;
    const limitsReached = (): Admission => ({
      kind: 'refuse',
      counter: 'refusedLimits',
      level: 'warn',
      fields: { ikeSas: context.entries.size, halfOpen: context.halfOpen.size },
      message: 'IKE_SA_INIT refused: limits reached',
    });
    if (context.entries.size >= settings.maxIkeSas) return limitsReached();
    if (cookieVerified && candidates.some((c) => c.remote.address === address)) {
      return { kind: 'admit', candidates: candidates.map((c) => c.name), halfOpenBytes, configuredPeer: true };
    }
    if (context.halfOpen.size >= settings.maxHalfOpen) return limitsReached();
    if (context.halfOpen.bytes + halfOpenBytes > settings.halfOpenBudgetBytes) {
      return {
        kind: 'refuse',
        counter: 'refusedBudget',
        level: 'debug',
        fields: { remote: address, halfOpen: context.halfOpen.size, halfOpenBytes: context.halfOpen.bytes },
        message: 'IKE_SA_INIT dropped: the memory budget of half-open IKE SAs is spent',
      };
    }
    // Before the rate, so that a busy moment spends no token.
    const load = ports.load.utilization();
    if (settings.loadLimitPercent > 0 && load * 100 > settings.loadLimitPercent) {
      return { kind: 'refuse', counter: 'refusedLoad', level: 'debug', fields: { remote: address, loadPercent: Math.round(load * 100) }, message: 'IKE_SA_INIT dropped: too busy for new DH work' };
    }
    if (!state.rate.take(nowMs, settings.ikeSaInitPerSecond)) {
      return { kind: 'refuse', counter: 'refusedRate', level: 'debug', fields: { remote: address }, message: 'IKE_SA_INIT dropped: over the rate of new negotiations' };
    }
    return { kind: 'admit', candidates: candidates.map((c) => c.name), halfOpenBytes, configuredPeer: false };
  };
}
