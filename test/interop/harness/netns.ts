/**
 * A two-node lab in Linux network namespaces: side a and side b joined by a veth pair.
 *
 *   ns a                                           ns b
 *   lo     198.51.100.1/32  (2001:db8:1::1/128)     lo     203.0.113.1/32  (2001:db8:2::1/128)
 *   veth-a 192.0.2.1/24     (2001:db8::1/64)  <->   veth-b 192.0.2.2/24     (2001:db8::2/64)
 *
 * The outer (veth) addresses carry IKE and ESP; the `lo` addresses are what a tunnel protects.
 * They must differ: under kernel-libipsec strongSwan refuses a traffic selector that covers its
 * own IKE endpoint ("can't install route … conflicts with IKE traffic").
 *
 * Namespaces are named `ikekm-<pid>-<n>-<random>-a|b`: the pid lets a later run recognise and
 * sweep a lab whose process died (crash, SIGKILL), the random part keeps two vitest workers
 * that share a pid (thread pool) apart. Interfaces are created directly inside the namespaces,
 * so their names never clash on the host and no global resource is held: labs run in parallel.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFailure, pidAlive, run, runChecked, sleep, waitUntil, type RunOptions, type RunResult } from './process.js';

export const IP = process.env.IKEKM_IP ?? 'ip';
const NS_PREFIX = 'ikekm-';
const NS_PATTERN = /^ikekm-(\d+)-[0-9a-z]+-[0-9a-f]+-[ab]$/;

export type SideName = 'a' | 'b';

export interface LabSide {
  readonly name: SideName;
  /** Network namespace name (for `ip netns exec`). */
  readonly ns: string;
  /** The veth end inside this namespace. */
  readonly iface: string;
  /** Outer IPv4 address (IKE/ESP endpoint), without prefix length; the veth subnet is /24. */
  readonly outer4: string;
  /** Protected IPv4 address on `lo` (/32). */
  readonly inner4: string;
  /** Outer IPv6 address (/64), when the lab was created with IPv6. */
  readonly outer6: string | undefined;
  /** Protected IPv6 address on `lo` (/128), when the lab was created with IPv6. */
  readonly inner6: string | undefined;
}

