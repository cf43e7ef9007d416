/**
 * At most one warning per kind and interval. The control socket's warnings (refused clients,
 * overlong lines, dropped watchers, failed accepts) are each caused by a local client, which can
 * repeat them as fast as it connects: one line each would let it fill the disk. The line that
 * ends a quiet interval says how many were left out since the previous one (`suppressed`).
 */
import type { LogPort } from '../ports.js';

export class WarningThrottle {
  private readonly kinds = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly log: Pick<LogPort, 'warn'> | undefined,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, fields: object, message: string): void {
    if (this.log === undefined) return;
    const nowMs = this.now();
    const last = this.kinds.get(kind);
    if (last !== undefined && nowMs - last.atMs < this.intervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.kinds.set(kind, { atMs: nowMs, suppressed: 0 });
    this.log.warn(suppressed === 0 ? fields : { ...fields, suppressed }, message);
  }
}
