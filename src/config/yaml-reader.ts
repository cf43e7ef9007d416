/**
 * Typed reading of a YAML node tree with a diagnostic for everything that does not fit, each at
 * the line and column of the node concerned. The loader describes the schema with these calls and
 * keeps going after a problem, so one run reports every error in the file.
 */
import { isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Scalar } from 'yaml';
import { printable, quoted, type ConfigDiagnostic } from './config-diagnostic.js';

/** A value in the document and where it is: `offset` is used when there is no node (a missing key). */
export interface Field {
  readonly node: Node | null;
  readonly path: string;
  readonly offset: number;
}

/** A key of a mapping: the value's field plus where the key itself is written. */
export interface Entry extends Field {
  readonly key: string;
  readonly keyOffset: number;
}

export class Reporter {
  readonly diagnostics: ConfigDiagnostic[] = [];
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  at(severity: ConfigDiagnostic['severity'], offset: number, path: string, message: string): void {
    const { line, col } = this.lines.linePos(Math.max(0, offset));
    // Values are quoted (and cut) where a message names them; this is the backstop for the rest
    // (the YAML parser's own messages, keys inside paths).
    this.diagnostics.push({ severity, file: this.file, line, column: col, path: printable(path), message: printable(message) });
  }

  error(field: Field, message: string): void {
    this.at('error', offsetOf(field), field.path, message);
  }

  warning(field: Field, message: string): void {
    this.at('warning', offsetOf(field), field.path, message);
  }

  lineOf(offset: number): number {
    return this.lines.linePos(Math.max(0, offset)).line;
  }

  get errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === 'error').length;
  }
}

export function offsetOf(field: Field): number {
  return field.node?.range?.[0] ?? field.offset;
}

/** How a value reads in a message. Secrets are described by kind only. */
export function describe(node: Node | null, secret = false): string {
  if (node === null) return 'an empty value';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'an empty value';
    if (typeof v === 'string') return secret ? 'a string' : quoted(v);
    if (typeof v === 'number') return secret ? 'a number' : `${v}`;
    if (typeof v === 'boolean') return secret ? 'a boolean' : `${v}`;
  }
  return 'a value of another type';
}

/**
 * Aliases are refused rather than followed: nested aliases can expand exponentially, and named
 * policies already give the sharing anchors would.
 */
function refuseAlias(r: Reporter, field: Field): boolean {
  if (field.node !== null && isAlias(field.node)) {
    r.error(field, 'YAML aliases (*name) are not supported; define a named policy and refer to it instead');
    return true;
  }
  return false;
}

/**
 * The entries of a mapping in file order. Keys must be strings (numbers are taken as their text);
 * duplicates and, when `allowed` is given, unknown keys are errors. Returns undefined when the
 * value is not a mapping.
 */
