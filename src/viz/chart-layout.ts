/**
 * Places a chart's states, initial marks, edges and edge labels with ELK's layered algorithm over
 * the whole hierarchy at once (`INCLUDE_CHILDREN`), so that edges between nested states are routed
 * across their boxes. Every box is sized here from its text (text-width.ts); ELK gives positions
 * back in the chart's coordinates. ELK is deterministic: the same chart gives the same layout.
 */
// The bundle runs ELK in this process (no worker). It is CommonJS: its constructor is both the
// module and the module's `default`, which is what TypeScript sees.
import elk from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { ChartGraph, ChartState } from './chart-graph.js';
import { ChartTree } from './chart-tree.js';
import { textBlock, type TextBlock, type TextStyle } from './text-block.js';

export const NAME_STYLE: TextStyle = { fontSize: 13, lineHeight: 17, bold: true };
export const DETAIL_STYLE: TextStyle = { fontSize: 11, lineHeight: 14, bold: false };
export const LABEL_STYLE: TextStyle = { fontSize: 11, lineHeight: 14, bold: false };

/** Inside a state's box: around its text, between its name and the lines below, around children. */
export const BOX = { padX: 10, padY: 6, gap: 4, padChildren: 14, minWidth: 70 } as const;
export const INITIAL_MARK_SIZE = 12;
/** Past these widths a line in a state's box, or of an edge label, is broken. */
const DETAIL_MAX_WIDTH = 420;
const LABEL_MAX_WIDTH = 300;

export type LayoutDirection = 'DOWN' | 'RIGHT';

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedState extends Box {
  readonly state: ChartState;
  readonly name: TextBlock;
  /** Entry and exit actions, targetless transitions: the lines under the name. */
  readonly activities: TextBlock;
}

export interface PlacedEdge {
  readonly source: string;
  readonly target: string;
  /** From the source's border to the target's; the arrowhead goes at the last point. */
  readonly points: readonly Point[];
  readonly label: (Box & { readonly text: TextBlock }) | undefined;
}

export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  /** Outer states before the states inside them: drawn in this order, boxes nest. */
  readonly states: readonly PlacedState[];
  /** The dots marking where compound states start, each with an edge to its initial child. */
  readonly initialMarks: readonly Box[];
  readonly edges: readonly PlacedEdge[];
}

/** ELK reads these per graph: the chart's and each compound state's. */
const GRAPH_OPTIONS = {
  'elk.edgeRouting': 'ORTHOGONAL',
  // Straighter edges and a narrower chart than the default node placement (Brandes-Köpf).
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
};

/** A label on its edge, not beside it: among parallel edges a label beside one is ambiguous. */
const LABEL_OPTIONS = { 'elk.edgeLabels.inline': 'true' };

/**
 * A state with transitions to this many of its siblings puts them all in one layer, a row as wide
 * as all of them together (the IKE SA's `window.idle` starts six procedures): ELK splits that
 * layer in two.
 */
const FAN_OUT_TO_SPLIT = 5;

const initialMarkId = (state: ChartState) => `${state.id}#initial`;

interface SizedState {
  readonly state: ChartState;
  readonly name: TextBlock;
  readonly activities: TextBlock;
}

interface EdgeInfo {
  readonly source: string;
  readonly target: string;
  readonly text: TextBlock | undefined;
}

export async function layoutChart(graph: ChartGraph, direction: LayoutDirection): Promise<ChartLayout> {
  const tree = new ChartTree(graph);
  const builder = new ElkGraphBuilder(direction, wideFanOuts(graph, tree));
  // The machine is a box of the drawing too: a transition of the machine itself (an event it
  // takes in any state) leaves from that box's border, and ELK's root graph cannot be an edge's end.
  const root: ElkNode = {
    id: 'chart',
    children: [builder.node(graph.root)],
    layoutOptions: {
      ...GRAPH_OPTIONS,
      'elk.algorithm': 'layered',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.direction': direction,
      'elk.padding': '[top=0,left=0,bottom=0,right=0]',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
      // States keep the order the machine defines them in where ELK can (it fails on these two
      // set on a nested graph).
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.crossingMinimization.forceNodeModelOrder': 'true',
    },
  };
  for (const state of tree.states()) {
    if (state.initial !== undefined) builder.edge(state, initialMarkId(state), tree.state(state.initial), undefined);
  }
  for (const t of graph.transitions) {
    const source = tree.state(t.source);
    const target = tree.state(t.target);
    builder.edge(tree.edgeContainer(source, target), source.id, target, textBlock(t.labels, LABEL_STYLE, LABEL_MAX_WIDTH));
  }

  const laidOut = await new elk.default().layout(root);
  return builder.read(laidOut);
}

/** The ELK graph of a chart, and what its laid-out nodes and edges stand for. */
class ElkGraphBuilder {
  private readonly sized = new Map<string, SizedState>();
  private readonly nodes = new Map<string, ElkNode>();
  private readonly edges = new Map<string, EdgeInfo>();

