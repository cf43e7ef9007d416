/**
 * Writes one log record made of bindings (who it is about: an SA's connection and SPIs, a
 * component) and fields (what happened), as the engine's log effects carry them.
 */
import type { LogPort } from '../ports.js';

export type LogRecordLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  readonly level: LogRecordLevel;
  readonly bindings: object;
  readonly fields: object;
  readonly message: string;
}

/**
 * Bindings and fields with each key once: pino writes a child's bindings and the record's fields
 * side by side, so a key in both appeared twice in one JSON line (`spiR`, `connection`). A field
 * equal to the binding says nothing more and goes; a field that differs wins over the binding
 * (the call site said it explicitly).
 */
export function distinctFields(bindings: object, fields: object): { bindings: Record<string, unknown>; fields: Record<string, unknown> } {
  const b = bindings as Record<string, unknown>;
  const f = fields as Record<string, unknown>;
  let outBindings: Record<string, unknown> | undefined;
  let outFields: Record<string, unknown> | undefined;
  for (const key of Object.keys(f)) {
    if (!Object.hasOwn(b, key)) continue;
    if (Object.is(f[key], b[key])) {
      outFields ??= { ...f };
      delete outFields[key];
    } else {
      outBindings ??= { ...b };
      delete outBindings[key];
    }
  }
  return { bindings: outBindings ?? b, fields: outFields ?? f };
}

/** One record, bindings as a child logger's (so they print first), each key once. */
export function writeRecord(log: LogPort, record: LogRecord): void {
  if (log.isLevelEnabled?.(record.level) === false) return;
  const { bindings, fields } = distinctFields(record.bindings, record.fields);
  const target = Object.keys(bindings).length === 0 ? log : log.child(bindings);
  target[record.level](fields, record.message);
}
