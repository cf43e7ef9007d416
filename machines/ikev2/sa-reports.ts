/**
 * What an IKE SA tells the user about itself (SA events for `ikekm watch`, status and tests) and
 * what it hands to the key log: shared by the procedures that end or establish SAs.
 */
import { ikeSpiHex } from '../../src/wire/index.js';
import type { LogSummary } from '../effects.js';
import { logBindings, type Step } from './ike-sa-step.js';

/**
 * The negotiation ends before the IKE SA was established. `summary` marks a failure any sender
 * can cause per datagram (a half-open SA's), logged a few per window and then counted.
 */
export function failNegotiation(step: Step, reason: string, notify?: string, summary?: LogSummary): void {
  step.set({ endReason: reason });
  step.error({ reason, ...(notify === undefined ? {} : { notify }) }, 'IKE SA negotiation failed', summary);
  step.report({
    kind: 'ike-sa-failed',
    connection: step.ctx.connection ?? step.ctx.candidates.join('|'),
    id: step.ctx.id,
    reason,
    ...(notify === undefined ? {} : { notify }),
    atMs: step.now,
  });
  // Online PSK guessing (RFC 7296 5): the supervisor backs off the initiator's address.
  if (notify === 'AUTHENTICATION_FAILED' && step.ctx.role === 'responder') step.toSupervisor({ type: 'IKE_SA_AUTH_FAILED', id: step.ctx.id });
  step.raise({ type: 'IKE_SA_FAILED' });
}

/** A Child SA was not created; the IKE SA stays (RFC 7296 2.21.3). */
export function childSaFailed(step: Step, reason: string, notify?: string): void {
  step.warn({ reason, ...(notify === undefined ? {} : { notify }) }, 'Child SA not created; the IKE SA stays (RFC 7296 2.21.3)');
  step.report({
    kind: 'child-sa-failed',
    connection: step.ctx.connection ?? '',
    ikeSa: step.ctx.id,
    reason,
    ...(notify === undefined ? {} : { notify }),
    atMs: step.now,
  });
}

/** `ike-sa-down` for an SA that was reported up (the chart calls it once: lingering or closed). */
export function reportDown(step: Step): void {
  const ctx = step.ctx;
  if (ctx.establishedAtMs === undefined) return;
  const reason = ctx.endReason ?? 'closed';
  step.info({ reason }, reason === 'rekeyed' || reason.startsWith('rekeyed;') ? 'old IKE SA closed after rekey' : 'IKE SA closed');
  step.report({ kind: 'ike-sa-down', connection: logBindings(ctx).connection, id: ctx.id, spiI: ikeSpiHex(ctx.spiI), spiR: ikeSpiHex(ctx.spiR), reason, cause: ctx.endCause ?? 'local', atMs: step.now });
}

/** The IKE SA's keys for the key log (Wireshark's ikev2_decryption_table), when it has keys. */
export function keylogIkeSa(step: Step): void {
  if (step.ctx.security !== undefined) step.keylog(step.ctx.security);
}
