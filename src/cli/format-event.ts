/** One line per daemon event for `ikekm watch` (and the demo): time, what, connection, SPIs, reason. */
import type { DaemonEvent } from '../daemon/daemon-events.js';

const time = (atMs: number): string => new Date(atMs).toISOString().slice(11, 23);

export function formatEvent(value: unknown): string {
  const e = value as DaemonEvent;
  switch (e.kind) {
    case 'ike-sa-up':
      return `${time(e.atMs)} ${e.connection}: IKE SA ${e.rekeyed ? 'rekeyed, new SA up' : 'up'} (${e.role}) ${e.spiI}_i ${e.spiR}_r`;
    case 'ike-sa-down':
      return `${time(e.atMs)} ${e.connection}: IKE SA down ${e.spiI}_i ${e.spiR}_r: ${e.reason}`;
    case 'ike-sa-rekeyed':
      return `${time(e.atMs)} ${e.connection}: IKE SA ${e.id} rekeyed into ${e.newId}`;
    case 'ike-sa-failed':
      return `${time(e.atMs)} ${e.connection}: IKE SA failed: ${e.reason}${e.notify === undefined ? '' : ` (${e.notify})`}`;
    case 'child-sa-up':
      return `${time(e.atMs)} ${e.connection}: Child SA ${e.rekeyOf === undefined ? 'up' : `rekeyed (was ${e.rekeyOf})`} ${e.inboundSpi}_i ${e.outboundSpi}_o`;
    case 'child-sa-down':
      return `${time(e.atMs)} ${e.connection}: Child SA down ${e.inboundSpi}_i ${e.outboundSpi}_o: ${e.reason}`;
    case 'child-sa-failed':
      return `${time(e.atMs)} ${e.connection}: Child SA failed: ${e.reason}${e.notify === undefined ? '' : ` (${e.notify})`}`;
    case 'reloaded':
      return `${time(e.atMs)} configuration reloaded: added [${e.diff.added.join(', ')}] removed [${e.diff.removed.join(', ')}] changed [${e.diff.changed.join(', ')}]`;
    case 'reload-failed':
      return `${time(e.atMs)} reload refused (running configuration kept):\n  ${e.diagnostics.join('\n  ')}`;
    case 'stopping':
      return `${time(e.atMs)} daemon stopping`;
    default:
      return JSON.stringify(value);
  }
}
