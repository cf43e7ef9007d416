/**
 * What the XState inspector shows of an IKE SA, as text: every snapshot of every actor, and per
 * actor the sequence of distinct values of one region of its chart (`window`, `answering`,
 * `succession` of `established`, or the top level), as dotted paths such as
 * `established.window.rekeyingChild.awaitingResponse`. Consecutive repeats are folded, so a trail
 * reads like the inspector's timeline of state changes.
 */
import type { AnyActorRef, InspectionEvent, StateValue } from 'xstate';

export type Region = 'top' | 'window' | 'answering' | 'succession';

/** `{ a: { b: 'c' } }` → `a.b.c`; parallel states are not flattened here (see `regionPath`). */
function path(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, sub] = Object.entries(value)[0] ?? ['', ''];
  return sub === undefined || (typeof sub === 'object' && Object.keys(sub).length === 0) ? key : `${key}.${path(sub as StateValue)}`;
}

/** The value of one region of an IKE SA's state, as a dotted path from the top. */
export function regionPath(value: StateValue, region: Region): string {
  if (typeof value === 'string') return region === 'top' ? value : '';
  const established = (value as Record<string, StateValue>)['established'];
  if (region === 'top') return established === undefined ? path(value) : 'established';
  if (established === undefined || typeof established === 'string') return '';
  const sub = (established as Record<string, StateValue>)[region];
  return sub === undefined ? '' : `established.${region}.${path(sub)}`;
}

export class StateTrails {
  private readonly values = new Map<string, StateValue[]>();

  /** Pass as the engine's (or the Lab's) `inspect` option. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.snapshot') return;
    const value = (event.snapshot as { value?: StateValue }).value;
    if (value === undefined) return;
    const id = (event.actorRef as AnyActorRef).id;
    const list = this.values.get(id) ?? [];
    list.push(value);
    this.values.set(id, list);
  };

  /** Actor ids seen, in order of their first snapshot. */
  actors(filter: (id: string) => boolean = (id) => id.startsWith('ike-') && !id.includes('/child-')): string[] {
    return [...this.values.keys()].filter(filter);
  }

  /** The distinct consecutive values of `region` of actor `id` (empty values, outside the region, left out). */
  trail(id: string, region: Region): string[] {
    const out: string[] = [];
    for (const v of this.values.get(id) ?? []) {
      const p = regionPath(v, region);
      if (p !== '' && out[out.length - 1] !== p) out.push(p);
    }
    return out;
  }

  /** Forgets what was seen so far (to look at one procedure only). */
  clear(): void {
    this.values.clear();
  }
}
