/**
 * Assertions the gateway tests (daemon-strongswan.test.ts, daemon-pair.test.ts) share, on what
 * their guest drivers report: the kernel's ESP SAs and pings.
 */
import { expect } from 'vitest';
import type { KernelView, PingResult } from './guest-lab.js';
import { parseXfrmStates, type XfrmStateText } from './xfrm-text.js';

export function espStates(view: KernelView): XfrmStateText[] {
  return parseXfrmStates(view.states).filter((s) => s.proto === 'esp');
}

/** What must be equal for two kernels to hold the same SA. */
export function saIdentity(s: XfrmStateText): string {
  return `${s.src}>${s.dst} ${s.spi} ${s.algorithm} ${s.key} ${s.encap ? 'encap' : 'plain'}`;
}

export function expectAllAnswered(result: PingResult, what: string): void {
  expect(result.transmitted, `${what}: ${result.summary}`).toBeGreaterThan(0);
  expect(result.received, `${what}: ${result.summary}`).toBe(result.transmitted);
}

/** The continuous pings of a rekeys step: 60 s at 50 ms each way, every one answered. */
export function expectNoPingLost(r: { readonly aToB: PingResult; readonly bToA: PingResult; readonly actions: unknown; readonly xfrmErrors: unknown }): void {
  // what went wrong, if anything: the pings without a reply (50 ms apart) against the rekeys' times
  const context = JSON.stringify({ missingAToB: r.aToB.missing, missingBToA: r.bToA.missing, actions: r.actions, xfrmErrors: r.xfrmErrors });
  for (const [result, what] of [
    [r.aToB, 'a → b'],
    [r.bToA, 'b → a'],
  ] as const) {
    expect(result.transmitted, what).toBe(1200);
    expect(result.missing, `${what}: ${context}`).toEqual([]);
    expectAllAnswered(result, what);
  }
}
