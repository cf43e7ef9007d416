/**
 * A binary min-heap whose nodes remember their own position, so any node (not only the top) can
 * be removed or re-keyed in O(log n). The virtual scheduler needs exactly that: cancelling one of
 * 100 000 pending timers must not scan the queue, and must not leave a dead entry behind either.
 */

/** A node the heap can track: `heapIndex` is owned by the heap (-1 while the node is outside it). */
export interface HeapNode {
  heapIndex: number;
}

export class IndexedMinHeap<T extends HeapNode> {
  readonly #nodes: T[] = [];

  /** `precedes(a, b)` is true when `a` must come out before `b`; it must be a strict total order. */
  constructor(private readonly precedes: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#nodes.length;
  }

  peek(): T | undefined {
    return this.#nodes[0];
  }

  push(node: T): void {
    if (node.heapIndex !== -1) throw new Error('IndexedMinHeap: node is already in a heap');
    node.heapIndex = this.#nodes.length;
    this.#nodes.push(node);
    this.#siftUp(node.heapIndex);
  }

  pop(): T | undefined {
    const top = this.#nodes[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `node` wherever it sits; a node that is not in the heap is ignored. */
  remove(node: T): void {
    const index = node.heapIndex;
    if (index < 0 || this.#nodes[index] !== node) return;
    const last = this.#nodes.pop() as T;
    node.heapIndex = -1;
    if (last === node) return;
    this.#nodes[index] = last;
    last.heapIndex = index;
    // The node moved into the hole may belong above or below it.
    this.#siftUp(index);
    this.#siftDown(last.heapIndex);
  }

  #siftUp(start: number): void {
    const nodes = this.#nodes;
    const node = nodes[start] as T;
    let index = start;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = nodes[parentIndex] as T;
      if (!this.precedes(node, parent)) break;
      nodes[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    nodes[index] = node;
    node.heapIndex = index;
  }

  #siftDown(start: number): void {
    const nodes = this.#nodes;
    const length = nodes.length;
    const node = nodes[start] as T;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = nodes[left] as T;
      let childIndex = left;
      if (right < length && this.precedes(nodes[right] as T, child)) {
        child = nodes[right] as T;
        childIndex = right;
      }
      if (!this.precedes(child, node)) break;
      nodes[index] = child;
      child.heapIndex = index;
      index = childIndex;
    }
    nodes[index] = node;
    node.heapIndex = index;
  }
}
