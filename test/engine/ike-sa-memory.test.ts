/**
 * What an established IKE SA keeps: not the IKE_SA_INIT request once IKE_AUTH has used it (XState
 * keeps an actor's input for its life), and its SPIs, keys and nonces in memory of their own, not
 * in slices of Node's Buffer pool that would keep a whole 8 KiB slab alive (src/wire/unpooled.ts).
 */
import type { AnyActorRef } from 'xstate';
import { expect, it } from 'vitest';
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
  expect((actor as unknown as { options: { input: { request?: unknown } } }).options.input.request).toBeUndefined();
  const ctx = lab.b.engine.ikeSaContext(sa!.id)!;
  expect(ctx.initRequest).toBeUndefined();
  expect(ctx.handshake).toBeUndefined();
  const own = (b: Buffer, size: number): boolean => b.buffer.byteLength === size;
  expect(own(ctx.spiI, 8) && own(ctx.spiR, 8)).toBe(true);
  const keys = ctx.security!.keys;
  expect(keys.SK_d.buffer).toBe(keys.SK_pr.buffer);
  expect(keys.SK_d.buffer.byteLength).toBeLessThan(1024);
  const child = Object.values(ctx.children)[0]!;
  expect(child.params.Ni.buffer).toBe(child.params.Nr.buffer);
  expect(child.params.Ni.buffer.byteLength).toBe(child.params.Ni.length + child.params.Nr.length);
  expect(ctx.lastResponse!.datagrams.every((d) => own(d, d.length))).toBe(true);
});
