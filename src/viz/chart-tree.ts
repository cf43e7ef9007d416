/** The states of a chart by id, each with its parent: what placing an edge in the hierarchy needs. */
import type { ChartGraph, ChartState } from './chart-graph.js';

export class ChartTree {
  private readonly byId = new Map<string, ChartState>();
  private readonly parents = new Map<string, ChartState>();

  constructor(graph: ChartGraph) {
    const walk = (state: ChartState, parent: ChartState | undefined) => {
      this.byId.set(state.id, state);
      if (parent !== undefined) this.parents.set(state.id, parent);
      for (const child of state.children) walk(child, state);
    };
    walk(graph.root, undefined);
  }

  /** Every state, outer ones before the ones inside them. */
  states(): IterableIterator<ChartState> {
    return this.byId.values();
  }

  state(id: string): ChartState {
    const state = this.byId.get(id);
    if (state === undefined) throw new Error(`the chart has no state ${id}`);
    return state;
  }

  parent(state: ChartState): ChartState | undefined {
    return this.parents.get(state.id);
  }

  /** The state and its ancestors, outermost first. */
  lineage(state: ChartState): ChartState[] {
    const chain = [state];
    for (let p = this.parent(state); p !== undefined; p = this.parent(p)) chain.unshift(p);
    return chain;
  }

  /**
   * Where an edge between two states belongs: the innermost state holding both, or the end that
   * holds the other (a compound state's transition into its own child); a loop, in its parent.
   */
  edgeContainer(source: ChartState, target: ChartState): ChartState {
    if (source === target) return this.parent(source) ?? source;
    const a = this.lineage(source);
    const b = this.lineage(target);
    let common = 0;
    while (common < a.length && common < b.length && a[common] === b[common]) common++;
    const container = a[common - 1];
    if (container === undefined) throw new Error(`${source.id} and ${target.id} have no common state`);
    return container;
  }
}
