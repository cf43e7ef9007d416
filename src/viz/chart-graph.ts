/**
 * A machine's state chart as a graph, read from its definition (the state nodes XState built from
 * the config), not from a run: states nested as they are in the chart, transitions with a target
 * as edges, and what a state does without leaving it as lines of text in its box.
 *
 * What goes where, to keep a big chart readable:
 * - A transition with a target is an edge labelled `EVENT [guard]` (`always [guard]` for an
 *   eventless one); its actions are left out. Transitions between the same two states share one
 *   edge with one label line each.
 * - A transition without a target (it runs actions, or only stops the event from reaching the
 *   parent state) is a line in its state's box, `EVENT [guard] / actions`, under the state's
 *   `entry / actions` and `exit / actions`.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { actionLabel, eventLabel, guardLabel, type LabelScope } from './chart-labels.js';

export type StateKind = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface ChartState {
  /** XState's id of the state: the machine's id and the path, `ikeSa.established.window.idle`. */
  readonly id: string;
  /** The path from the machine, `['established', 'window', 'idle']`; empty for the machine. */
  readonly path: readonly string[];
  /** The state's key; the machine's id for the machine itself. */
  readonly name: string;
  readonly kind: StateKind;
  /** A region of a parallel state: active together with its siblings. */
  readonly region: boolean;
  /** The id of the child a compound state starts in. */
  readonly initial: string | undefined;
  /** Entry and exit actions, invoked actors and targetless transitions, one line each. */
  readonly activities: readonly string[];
  readonly children: readonly ChartState[];
}

export interface ChartTransition {
  readonly source: string;
  readonly target: string;
  /** One line per transition between these two states: `EVENT [guard]`. */
  readonly labels: readonly string[];
}

export interface ChartGraph {
  readonly root: ChartState;
  readonly transitions: readonly ChartTransition[];
}

/** The transitions between two states, keyed by both. */
type Edges = Map<string, { source: string; target: string; labels: string[] }>;

export function readChart(machine: AnyStateMachine): ChartGraph {
  const edges: Edges = new Map();
  const root = readState(machine.root, machine.id, false, edges);
  return { root, transitions: [...edges.values()] };
}

function readState(node: AnyStateNode, machineId: string, region: boolean, edges: Edges): ChartState {
  const scope: LabelScope = { machineId, source: node.path };
  const activities: string[] = [];
  const entry = node.entry.filter((a) => !armsAfterTimer(a));
  const exit = node.exit.filter((a) => !armsAfterTimer(a));
  if (entry.length > 0) activities.push(`entry / ${entry.map(actionLabel).join(', ')}`);
  if (exit.length > 0) activities.push(`exit / ${exit.map(actionLabel).join(', ')}`);
  for (const invoked of node.invoke) activities.push(`invoke / ${typeof invoked.src === 'string' ? invoked.src : invoked.id}`);

  const transitions = [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
  for (const t of transitions) {
    const event = eventLabel(t.eventType, node.id, scope);
    const guarded = t.guard === undefined ? event : `${event} [${guardLabel(t.guard, scope)}]`;
    if (t.target === undefined || t.target.length === 0) {
      activities.push(t.actions.length === 0 ? guarded : `${guarded} / ${t.actions.map(actionLabel).join(', ')}`);
      continue;
    }
    for (const target of t.target) {
      const key = `${node.id}\u0000${target.id}`;
      const edge = edges.get(key) ?? { source: node.id, target: target.id, labels: [] };
      edge.labels.push(guarded);
      edges.set(key, edge);
    }
  }

  const children = Object.values(node.states).map((child) => readState(child, machineId, node.type === 'parallel', edges));
  const initial = node.type === 'compound' ? node.initial.target[0]?.id : undefined;
  return {
    id: node.id,
    path: node.path,
    name: node.path.length === 0 ? machineId : node.key,
    kind: node.type,
    region,
    initial,
    activities,
    children,
  };
}

/**
 * XState arms the timer of an `after` transition with a delayed raise on entry and cancels it on
 * exit; the transition's edge, `after(delay)`, says that already.
 */
function armsAfterTimer(action: unknown): boolean {
  if (typeof action !== 'function') return false;
  const { type, id, sendId } = action as { type?: unknown; id?: unknown; sendId?: unknown };
  const timer = type === 'xstate.raise' ? id : type === 'xstate.cancel' ? sendId : undefined;
  return typeof timer === 'string' && timer.startsWith('xstate.after.');
}
