/**
 * What the daemon reports on `events$` (and `ikekm watch` prints): every SA event of the engine
 * plus the daemon's own. All plain data without secrets; `kind` tells them apart.
 */
import type { ConfigDiff } from '../config/config-diff.js';
import type { SaEvent } from '../engine/engine-ports.js';

export type DaemonOwnEvent =
  | { readonly kind: 'reloaded'; readonly diff: ConfigDiff; readonly atMs: number }
  /** A bad file on reload: the running configuration stays; `diagnostics` are formatted lines. */
  | { readonly kind: 'reload-failed'; readonly file: string; readonly diagnostics: readonly string[]; readonly atMs: number }
  | { readonly kind: 'stopping'; readonly atMs: number };

export type DaemonEvent = SaEvent | DaemonOwnEvent;
