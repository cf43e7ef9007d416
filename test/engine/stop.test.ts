/**
 * Stopping an engine while SAs are still busy (a Delete outstanding, RFC 7296 1.4.1; Child SAs
 * being removed from the kernel): it quiesces without a word on the console (XState's "Event
 * sent to stopped actor"), cancels every timer, and drops what arrives later.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Lab } from './lab.js';

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

function captureConsole(): { output: () => unknown[][] } {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  return { output: () => [...warn.mock.calls, ...error.mock.calls] };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('engine.stop()', () => {
  it('with a Delete outstanding and Child SAs closing: nothing on console.warn/error, timers gone, later input dropped', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const id = lab.a.engine.status()[0]!.id;
    const console = captureConsole();
    // A's Delete is on the wire (B has not answered yet); B closes its Child SAs on receipt.
    lab.a.engine.terminate({ connection: 'lab' });
    await lab.run(1);
    lab.a.engine.stop();
    lab.b.engine.stop();
    expect(lab.a.timers.pending()).toBe(0);
    expect(lab.b.timers.pending()).toBe(0);
    // Datagrams in flight, kernel answers and any late timer all arrive after the stop.
    await lab.run(120_000);
    lab.a.engine.deliverTimer(id, { type: 'DPD_DUE' });
    lab.a.engine.terminateAll();
    await lab.run(1_000);
    expect(console.output()).toEqual([]);
    // Dropped locally: the kernel deletes that had started still finished.
    for (const side of [lab.a, lab.b]) {
      expect(side.kernel.sas()).toHaveLength(0);
      expect(side.kernel.policies()).toHaveLength(0);
    }
    expect(() => lab.a.engine.initiate('lab')).toThrow(/stopped/);
  });

  it('right after establishment (nothing outstanding) and twice: still silent', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const console = captureConsole();
    lab.b.engine.stop();
    lab.b.engine.stop();
    // A notices nothing until its liveness check; its retransmissions reach a stopped B.
    await lab.run(600_000);
    lab.a.engine.stop();
    await lab.run(60_000);
    expect(console.output()).toEqual([]);
    expect(lab.a.timers.pending()).toBe(0);
  });

  it('closes every SA, which takes its ESP SAs and policies out of the kernel; with leaveKernelState leaves them for a sweep', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const console = captureConsole();
    const before = { sas: lab.b.kernel.sas().length, policies: lab.b.kernel.policies().length };
    expect(before.sas).toBe(2);
    lab.a.engine.stop();
    lab.b.engine.stop({ leaveKernelState: true });
    await lab.run(60_000);
    expect(lab.a.kernel.sas()).toHaveLength(0);
    expect(lab.a.kernel.policies()).toHaveLength(0);
    // B stopped all the same (timers gone, later input dropped), its kernel state as it was.
    expect(lab.b.timers.pending()).toBe(0);
    expect({ sas: lab.b.kernel.sas().length, policies: lab.b.kernel.policies().length }).toEqual(before);
    expect(() => lab.b.engine.initiate('lab')).toThrow(/stopped/);
    expect(lab.b.kernel.removeAll()).toEqual({ sas: 2, policies: before.policies, traps: 0 });
    expect(lab.b.kernel.sas()).toHaveLength(0);
    expect(console.output()).toEqual([]);
  });
});
