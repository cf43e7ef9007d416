/**
 * The steps the inspector page shows (inspector-steps.ts), as a source gives them: a record all
 * at once, a live daemon one by one. Pages that connect late get everything kept so far, then
 * what follows. A live daemon runs for months: only the newest `maxSteps` are kept.
 */
import type { InspectorStep } from './inspector-steps.js';

export interface FeedSource {
  /** `record` (a file, stepped through) or `live` (a daemon's control socket, followed). */
  readonly kind: 'record' | 'live';
  /** The file or the socket, as the page titles it. */
  readonly name: string;
}

export interface FeedListener {
  step(step: InspectorStep): void;
  /** Nothing more will come: the record is all there, or the daemon went away (with why). */
  end(reason: string): void;
}

export const DEFAULT_MAX_STEPS = 20_000;

export class InspectorFeed {
  private readonly steps: InspectorStep[] = [];
  private readonly listeners = new Set<FeedListener>();
  private endReason: string | undefined;

  constructor(
    readonly source: FeedSource,
    private readonly maxSteps = DEFAULT_MAX_STEPS,
  ) {}

  add(step: InspectorStep): void {
    if (this.endReason !== undefined) return;
    this.steps.push(step);
    // Dropped in blocks, not one by one: a shift per step would copy the array each time.
    if (this.steps.length > this.maxSteps + this.maxSteps / 10) this.steps.splice(0, this.steps.length - this.maxSteps);
    for (const listener of this.listeners) listener.step(step);
  }

  end(reason: string): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    for (const listener of this.listeners) listener.end(reason);
  }

  get ended(): string | undefined {
    return this.endReason;
  }

  /** Replays what is kept to `listener`, then keeps it informed until the returned function is called. */
  follow(listener: FeedListener): () => void {
    for (const step of this.steps.slice(-this.maxSteps)) listener.step(step);
    if (this.endReason !== undefined) {
      listener.end(this.endReason);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
