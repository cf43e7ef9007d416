/**
 * The graph a chart is drawn from has what the machine has: the IKE SA machine's state nodes are
 * walked here, each state and each transition looked up in the graph, so that neither can be
 * dropped on the way to the drawing.
 */
import { describe, expect, it } from 'vitest';
import type { AnyStateNode } from 'xstate';
import { createIkeSaLogic } from '../../machines/ikev2/ike-sa.js';
import { readChart, type ChartState } from '../../src/viz/chart-graph.js';
import { inertPorts } from '../../src/viz/inert-ports.js';

const machine = createIkeSaLogic(inertPorts());
const graph = readChart(machine);

function machineStates(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap(machineStates)];
}

function chartStates(state: ChartState): ChartState[] {
  return [state, ...state.children.flatMap(chartStates)];
}

const nodes = machineStates(machine.root);
const states = new Map(chartStates(graph.root).map((s) => [s.id, s]));
const edge = (source: string, target: string) => graph.transitions.find((t) => t.source === `ikeSa.${source}` && t.target === `ikeSa.${target}`);
const isActivity = (line: string) => /^(entry|exit|invoke) \/ /.test(line);

describe('the IKE SA chart read from the machine', () => {
  it('has every state of the machine, as deep as it is nested, with its kind', () => {
    expect(nodes.map((n) => n.id)).toContain('ikeSa.established.window.rekeyingIke.awaitingResponse');
    expect([...states.keys()].sort()).toEqual(nodes.map((n) => n.id).sort());
    for (const node of nodes) expect(states.get(node.id)?.kind, node.id).toBe(node.type);
  });

  it('has every transition: one with a target as a label line of an edge, one without as a line in its state', () => {
    let targeted = 0;
    let targetless = 0;
    for (const node of nodes) {
      for (const t of [...[...node.transitions.values()].flat(), ...(node.always ?? [])]) {
        const event = t.eventType === '' ? 'always' : t.eventType;
        if (t.target === undefined || t.target.length === 0) {
          targetless++;
          expect(states.get(node.id)?.activities.some((line) => line.startsWith(event)), `${node.id}: ${event}`).toBe(true);
          continue;
        }
        for (const target of t.target) {
          targeted++;
          const drawn = graph.transitions.find((e) => e.source === node.id && e.target === target.id);
          expect(drawn?.labels.some((line) => line.startsWith(event)), `${node.id} → ${target.id}: ${event}`).toBe(true);
        }
      }
    }
    // Nothing merged away: as many label lines and state lines as the machine has transitions.
    expect(graph.transitions.flatMap((t) => t.labels)).toHaveLength(targeted);
    expect([...states.values()].flatMap((s) => s.activities.filter((line) => !isActivity(line)))).toHaveLength(targetless);
  });

  it('draws the procedures the window starts as guarded eventless edges, and what a command does in its state', () => {
    expect(edge('established.window.idle', 'established.window.rekeyingIke')?.labels).toEqual(['always [next(rekey-ike)]']);
    expect(states.get('ikeSa.established.succession.current')?.activities).toContain('REKEY_IKE_SA / step(rekeyIke.request)');
    expect(edge('established.succession.current', 'established.succession.handingOver.deletingOld')?.labels).toEqual(['IKE_SA_HANDED_OVER [deletedByUs]']);
    expect(edge('established.window.rekeyingIke.awaitingResponse', 'established.window.rekeyingIke.simultaneous')?.labels).toEqual(['IKE_REKEY_COLLISION']);
  });

  it('gives each guarded transition between the same two states its own line, guards relative to the source', () => {
    expect(edge('established', 'closing.deletedByPeer')?.labels).toEqual([
      'IKE_SA_DELETED_BY_PEER [in(window.rekeyingIke.simultaneous)]',
      'IKE_SA_DELETED_BY_PEER [in(succession.handingOver)]',
      'IKE_SA_DELETED_BY_PEER [in(succession.redundant)]',
      'IKE_SA_DELETED_BY_PEER',
    ]);
  });

  it('marks the parallel state and its regions, where compound states start, and the final state', () => {
    const established = states.get('ikeSa.established');
    expect(established?.kind).toBe('parallel');
    expect(established?.children.map((r) => [r.name, r.region])).toEqual([
      ['window', true],
      ['answering', true],
      ['succession', true],
    ]);
    expect(states.get('ikeSa.established.window.idle')?.region).toBe(false);
    expect(graph.root.initial).toBe('ikeSa.starting');
    expect(states.get('ikeSa.established.window.rekeyingChild')?.initial).toBe('ikeSa.established.window.rekeyingChild.allocatingSpi');
    expect(states.get('ikeSa.closed')?.kind).toBe('final');
    expect(states.get('ikeSa.closed')?.activities).toEqual(['entry / step(closing.close)']);
  });
});
