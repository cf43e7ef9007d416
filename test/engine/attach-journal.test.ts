/**
 * A journal attached to a running engine (engine.attachJournal): it first learns the current
 * state of every live IKE SA and Child SA actor, then gets exactly what a journal attached from
 * creation gets over the same span, the "unchanged state not repeated" rule included, also after
 * a detach and a new attach; after the detach it gets nothing. And the engine asks XState for
 * inspection only while a journal is attached: none is handed to createActor, and the run-time
 * subscription is gone after the detach.
 */
import { createActor, type AnyActorRef } from 'xstate';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineJournal } from '../../src/engine/engine-journal.js';
import type { RecordEntry } from '../../src/replay/record-entry.js';
import { recordJournal } from '../../src/replay/record-journal.js';
import { Lab } from './lab.js';

vi.mock('xstate', async (importOriginal) => {
  const actual = await importOriginal<typeof import('xstate')>();
  return { ...actual, createActor: vi.fn(actual.createActor) };
});

/** The supervisors created since the mock was cleared, in order, with the options they were given and their live run-time inspections. */
function supervisors(): { options: Record<string, unknown>; live: () => number }[] {
  const calls = vi.mocked(createActor).mock.calls;
  const results = vi.mocked(createActor).mock.results;
  const out: { options: Record<string, unknown>; live: () => number }[] = [];
  calls.forEach(([, options], i) => {
    if ((options as { systemId?: string } | undefined)?.systemId !== 'supervisor') return;
    const actor = results[i]!.value as AnyActorRef;
    const system = actor.system as { inspect: (o: unknown) => { unsubscribe(): void }; __live?: number };
    if (system.__live === undefined) {
      system.__live = 0;
      const inspect = system.inspect.bind(system);
      system.inspect = (observer) => {
        system.__live!++;
        const subscription = inspect(observer);
        return { unsubscribe: () => (system.__live!--, subscription.unsubscribe()) };
      };
    }
    out.push({ options: options as Record<string, unknown>, live: () => system.__live! });
  });
  return out;
}

/** A journal that collects its entries as a record's (without the header). */
function collecting(): { journal: EngineJournal; entries: RecordEntry[] } {
  const entries: RecordEntry[] = [];
  const journal = recordJournal((e) => (e.t === 'header' ? undefined : void entries.push(e)), { config: { settings: {} as never, connections: [] }, kernelEnforcesByteLimits: false });
  return { journal, entries };
}

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

/** The same negotiation, step by step: `at(step)` runs before each step (0: established, 1: Child SA rekeyed, 2: IKE SA rekeyed, 3: deleted). */
async function negotiate(lab: Lab, at: (step: number) => void): Promise<void> {
  lab.a.engine.initiate('lab');
  expect(await lab.runUntil(both(lab), 60_000)).toBe(true);
  at(0);
  lab.a.engine.rekeyChildSa(lab.a.engine.status()[0]!.id);
  await lab.run(5_000);
  at(1);
  lab.b.engine.rekeyIkeSa(lab.b.engine.status()[0]!.id);
  await lab.run(5_000);
  at(2);
  lab.a.engine.terminate({ connection: 'lab' });
  await lab.run(70_000);
  at(3);
}

/** Side a's live actors as the engine's status has them: IKE SAs and their Child SAs. */
function liveActors(lab: Lab): string[] {
  return lab.a.engine.status().flatMap((sa) => [sa.id, ...sa.children.map((c) => `${sa.id}/child-${c.inboundSpi}`)]);
}

