/**
 * SA events of the demo's two daemons as text, in two forms:
 *
 * - `eventLine`: one stable, parseable line per event for pipes and tests:
 *       event <daemon> <kind> key=value ... at=HH:MM:SS.mmm
 *   `<kind>` is the engine's event kind, except that a Child SA coming up as the rekey of
 *   another is `child-sa-rekeyed` (with old= and new SPIs), so a reader can wait for that word.
 *   Values never contain spaces, except reasons, which are JSON-quoted.
 * - `eventSentence`: a short sentence for the live screen,
 *       12:00:05 ikekm-a child SA rekeyed c1a2b3c4→d5e6f7a8 (soft lifetime)
 *
 * Why a rekey happened is not in the event; `EventNarrator` infers it from the deadlines the
 * earlier events announced: a rekey at or after this side's own rekey deadline is its soft
 * lifetime, one before it was started by the peer.
 */
import type { DaemonEvent } from '../daemon/daemon-events.js';
import type { SaEvent } from '../engine/engine-ports.js';

export type DemoEventKind = DaemonEvent['kind'] | 'child-sa-rekeyed';

/** The kind shown for an event (`child-sa-rekeyed` for a Child SA that replaced another). */
export function demoEventKind(event: DaemonEvent): DemoEventKind {
  return event.kind === 'child-sa-up' && event.rekeyOf !== undefined ? 'child-sa-rekeyed' : event.kind;
}

