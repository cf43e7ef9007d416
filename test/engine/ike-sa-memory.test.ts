/**
 * What an established IKE SA keeps: not the IKE_SA_INIT request once IKE_AUTH has used it (XState
 * keeps an actor's input for its life), nor the keys only IKE_AUTH needs, and its SPIs, keys and
 * nonces in memory of their own, not in slices of Node's Buffer pool that would keep a whole 8 KiB
 * slab alive (src/wire/unpooled.ts).
 */
import type { AnyActorRef } from 'xstate';
import { expect, it } from 'vitest';
import { connectionSelectors } from '../../src/ikev2/exchanges/connection-policy.js';
import { Lab } from './lab.js';

it('an established responder IKE SA holds no request bytes, and its long-lived buffers own their memory', async () => {
  const actors = new Map<string, AnyActorRef>();
  const lab = new Lab({
    silent: true,
    pair: { ike: ['aes128gcm16-prfsha256-x25519'] },
    inspect: (side, e) => {
      const ref = e.actorRef as AnyActorRef;
      if (side === 'b' && e.type === '@xstate.actor' && ref.id.startsWith('ike-')) actors.set(ref.id, ref);
    },
  });
  lab.a.engine.initiate('lab');
  expect(await lab.runUntil(() => lab.established(lab.b))).toBe(true);
  const [sa] = lab.b.engine.status();
  const actor = actors.get(sa!.id)!;
  // XState keeps the input: what the initial context took over is gone from it.
  const input = (actor as unknown as { options: { input: { request?: unknown; localSpi?: unknown; rekeyed?: unknown } } }).options.input;
  expect([input.request, input.localSpi, input.rekeyed]).toEqual([undefined, undefined, undefined]);
  const ctx = lab.b.engine.ikeSaContext(sa!.id)!;
  expect(ctx.initRequest).toBeUndefined();
  expect(ctx.handshake).toBeUndefined();
  const own = (b: Buffer, size: number): boolean => b.buffer.byteLength === size;
  // The SPIs and the keys in service share one allocation of exactly their size (securityInService).
  const keys = ctx.security!.keys;
  // (AES-GCM: SK_ai and SK_ar are empty, the one shared NO_OCTETS.)
  expect([keys.SK_ai.length, keys.SK_ar.length]).toEqual([0, 0]);
  const kept = [ctx.spiI, ctx.spiR, keys.SK_d, keys.SK_ei, keys.SK_er];
  expect(new Set(kept.map((k) => k.buffer)).size).toBe(1);
  expect(own(ctx.spiI, kept.reduce((n, k) => n + k.length, 0))).toBe(true);
  expect(ctx.security!.spiI).toBe(ctx.spiI);
  expect(ctx.security!.spiR).toBe(ctx.spiR);
  expect(ctx.spiR.equals(Buffer.from(sa!.spiR, 'hex'))).toBe(true);
  // Only IKE_AUTH used them (securityInService).
  expect([keys.SKEYSEED.length, keys.SK_pi.length, keys.SK_pr.length]).toEqual([0, 0, 0]);
  const child = Object.values(ctx.children)[0]!;
  // The nonces went into the keys; the SA keeps neither them nor a Buffer for them.
  expect(Object.keys(child.params).sort()).toEqual(['exchangeRole', 'inboundSpi', 'keys', 'localTs', 'mode', 'outboundSpi', 'remoteTs', 'transforms']);
  expect(ctx.lastResponse!.datagrams.every((d) => own(d, d.length))).toBe(true);
});

it("a Child SA narrowed to the connection's own selectors keeps the configured objects, and its record has every key from the start", async () => {
  const lab = new Lab({ silent: true, pair: { ike: ['aes128gcm16-prfsha256-x25519'] } });
  lab.a.engine.initiate('lab');
  expect(await lab.runUntil(() => lab.established(lab.b))).toBe(true);
  const [sa] = lab.b.engine.status();
  const ctx = lab.b.engine.ikeSaContext(sa!.id)!;
  const record = ctx.children[0]!;
  // Both sides configure the same traffic, so the narrowing (RFC 7296 2.9) leaves it as configured.
  const configured = connectionSelectors(lab.connections.b[0]!);
  expect(record.params.localTs).toBe(configured.local);
  expect(record.params.remoteTs).toBe(configured.remote);
  // Parsed once per configuration object.
  expect(connectionSelectors(lab.connections.b[0]!)).toBe(configured);
  // Updates replace keys a record has; one added by a spread would cost the record a hidden class
  // of its own in V8 (child-records.ts).
  expect(Object.keys(record).sort()).toEqual(
    ['actorId', 'deadlines', 'installedAtMs', 'lifetime', 'outboundPending', 'params', 'placement', 'redundant', 'rekeyOf', 'replacedBy', 'state'],
  );
  expect(record.deadlines).toBeDefined();
});