export function readMap(r: Reporter, field: Field, allowed?: readonly string[], what = 'a mapping'): Entry[] | undefined {
  if (refuseAlias(r, field)) return undefined;
  const node = field.node;
  if (node === null || !isMap(node)) {
    r.error(field, `expected ${what}; got ${describe(node)}`);
    return undefined;
  }
  const entries: Entry[] = [];
  const seen = new Map<string, number>();
  for (const pair of node.items) {
    const keyNode = pair.key as Node | null;
    const keyOffset = keyNode?.range?.[0] ?? node.range?.[0] ?? field.offset;
    const keyField: Field = { node: keyNode, path: field.path, offset: keyOffset };
    if (keyNode === null || !isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
      r.error(keyField, `keys must be names; got ${describe(keyNode)}`);
      continue;
    }
    const key = String(keyNode.value);
    const first = seen.get(key);
    if (first !== undefined) {
      r.error(keyField, `duplicate key ${quoted(key)} (first defined at line ${r.lineOf(first)})`);
      continue;
    }
    seen.set(key, keyOffset);
    if (allowed !== undefined && !allowed.includes(key)) {
      r.error(keyField, `unknown key ${quoted(key)}; allowed: ${allowed.join(', ')}`);
      continue;
    }
    const valueNode = (pair.value as Node | null) ?? null;
    // A missing value (`key:`) is reported at the key, where the operator wrote it.
    entries.push({ key, node: valueNode, path: join(field.path, key), offset: valueNode?.range?.[0] ?? keyOffset, keyOffset });
  }
  return entries;
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Index entries by key; reports missing required ones at `field` (the mapping or its key).
 * `undefined` entries (the value was not a mapping, already reported) require nothing.
 */
export function byKey(r: Reporter, field: Field, entries: readonly Entry[] | undefined, required: readonly string[] = []): Map<string, Entry> {
  const map = new Map((entries ?? []).map((e) => [e.key, e]));
  if (entries !== undefined) for (const key of required) if (!map.has(key)) r.error(field, `missing key '${key}'`);
  return map;
}

function scalarValue(field: Field): unknown {
  return field.node !== null && isScalar(field.node) ? field.node.value : undefined;
}

export function readString(r: Reporter, field: Field, options: { secret?: boolean; what?: string } = {}): string | undefined {
  if (refuseAlias(r, field)) return undefined;
  const v = scalarValue(field);
  if (typeof v !== 'string') {
    r.error(field, `expected ${options.what ?? 'a string'}; got ${describe(field.node, options.secret)}`);
    return undefined;
  }
  return v;
}

export function readBoolean(r: Reporter, field: Field): boolean | undefined {
  if (refuseAlias(r, field)) return undefined;
  const v = scalarValue(field);
  if (typeof v !== 'boolean') {
    r.error(field, `expected true or false; got ${describe(field.node)}`);
    return undefined;
  }
  return v;
}

export function readInteger(r: Reporter, field: Field, min: number, max: number, what = 'an integer'): number | undefined {
  if (refuseAlias(r, field)) return undefined;
  const v = scalarValue(field);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    r.error(field, `expected ${what} from ${min} to ${max}; got ${describe(field.node)}`);
    return undefined;
  }
  return v;
}

export function readNumber(r: Reporter, field: Field, min: number, max: number, what = 'a number'): number | undefined {
  if (refuseAlias(r, field)) return undefined;
  const v = scalarValue(field);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    r.error(field, `expected ${what} from ${min} to ${max}; got ${describe(field.node)}`);
    return undefined;
  }
  return v;
}

/** A string or number scalar's value (durations take both); undefined with an error otherwise. */
export function readScalar(r: Reporter, field: Field, what: string): string | number | undefined {
  if (refuseAlias(r, field)) return undefined;
  const v = scalarValue(field);
  if (typeof v !== 'string' && typeof v !== 'number') {
    r.error(field, `expected ${what}; got ${describe(field.node)}`);
    return undefined;
  }
  return v;
}

/** The items of a list, each with its path `path[i]`. */
export function readList(r: Reporter, field: Field, what = 'a list'): Field[] | undefined {
  if (refuseAlias(r, field)) return undefined;
  const node = field.node;
  if (node === null || !isSeq(node)) {
    r.error(field, `expected ${what}; got ${describe(node)}`);
    return undefined;
  }
  return node.items.map((item, i) => {
    const n = (item as Node | null) ?? null;
    return { node: n, path: `${field.path}[${i}]`, offset: n?.range?.[0] ?? offsetOf(field) };
  });
}

/**
 * The document offset of character `index` of a string scalar's value, so an error inside a
 * proposal string points at the keyword. Exact for plain and quoted scalars written on one line
 * without escapes (every proposal in practice); otherwise the scalar's start.
 */
export function offsetInString(field: Field, source: string, index: number): number {
  const node = field.node;
  const start = offsetOf(field);
  if (node === null || !isScalar(node) || typeof node.value !== 'string' || node.range === undefined || node.range === null) return start;
  const scalar = node as Scalar<string>;
  const [from, to] = node.range;
  const written = source.slice(from, to);
  const quoted = scalar.type === 'QUOTE_DOUBLE' || scalar.type === 'QUOTE_SINGLE';
  const inner = quoted ? written.slice(1, -1) : written;
  if (inner !== scalar.value) return start;
  return from + (quoted ? 1 : 0) + Math.min(Math.max(0, index), inner.length);
}