describe('engine.attachJournal', () => {
  beforeEach(() => vi.mocked(createActor).mockClear());

  it('a late journal learns every live actor first, then gets what a journal from creation gets, across a detach and a new attach', async () => {
    // The reference: side a journaled from creation; where its record stood at each step.
    const reference = collecting();
    const marks: number[] = [];
    await negotiate(new Lab({ journal: (side) => (side === 'a' ? reference.journal : undefined) }), () => marks.push(reference.entries.length));

    // The same negotiation, attached after establishment, detached after the Child SA rekey,
    // attached again after the IKE SA rekey.
    const lab = new Lab();
    const first = collecting();
    const second = collecting();
    let detach = (): void => undefined;
    const seeds: string[][] = [];
    await negotiate(lab, (step) => {
      if (step === 0 || step === 2) {
        seeds.push(liveActors(lab));
        detach = lab.a.engine.attachJournal(step === 0 ? first.journal : second.journal);
      }
      if (step === 1) detach();
    });
    detach();

    for (const [journal, from, to, live] of [
      [first, marks[0]!, marks[1]!, seeds[0]!],
      [second, marks[2]!, marks[3]!, seeds[1]!],
    ] as const) {
      // One state per live actor, IKE SAs and Child SAs, before anything else; each its current value.
      const told = journal.entries.slice(0, live.length);
      expect(told.every((e) => e.t === 'state')).toBe(true);
      expect(told.map((e) => (e.t === 'state' ? e.actor : '')).sort()).toEqual([...live].sort());
      expect(live.some((id) => id.includes('/child-'))).toBe(true);
      // Then exactly the reference's entries over the same span: inputs, draws, outputs, states (none repeated, none missing).
      expect(journal.entries.slice(live.length)).toEqual(reference.entries.slice(from, to));
      expect(to - from).toBeGreaterThan(10);
    }
    const firstIke = seeds[0]!.find((id) => !id.includes('/'))!;
    const stateOf = (entries: RecordEntry[], actor: string) => entries.find((e) => e.t === 'state' && e.actor === actor);
    expect(stateOf(first.entries, firstIke)).toMatchObject({ value: expect.objectContaining({ established: expect.anything() }) });
  });

  it('asks XState for inspection only while a journal is attached', async () => {
    const lab = new Lab();
    const [a] = supervisors();
    // Neither a journal nor an inspect at creation: no inspection handed to createActor.
    expect(a!.options.inspect).toBeUndefined();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 60_000)).toBe(true);
    expect(a!.live()).toBe(0);

    const { journal, entries } = collecting();
    const detach = lab.a.engine.attachJournal(journal);
    expect(a!.live()).toBe(1);
    lab.a.engine.rekeyChildSa(lab.a.engine.status()[0]!.id);
    await lab.run(5_000);
    const whileAttached = entries.length;
    expect(entries.filter((e) => e.t === 'state').length).toBeGreaterThan(3);
    expect(entries.some((e) => e.t === 'in') && entries.some((e) => e.t === 'out') && entries.some((e) => e.t === 'draw')).toBe(true);

    detach();
    detach(); // idempotent
    expect(a!.live()).toBe(0);
    lab.a.engine.rekeyIkeSa(lab.a.engine.status()[0]!.id);
    await lab.run(5_000);
    expect(lab.a.events.some((e) => e.kind === 'ike-sa-rekeyed')).toBe(true);
    expect(entries.length).toBe(whileAttached);
  });

  it('an engine created with a journal keeps its inspection; a run-time journal adds no second one', async () => {
    const reference = collecting();
    const lab = new Lab({ journal: (side) => (side === 'a' ? reference.journal : undefined) });
    const [a] = supervisors();
    expect(a!.options.inspect).toBeTypeOf('function');
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab), 60_000)).toBe(true);
    const late = collecting();
    const detach = lab.a.engine.attachJournal(late.journal);
    expect(a!.live()).toBe(0);
    lab.a.engine.rekeyChildSa(lab.a.engine.status()[0]!.id);
    await lab.run(5_000);
    detach();
    // The creation journal goes on after the late one left.
    const before = reference.entries.length;
    lab.a.engine.terminate({ connection: 'lab' });
    await lab.run(5_000);
    expect(reference.entries.length).toBeGreaterThan(before);
    expect(late.entries.filter((e) => e.t === 'in').length).toBeGreaterThan(0);
  });
});
