/**
 * What a chart writes for guards, actions and events, on a small machine that uses each form a
 * definition can hold: named guards with and without params, XState's and/or/not/stateIn, delayed
 * and done transitions, named actions with params, built-in actions.
 */
import { describe, expect, it } from 'vitest';
import { and, assign, not, or, setup, stateIn } from 'xstate';
import { readChart, type ChartState } from '../../src/viz/chart-graph.js';

const machine = setup({
  guards: {
    ready: () => true,
    busy: () => false,
    kernelAnswered: (_, op: string) => op !== '',
  },
  actions: {
    note: () => {},
    armTimers: (_, params: { rekey: boolean }) => void params,
    step: (_, params: { handler: string; what: string }) => void params,
  },
}).createMachine({
  id: 'm',
  initial: 'a',
  states: {
    a: {
      entry: [{ type: 'armTimers', params: { rekey: false } }],
      on: {
        GO: { guard: and(['ready', or([not('busy'), stateIn('#m.b.inner'), or(['busy', 'ready'])])]), target: 'b' },
        PING: { actions: ['note', assign({})] },
        DONE: { guard: { type: 'kernelAnswered', params: 'install' }, actions: { type: 'step', params: { handler: 'child.onDone', what: 'rekey' } } },
        IGNORED: {},
      },
      after: { 1000: 'b' },
    },
    b: {
      initial: 'inner',
      states: { inner: { always: { guard: 'ready', target: 'last' } }, last: { type: 'final' } },
      onDone: 'c',
    },
    c: { type: 'final' },
  },
});

const graph = readChart(machine);
const find = (state: ChartState, id: string): ChartState | undefined =>
  state.id === id ? state : state.children.map((c) => find(c, id)).find((s) => s !== undefined);
const labels = (source: string, target: string) => graph.transitions.find((t) => t.source === source && t.target === target)?.labels;

describe('chart labels', () => {
  it('writes combined guards infix, with parentheses only where the operator changes, and stateIn relative to the source', () => {
    expect(labels('m.a', 'm.b')).toEqual(['GO [ready && (!busy || in(b.inner) || busy || ready)]', 'after(1000)']);
  });

  it('writes named guards and actions with their params: strings as they are, other values with their key', () => {
    expect(find(graph.root, 'm.a')?.activities).toEqual([
      'entry / armTimers(rekey: false)',
      'PING / note, assign',
      'DONE [kernelAnswered(install)] / step(child.onDone, rekey)',
      'IGNORED',
    ]);
  });

  it('writes eventless transitions as always, and a done event by the state that is done', () => {
    expect(labels('m.b.inner', 'm.b.last')).toEqual(['always [ready]']);
    expect(labels('m.b', 'm.c')).toEqual(['done(b)']);
  });
});
