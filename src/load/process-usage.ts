/**
 * A process's CPU time and memory as Linux accounts them (proc(5)): what the load generator
 * reports for the responder it loads and for itself, read the same way for a daemon in C and one
 * in Node, so the figures compare.
 */
import { readFileSync } from 'node:fs';

export interface ProcessUsage {
  readonly pid: number;
  /** utime + stime, in milliseconds (clock ticks of 10 ms). */
  readonly cpuMs: number;
  /** VmRSS and VmHWM (peak), in bytes. */
  readonly rssBytes: number;
  readonly peakRssBytes: number;
}

/**
 * USER_HZ, which /proc/PID/stat counts in: 100 on every Linux architecture the kernel exports to
 * user space (the ABI fixes it, whatever CONFIG_HZ is).
 */
const USER_HZ = 100;

/** Reads /proc/PID/stat and /proc/PID/status; undefined when the process is gone. */
export function readProcessUsage(pid: number): ProcessUsage | undefined {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) of proc(5), here at 11 and 12 (field 3 is index 0).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { pid, cpuMs: (ticks * 1000) / USER_HZ, rssBytes: statusKb(status, 'VmRSS') * 1024, peakRssBytes: statusKb(status, 'VmHWM') * 1024 };
}

function statusKb(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return match === null ? 0 : Number(match[1]);
}

/** What a process used between two readings: CPU time, and memory at the second. */
export interface ProcessUsageDelta {
  readonly pid: number;
  readonly cpuMs: number;
  readonly rssBytes: number;
  readonly rssGrowthBytes: number;
  readonly peakRssBytes: number;
}

export function usageBetween(before: ProcessUsage, after: ProcessUsage): ProcessUsageDelta {
  return {
    pid: after.pid,
    cpuMs: after.cpuMs - before.cpuMs,
    rssBytes: after.rssBytes,
    rssGrowthBytes: after.rssBytes - before.rssBytes,
    peakRssBytes: after.peakRssBytes,
  };
}