export interface Lab {
  readonly id: string;
  /** Scratch directory for this lab's charons, captures and logs. */
  readonly dir: string;
  readonly a: LabSide;
  readonly b: LabSide;
  /** Runs a command inside one side's namespace. */
  exec(side: SideName, file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Keep `dir` after destroy (call on failure, so the logs can be read). */
  keepArtifacts(): void;
  /** Kills every process in both namespaces, deletes them, removes `dir` unless kept. Idempotent. */
  destroy(): Promise<void>;
}

export interface LabOptions {
  /** Add the IPv6 addresses too (default true; costs nothing thanks to `nodad`). */
  readonly ipv6?: boolean;
  /** Sweep stale labs of dead processes first (default true). */
  readonly sweep?: boolean;
}

/** Lab addressing, in one place so tests and configs agree. */
export const LAB_ADDRESSES = {
  a: { outer4: '192.0.2.1', inner4: '198.51.100.1', outer6: '2001:db8::1', inner6: '2001:db8:1::1', iface: 'veth-a' },
  b: { outer4: '192.0.2.2', inner4: '203.0.113.1', outer6: '2001:db8::2', inner6: '2001:db8:2::1', iface: 'veth-b' },
} as const;

let labCounter = 0;
const liveLabs = new Map<string, { namespaces: readonly string[] }>();
let exitHookInstalled = false;

/** Runs `file args…` inside namespace `ns` (`ip netns exec`). */
export function exec(ns: string, file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(IP, ['netns', 'exec', ns, file, ...args], options);
}

/** Like `exec`, but rejects unless the command exited 0. */
export async function execChecked(ns: string, file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await exec(ns, file, args, options);
  if (!result.ok) throw new Error(describeFailure(result));
  return result;
}

export async function createLab(options: LabOptions = {}): Promise<Lab> {
  if (options.sweep ?? true) await sweepStaleLabs();
  const ipv6 = options.ipv6 ?? true;
  labCounter += 1;
  const id = `${NS_PREFIX}${process.pid}-${labCounter.toString(36)}-${randomBytes(3).toString('hex')}`;
  const side = (name: SideName): LabSide => ({
    name,
    ns: `${id}-${name}`,
    iface: LAB_ADDRESSES[name].iface,
    outer4: LAB_ADDRESSES[name].outer4,
    inner4: LAB_ADDRESSES[name].inner4,
    outer6: ipv6 ? LAB_ADDRESSES[name].outer6 : undefined,
    inner6: ipv6 ? LAB_ADDRESSES[name].inner6 : undefined,
  });
  const a = side('a');
  const b = side('b');
  // Short path: charon's vici socket lives below it and sun_path holds only 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), `${id}-`));
  let keep = process.env.IKEKM_INTEROP_KEEP === '1';
  let destroyed: Promise<void> | undefined;

  registerLive(id, [a.ns, b.ns]);
  const lab: Lab = {
    id,
    dir,
    a,
    b,
    exec: (which, file, args, runOptions) => exec(which === 'a' ? a.ns : b.ns, file, args, runOptions),
    keepArtifacts: () => {
      keep = true;
    },
    destroy: () => {
      destroyed ??= (async () => {
        const errors: string[] = [];
        for (const ns of [a.ns, b.ns]) {
          try {
            await destroyNamespace(ns);
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
        liveLabs.delete(id);
        if (keep) console.warn(`[interop] lab ${id}: artifacts kept in ${dir}`);
        else rmSync(dir, { recursive: true, force: true });
        if (errors.length > 0) throw new Error(`lab ${id} cleanup: ${errors.join('; ')}`);
      })();
      return destroyed;
    },
  };

  try {
    await runChecked(IP, ['netns', 'add', a.ns]);
    await runChecked(IP, ['netns', 'add', b.ns]);
    // Created from inside ns a with the peer placed straight into ns b: no host-side name.
    await runChecked(IP, ['-n', a.ns, 'link', 'add', a.iface, 'type', 'veth', 'peer', 'name', b.iface, 'netns', b.ns]);
    for (const s of [a, b]) {
      const ipn = (...args: string[]): Promise<RunResult> => runChecked(IP, ['-n', s.ns, ...args]);
      await ipn('link', 'set', 'lo', 'up');
      await ipn('addr', 'add', `${s.outer4}/24`, 'dev', s.iface);
      await ipn('addr', 'add', `${s.inner4}/32`, 'dev', 'lo');
      if (s.outer6 !== undefined && s.inner6 !== undefined) {
        // nodad: the address is usable at once instead of after ~2 s of duplicate detection.
        await ipn('-6', 'addr', 'add', `${s.outer6}/64`, 'dev', s.iface, 'nodad');
        await ipn('-6', 'addr', 'add', `${s.inner6}/128`, 'dev', 'lo', 'nodad');
      }
      await ipn('link', 'set', s.iface, 'up');
    }
    // Static neighbour entries: the first IPv6 neighbour solicitation on a fresh veth went
    // unanswered, stalling the first exchange by the 1 s ND retransmit timer; with the peers'
    // MACs known there is no ARP/ND at all (and no such noise in captures).
    for (const [self, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const mac = await macAddress(peer.ns, peer.iface);
      const neigh = (address: string): Promise<RunResult> =>
        runChecked(IP, ['-n', self.ns, 'neigh', 'replace', address, 'lladdr', mac, 'dev', self.iface, 'nud', 'permanent']);
      await neigh(peer.outer4);
      if (peer.outer6 !== undefined) await neigh(peer.outer6);
    }
  } catch (error) {
    lab.keepArtifacts();
    await lab.destroy().catch(() => undefined);
    throw error;
  }
  return lab;
}

async function macAddress(ns: string, iface: string): Promise<string> {
  const shown = await runChecked(IP, ['-n', ns, '-j', 'link', 'show', 'dev', iface]);
  const parsed = JSON.parse(shown.stdout) as Array<{ address?: string }>;
  const mac = parsed[0]?.address;
  if (mac === undefined || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) throw new Error(`no MAC address for ${iface} in ${ns}: ${shown.stdout}`);
  return mac;
}

/**
 * Deletes namespaces `ikekm-<pid>-…` whose pid no longer runs (left by a crashed or killed run),
 * after killing what still runs inside them. Returns the names it removed.
 */
export async function sweepStaleLabs(): Promise<string[]> {
  const list = await run(IP, ['netns', 'list']);
  if (!list.ok) return [];
  const removed: string[] = [];
  for (const line of list.stdout.split('\n')) {
    const ns = line.trim().split(/\s+/)[0] ?? '';
    const match = NS_PATTERN.exec(ns);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      await destroyNamespace(ns);
      removed.push(ns);
    } catch (error) {
      console.warn(`[interop] could not sweep stale namespace ${ns}: ${(error as Error).message}`);
    }
  }
  if (removed.length > 0) console.warn(`[interop] swept stale lab namespaces: ${removed.join(', ')}`);
  return removed;
}

/** Pids of the processes whose network namespace is `ns`. */
export async function namespacePids(ns: string): Promise<number[]> {
  const result = await run(IP, ['netns', 'pids', ns]);
  if (!result.ok) return [];
  return result.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * SIGTERM to every process in `ns`, SIGKILL to those still there after a grace period, then
 * `ip netns del`. A process left in the namespace would keep it (and its veth) alive.
 */
export async function destroyNamespace(ns: string, graceMs = 2_000): Promise<void> {
  const exists = await run(IP, ['netns', 'pids', ns]);
  if (!exists.ok) return; // already gone
  let pids = await namespacePids(ns);
  for (const pid of pids) signal(pid, 'SIGTERM');
  if (pids.length > 0) {
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && (pids = (await namespacePids(ns))).length > 0) await sleep(50);
    for (const pid of pids) signal(pid, 'SIGKILL');
    await waitUntil(`processes in ${ns} to die`, async () => ((await namespacePids(ns)).length === 0 ? true : undefined), {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
  }
  const del = await run(IP, ['netns', 'del', ns]);
  if (!del.ok && !/No such file/.test(del.stderr)) throw new Error(describeFailure(del));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone between listing and signalling.
  }
}

function registerLive(id: string, namespaces: readonly string[]): void {
  liveLabs.set(id, { namespaces });
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when afterAll never ran (worker torn down): only synchronous work is possible here.
  process.once('exit', () => {
    for (const { namespaces: names } of liveLabs.values()) {
      for (const ns of names) {
        const pids = spawnSync(IP, ['netns', 'pids', ns], { encoding: 'utf8', timeout: 2_000 }).stdout ?? '';
        for (const pid of pids.split('\n').map(Number)) if (pid > 0) signal(pid, 'SIGKILL');
        spawnSync(IP, ['netns', 'del', ns], { timeout: 2_000 });
      }
    }
  });
}
