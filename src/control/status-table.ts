/**
 * The human form of the status JSON (`ikekm status`, the demo's live view): one row per IKE SA,
 * followed by one indented row per Child SA, in fixed-width columns.
 */
import { renderTable } from './text-table.js';
import type { ChildAlgorithms, DaemonStatus, IkeAlgorithms } from './daemon-status.js';

const HEADERS = ['connection', 'peer', 'state', 'SPIs', 'algorithms', 'established', 'rekey in', 'expires in', 'bytes in/out', 'last in/out'] as const;

/** `90061` → `1d01h01m`; `125` → `2m05s`; null → `-`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${two(h)}h${two(m)}m`;
  if (h > 0) return `${h}h${two(m)}m`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}

/** `1536` → `1.5K`: bytes in 1024 steps, as `ip -s xfrm state` readers expect. */
export function formatBytes(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? String(bytes) : `${value.toFixed(1)}${units[unit]}`;
}

const ikeAlgorithms = (a: IkeAlgorithms | null): string => (a === null ? '-' : [a.encryption, a.integrity, a.prf, a.dh].filter((x) => x !== undefined).join('-'));
const childAlgorithms = (a: ChildAlgorithms): string => [a.encryption, a.integrity, a.dh, a.esn ? 'esn' : undefined].filter((x) => x !== undefined).join('-');

export function renderStatusTable(status: DaemonStatus): string {
  if (status.ikeSas.length === 0) return 'no IKE SAs';
  const rows: string[][] = [];
  for (const sa of status.ikeSas) {
    const peerId = sa.peer.id === null ? '' : ` (${sa.peer.id})`;
    rows.push([
      sa.connection ?? '-',
      `${sa.peer.address}:${sa.peer.port}${peerId}`,
      `${sa.state}${sa.natDetected ? ' NAT' : ''}`,
      `${sa.spiI}_i ${sa.spiR}_r`,
      ikeAlgorithms(sa.algorithms),
      formatDuration(sa.establishedSeconds),
      formatDuration(sa.rekeySeconds),
      formatDuration(sa.expiresSeconds),
      '',
      '',
    ]);
    for (const child of sa.childSas) {
      rows.push([
        `  └ ${child.mode}`,
        `${child.localTs.join(',')} === ${child.remoteTs.join(',')}`,
        child.state,
        `${child.spiIn}_i ${child.spiOut}_o`,
        childAlgorithms(child.algorithms),
        formatDuration(child.establishedSeconds),
        formatDuration(child.rekeySeconds),
        formatDuration(child.expiresSeconds),
        `${formatBytes(child.bytesIn)}/${formatBytes(child.bytesOut)}`,
        // Seconds since the last packet in / out (strongSwan's "3s ago"), `-` for never.
        `${formatDuration(child.lastInSeconds)}/${formatDuration(child.lastOutSeconds)}`,
      ]);
    }
  }
  return renderTable(HEADERS, rows);
}
