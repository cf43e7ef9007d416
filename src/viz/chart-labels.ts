/**
 * The text a chart shows for an XState event, guard or action, read from the machine's definition:
 * names as the machine's `setup()` gives them, with their params, so a reader finds them in the
 * source. Guards and actions are typed loosely here on purpose: a definition holds strings,
 * `{ type, params }` objects and functions (XState's own guard combinators, inline actions), and
 * each is shown as far as it can be read.
 */
import { and, not, or, stateIn } from 'xstate';

// XState's combinators are functions that carry their `check` and operands; comparing `check`
// with that of a fresh combinator tells them apart without relying on function names.
const AND_CHECK = checkOf(and([]));
const OR_CHECK = checkOf(or([]));
const NOT_CHECK = checkOf(not(() => true));
const STATE_IN_CHECK = checkOf(stateIn('#'));

function checkOf(guard: unknown): unknown {
  return (guard as { check?: unknown }).check;
}

/** What a state path is called in a label: relative to the state the transition leaves from. */
export interface LabelScope {
  readonly machineId: string;
  /** The path of the state that holds the transition (empty for the machine itself). */
  readonly source: readonly string[];
}

/** `always`, `after(1000)`, `done(region)`, or the event type as the machine names it. */
export function eventLabel(eventType: string, sourceId: string, scope: LabelScope): string {
  if (eventType === '') return 'always';
  const after = `xstate.after.`;
  if (eventType.startsWith(after) && eventType.endsWith(`.${sourceId}`)) return `after(${eventType.slice(after.length, -sourceId.length - 1)})`;
  const done = 'xstate.done.state.';
  if (eventType.startsWith(done)) return `done(${relativePath(eventType.slice(done.length), scope)})`;
  return eventType;
}

/** `name`, `name(params)`, `a && (b || !c)`, `in(region.state)`. */
export function guardLabel(guard: unknown, scope: LabelScope): string {
  return guardText(guard, scope, false);
}

function guardText(guard: unknown, scope: LabelScope, nested: boolean): string {
  if (typeof guard === 'function') {
    const check = checkOf(guard);
    const operands = (guard as { guards?: unknown[] }).guards ?? [];
    // `a || (b || c)` reads as `a || b || c`: only a different operator needs parentheses.
    const join = (op: string) => {
      const text = operands.map((g) => guardText(g, scope, checkOf(g) !== check)).join(` ${op} `);
      return nested && operands.length > 1 ? `(${text})` : text;
    };
    if (check === AND_CHECK) return join('&&');
    if (check === OR_CHECK) return join('||');
    if (check === NOT_CHECK) return `!${guardText(operands[0], scope, true)}`;
    if (check === STATE_IN_CHECK) return `in(${stateValueText((guard as { stateValue?: unknown }).stateValue, scope)})`;
    return guard.name === '' ? 'inline' : guard.name;
  }
  return namedText(guard);
}

/** An action: its name and params, or what XState calls a built-in one (`assign`, `raise`). */
export function actionLabel(action: unknown): string {
  if (typeof action === 'function') {
    const type = (action as { type?: unknown }).type;
    if (typeof type === 'string') return type.replace(/^xstate\./, '');
    return action.name === '' ? 'inline' : action.name;
  }
  return namedText(action);
}

/** A reference by name: `'name'` or `{ type: 'name', params }`. */
function namedText(ref: unknown): string {
  if (typeof ref === 'string') return ref;
  if (typeof ref === 'object' && ref !== null && typeof (ref as { type?: unknown }).type === 'string') {
    const { type, params } = ref as { type: string; params?: unknown };
    return `${type}${paramsText(params)}`;
  }
  return String(ref);
}

/**
 * Params as the source gives them: strings are names already (`step(rekeyIke.request)`), other
 * values need their key to mean anything (`armTimers(rekey: false)`).
 */
function paramsText(params: unknown): string {
  if (params === undefined) return '';
  if (typeof params === 'function') return '(…)';
  if (typeof params !== 'object' || params === null) return `(${String(params)})`;
  const entries = Object.entries(params);
  if (entries.every(([, v]) => typeof v === 'string')) return `(${entries.map(([, v]) => v as string).join(', ')})`;
  return `(${entries.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')})`;
}

function stateValueText(value: unknown, scope: LabelScope): string {
  if (typeof value === 'string') return relativePath(value.replace(/^#/, ''), scope);
  return JSON.stringify(value);
}

/**
 * `ikeSa.established.window.idle` seen from `established.answering.idle` is `window.idle`: the
 * machine's id and the ancestors both share go, at least the last segment stays.
 */
export function relativePath(id: string, scope: LabelScope): string {
  const segments = id.split('.');
  if (segments[0] === scope.machineId) segments.shift();
  let common = 0;
  while (common < segments.length - 1 && common < scope.source.length && segments[common] === scope.source[common]) common++;
  return segments.slice(common).join('.');
}