  constructor(
    private readonly direction: LayoutDirection,
    private readonly wideFanOut: ReadonlySet<string>,
  ) {}

  /** A state as an ELK node sized from its text; a compound state holds its children and a mark. */
  node(state: ChartState): ElkNode {
    const name = textBlock([state.name], NAME_STYLE, Number.POSITIVE_INFINITY);
    const activities = textBlock(state.activities, DETAIL_STYLE, DETAIL_MAX_WIDTH);
    this.sized.set(state.id, { state, name, activities });
    const headerWidth = Math.ceil(Math.max(name.width, activities.width) + 2 * BOX.padX);
    const headerHeight = Math.ceil(BOX.padY + name.height + (activities.lines.length > 0 ? BOX.gap + activities.height : 0) + BOX.padY);
    let node: ElkNode;
    if (state.children.length === 0) {
      node = { id: state.id, width: Math.max(BOX.minWidth, headerWidth), height: headerHeight };
    } else {
      const children = state.children.map((child) => this.node(child));
      if (state.initial !== undefined) children.unshift({ id: initialMarkId(state), width: INITIAL_MARK_SIZE, height: INITIAL_MARK_SIZE });
      node = {
        id: state.id,
        children,
        layoutOptions: {
          ...GRAPH_OPTIONS,
          'elk.padding': `[top=${headerHeight + BOX.gap},left=${BOX.padChildren},bottom=${BOX.padChildren},right=${BOX.padChildren}]`,
          'elk.nodeSize.constraints': '[MINIMUM_SIZE]',
          'elk.nodeSize.minimum': this.minimumSize(headerWidth, headerHeight + BOX.padChildren),
          ...(this.wideFanOut.has(state.id) ? { 'elk.layered.layerUnzipping.strategy': 'ALTERNATING' } : {}),
        },
      };
    }
    this.nodes.set(state.id, node);
    return node;
  }

  edge(container: ChartState, sourceId: string, target: ChartState, text: TextBlock | undefined): void {
    const id = `edge${this.edges.size}`;
    this.edges.set(id, { source: sourceId, target: target.id, text });
    const edge: ElkExtendedEdge = { id, sources: [sourceId], targets: [target.id] };
    if (text !== undefined) edge.labels = [{ id: `${id}#label`, text: text.lines.join('\n'), width: text.width, height: text.height, layoutOptions: LABEL_OPTIONS }];
    const node = this.nodes.get(container.id);
    if (node === undefined) throw new Error(`no node for ${container.id}, which holds the edge ${sourceId} → ${target.id}`);
    (node.edges ??= []).push(edge);
  }

  read(laidOut: ElkNode): ChartLayout {
    const states: PlacedState[] = [];
    const initialMarks: Box[] = [];
    const edges: PlacedEdge[] = [];
    const visit = (node: ElkNode) => {
      const sized = this.sized.get(node.id);
      if (sized !== undefined) states.push({ ...boxOf(node), ...sized });
      else if (node !== laidOut) initialMarks.push(boxOf(node));
      for (const edge of node.edges ?? []) {
        const info = this.edges.get(edge.id);
        if (info === undefined) throw new Error(`ELK returned an edge ${edge.id} it was not given`);
        const label = edge.labels?.[0];
        edges.push({
          source: info.source,
          target: info.target,
          points: (edge.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]).map(({ x, y }) => ({ x, y })),
          label: info.text === undefined || label === undefined ? undefined : { ...boxOf(label), text: info.text },
        });
      }
      for (const child of node.children ?? []) visit(child);
    };
    visit(laidOut);
    return { width: laidOut.width ?? 0, height: laidOut.height ?? 0, states, initialMarks, edges };
  }

  /**
   * ELK 0.12 reads a compound node's minimum size in its layer coordinates: in a top-down layout
   * it takes width and height swapped (a test checks that every box holds its text).
   */
  private minimumSize(width: number, height: number): string {
    return this.direction === 'DOWN' ? `(${height}, ${width})` : `(${width}, ${height})`;
  }
}

function boxOf(shape: { x?: number; y?: number; width?: number; height?: number }): Box {
  return { x: shape.x ?? 0, y: shape.y ?? 0, width: shape.width ?? 0, height: shape.height ?? 0 };
}

/** The compound states a child of which has transitions to FAN_OUT_TO_SPLIT or more siblings. */
function wideFanOuts(graph: ChartGraph, tree: ChartTree): Set<string> {
  const siblingTargets = new Map<ChartState, Set<string>>();
  for (const t of graph.transitions) {
    const source = tree.state(t.source);
    const parent = tree.parent(source);
    if (parent === undefined || t.target === t.source || tree.parent(tree.state(t.target)) !== parent) continue;
    siblingTargets.set(source, (siblingTargets.get(source) ?? new Set<string>()).add(t.target));
  }
  const wide = new Set<string>();
  for (const [source, targets] of siblingTargets) {
    const parent = tree.parent(source);
    if (parent !== undefined && targets.size >= FAN_OUT_TO_SPLIT) wide.add(parent.id);
  }
  return wide;
}
