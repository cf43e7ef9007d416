/**
 * The daemon's JavaScript heap growth (`daemon.heapGrowthPercent`). V8 lets a growing heap reach
 * up to several times what the last full garbage collection left alive before it collects again,
 * and keeps those pages: a daemon that holds its SAs in a long-lived heap then shows about twice
 * their memory as RSS. A smaller factor costs more full collections while the SAs come up (each
 * marks what is alive) and keeps RSS near the live heap. 0 leaves V8's heuristics alone.
 *
 * It is a process-wide V8 flag, set by the daemon command at start and never by a Daemon object:
 * tests run many daemons in one process.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's flag for `percent`, or undefined for 0 (V8's own factor). */
export function heapGrowthFlag(percent: number): string | undefined {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growth ${percent}: expected a whole percentage`);
  return percent === 0 ? undefined : `--heap-growing-percent=${percent}`;
}

/** Sets the flag for `percent` (through `setFlags`, node:v8's by default); returns what it set. */
export function applyHeapGrowth(percent: number, setFlags: (flags: string) => void = setFlagsFromString): string | undefined {
  const flag = heapGrowthFlag(percent);
  if (flag !== undefined) setFlags(flag);
  return flag;
}
