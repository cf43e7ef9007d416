/**
 * A value as JSON sees it, ready for JSON.stringify: objects and arrays copied, `toJSON`
 * honoured (so an object that holds keys and prints as "[redacted]" stays so), every Buffer or
 * Uint8Array as `{ hex }` (JSON would hand out a Buffer as an array of numbers, which costs more
 * than the rest of a line), a bigint as its digits. Shared by the records (record-entry.ts) and
 * the inspector's stream (src/daemon/daemon-inspector.ts).
 */
export interface JsonViewOptions {
  /**
   * Another view of one object, or undefined to walk it as usual; `view` walks what it keeps
   * (the inspector collapses messages and redacts AUTH data this way).
   */
  readonly rewrite?: (record: Record<string, unknown>, view: (value: unknown) => unknown) => unknown;
  /** Deeper than this, '[too deep]' (an event of an actor system may nest far). Default: no limit. */
  readonly maxDepth?: number;
}

export function jsonView(value: unknown, options: JsonViewOptions = {}, depth = 0): unknown {
  if (depth > (options.maxDepth ?? Infinity)) return '[too deep]';
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  const view = (v: unknown): unknown => jsonView(v, options, depth + 1);
  if (value instanceof Uint8Array) return { hex: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') };
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return view((toJSON as () => unknown).call(value));
  if (Array.isArray(value)) return value.map(view);
  const record = value as Record<string, unknown>;
  const rewritten = options.rewrite?.(record, view);
  if (rewritten !== undefined) return rewritten;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) out[key] = view(v);
  return out;
}