export function clockTime(atMs: number, withMs = false): string {
  const d = new Date(atMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  const hms = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return withMs ? `${hms}.${String(d.getMilliseconds()).padStart(3, '0')}` : hms;
}

const secondsUntil = (atMs: number, deadlineMs: number): string => `${Math.max(0, Math.round((deadlineMs - atMs) / 1000))}s`;

/** `event ikekm-a child-sa-rekeyed conn=to-ikekm-b ike=ike-… old=3a6ea810 in=9c2436e0 out=ba228c6e rekey-in=19s at=12:00:05.123` */
export function eventLine(daemon: string, event: DaemonEvent): string {
  const fields: string[] = [];
  const add = (key: string, value: string | number | boolean | undefined): void => {
    if (value !== undefined) fields.push(`${key}=${value}`);
  };
  if ('connection' in event) add('conn', event.connection);
  switch (event.kind) {
    case 'stopping':
      break;
    case 'reloaded':
      break;
    case 'reload-failed':
      add('file', JSON.stringify(event.file));
      add('diagnostics', event.diagnostics.length);
      break;
    case 'ike-sa-up':
      add('ike', event.id);
      add('spi-i', event.spiI);
      add('spi-r', event.spiR);
      add('role', event.role);
      add('rekeyed', event.rekeyed);
      add('rekey-in', secondsUntil(event.atMs, event.rekeyAtMs));
      add('expires-in', secondsUntil(event.atMs, event.expireAtMs));
      break;
    case 'ike-sa-rekeyed':
      add('ike', event.id);
      add('new', event.newId);
      break;
    case 'ike-sa-down':
      add('ike', event.id);
      add('spi-i', event.spiI);
      add('spi-r', event.spiR);
      add('reason', JSON.stringify(event.reason));
      break;
    case 'ike-sa-failed':
      add('ike', event.id);
      add('notify', event.notify);
      add('reason', JSON.stringify(event.reason));
      break;
    case 'child-sa-up':
      add('ike', event.ikeSa);
      add('old', event.rekeyOf);
      add('in', event.inboundSpi);
      add('out', event.outboundSpi);
      add('rekey-in', secondsUntil(event.atMs, event.rekeyAtMs));
      add('expires-in', secondsUntil(event.atMs, event.expireAtMs));
      break;
    case 'child-sa-down':
      add('ike', event.ikeSa);
      add('in', event.inboundSpi);
      add('out', event.outboundSpi);
      add('reason', JSON.stringify(event.reason));
      break;
    case 'child-sa-failed':
      add('ike', event.ikeSa);
      add('notify', event.notify);
      add('reason', JSON.stringify(event.reason));
      break;
  }
  add('at', clockTime(event.atMs, true));
  return `event ${daemon} ${demoEventKind(event)} ${fields.join(' ')}`;
}

const shortIke = (id: string): string => id.replace(/^ike-/, '');

/**
 * Turns one daemon's events, in order, into sentences for the live screen. It remembers each
 * SA's announced rekey deadline (to tell a soft-lifetime rekey from one the peer started) and
 * which SAs a rekey replaced (their `*-down` repeats the rekey's news and is not shown).
 */
export class EventNarrator {
  private readonly rekeyAtMs = new Map<string, number>();
  private readonly replaced = new Set<string>();

  constructor(private readonly daemon: string) {}

  /** The sentence for this event, or undefined when it only repeats an earlier one. */
  sentence(event: DaemonEvent): string | undefined {
    if (event.kind === 'stopping') return `${clockTime(event.atMs)} ${this.daemon} stopping (Deletes to the peer for any SA left)`;
    if (event.kind === 'reloaded' || event.kind === 'reload-failed') return `${clockTime(event.atMs)} ${this.daemon} ${event.kind}`;
    const text = this.describe(event);
    this.remember(event);
    return text;
  }

  private cause(key: string, atMs: number): string {
    const deadline = this.rekeyAtMs.get(key);
    if (deadline === undefined) return 'rekeyed';
    return atMs >= deadline ? 'soft lifetime' : 'started by the peer';
  }

  private remember(event: SaEvent): void {
    switch (event.kind) {
      case 'ike-sa-up':
        this.rekeyAtMs.set(event.id, event.rekeyAtMs);
        break;
      case 'ike-sa-rekeyed':
        this.replaced.add(event.id);
        break;
      case 'child-sa-up':
        this.rekeyAtMs.set(`child:${event.inboundSpi}`, event.rekeyAtMs);
        if (event.rekeyOf !== undefined) this.replaced.add(`child:${event.rekeyOf}`);
        break;
      // Forget SAs that are gone, so a long demo does not grow the maps.
      case 'ike-sa-down':
        this.rekeyAtMs.delete(event.id);
        this.replaced.delete(event.id);
        break;
      case 'child-sa-down':
        this.rekeyAtMs.delete(`child:${event.inboundSpi}`);
        this.replaced.delete(`child:${event.inboundSpi}`);
        break;
      case 'ike-sa-failed':
      case 'child-sa-failed':
        break;
    }
  }

  private describe(event: SaEvent): string | undefined {
    const head = `${clockTime(event.atMs)} ${this.daemon}`;
    const failure = (reason: string, notify: string | undefined): string => (notify === undefined ? reason : `${reason}, ${notify}`);
    switch (event.kind) {
      case 'ike-sa-up':
        // A rekeyed IKE SA's arrival was told by its ike-sa-rekeyed event.
        if (event.rekeyed) return undefined;
        return `${head} IKE SA up ${event.spiI}_${event.spiR} as ${event.role} (rekey in ${secondsUntil(event.atMs, event.rekeyAtMs)})`;
      case 'ike-sa-rekeyed':
        return `${head} IKE SA rekeyed ${shortIke(event.id)}→${shortIke(event.newId)} (${this.cause(event.id, event.atMs)})`;
      case 'ike-sa-down':
        if (this.replaced.has(event.id)) return undefined;
        return `${head} IKE SA down ${event.spiI}_${event.spiR} (${event.reason})`;
      case 'ike-sa-failed':
        return `${head} IKE SA failed (${failure(event.reason, event.notify)})`;
      case 'child-sa-up':
        if (event.rekeyOf !== undefined)
          return `${head} child SA rekeyed ${event.rekeyOf}→${event.inboundSpi} (${this.cause(`child:${event.rekeyOf}`, event.atMs)})`;
        return `${head} child SA up ${event.inboundSpi}/${event.outboundSpi} (rekey in ${secondsUntil(event.atMs, event.rekeyAtMs)})`;
      case 'child-sa-down':
        if (this.replaced.has(`child:${event.inboundSpi}`)) return undefined;
        return `${head} child SA down ${event.inboundSpi}/${event.outboundSpi} (${event.reason})`;
      case 'child-sa-failed':
        return `${head} child SA failed (${failure(event.reason, event.notify)})`;
    }
  }
}
