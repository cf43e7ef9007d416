/**
 * The safety net every log record passes through before pino serializes it: a bounded-depth copy
 * in which
 * - binary values (Buffer, any typed array, ArrayBuffer) become `[N octets]`, because keys,
 *   shared secrets and DH private values are Buffers, and the one Buffer a reader wants to see
 *   (an SPI) is logged by convention as a hex string under `spiI`, `spiR` or `spi`;
 * - fields with a secret name (secret-fields.ts) become `[Redacted]` at any depth (pino's
 *   path-based redaction only reaches the depths it lists);
 * - Errors become pino's usual `{ type, message, stack, ... }`, their own fields scrubbed too;
 * - anything deeper than the bound, and cycles, become a placeholder rather than passing through
 *   unexamined.
 */
import pino from 'pino';
import { isSecretFieldName, REDACTED } from './secret-fields.js';

export const DEFAULT_LOG_DEPTH = 8;

export function octetsPlaceholder(length: number): string {
  return `[${length} octets]`;
}

/** A copy of `value` that is safe to serialize into a log line (see the module comment). */
export function toLogSafe(value: unknown, maxDepth = DEFAULT_LOG_DEPTH): unknown {
  return walk(value, 0, maxDepth, new WeakSet<object>());
}

/** The same, for the record object pino hands to `formatters.log` / `formatters.bindings`. */
export function toLogSafeRecord(record: object, maxDepth = DEFAULT_LOG_DEPTH): Record<string, unknown> {
  const safe = toLogSafe(record, maxDepth);
  return typeof safe === 'object' && safe !== null && !Array.isArray(safe) ? (safe as Record<string, unknown>) : { value: safe };
}

function walk(value: unknown, depth: number, maxDepth: number, ancestors: WeakSet<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) return octetsPlaceholder(value.byteLength);
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return octetsPlaceholder(value.byteLength);
  if (value instanceof Date) return value;
  if (depth >= maxDepth) return Array.isArray(value) ? '[Array]' : '[Object]';
  if (ancestors.has(value)) return '[Circular]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, maxDepth, ancestors));
    // An object that says how it wants to be serialized (e.g. a kernel state that redacts its
    // keys) is logged the way JSON.stringify would show it, scrubbed like the rest.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !(value instanceof Error)) {
      return walk((value as { toJSON(): unknown }).toJSON(), depth, maxDepth, ancestors);
    }
    const source: object = value instanceof Error ? pino.stdSerializers.err(value) : value;
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(source)) {
      copy[key] = isSecretFieldName(key) ? REDACTED : walk((source as Record<string, unknown>)[key], depth + 1, maxDepth, ancestors);
    }
    return copy;
  } finally {
    ancestors.delete(value);
  }
}
