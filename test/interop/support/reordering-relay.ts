/**
 * A UDP relay that reorders, for the lossy-network interop test: run inside a network namespace
 *
 *     ip netns exec NS node --import tsx test/interop/support/reordering-relay.ts CONFIG.json
 *
 * It binds `listen` on each of `ports` and passes every datagram from `a` to `b` and from `b` to
 * `a`, same port, from its own address: each peer is configured with the relay's address as the
 * other's. A datagram is held back with probability `holdProbability` for a delay drawn from
 * [`minDelayMs`, `maxDelayMs`], so the ones behind it overtake it (this kernel has no
 * sch_netem; loss is nftables' job, not the relay's). Draws come from a seeded PRNG.
 *
 * stdout: {"type":"ready"} once bound; stdin line `stats` → {"type":"stats",…}. Exits on SIGTERM
 * or the end of stdin.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createPrng } from '../../fuzz/prng.js';

export interface RelayConfig {
  readonly listen: string;
  readonly ports: readonly number[];
  readonly a: string;
  readonly b: string;
  readonly holdProbability: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly seed: number;
}

export interface RelayStats {
  readonly forwarded: number;
  readonly held: number;
  /** Datagrams that left after one that arrived later (overtaken). */
  readonly overtaken: number;
  readonly fromA: number;
  readonly fromB: number;
}

const isMain = process.argv[1]?.endsWith('reordering-relay.ts') === true;

if (isMain) {
  const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as RelayConfig;
  const rng = createPrng(config.seed);
  const stats = { forwarded: 0, held: 0, overtaken: 0, fromA: 0, fromB: 0 };
  let arrivals = 0;
  let lastSentArrival = -1;
  const sockets: Socket[] = [];
  await Promise.all(
    config.ports.map(
      (port) =>
        new Promise<void>((resolve, reject) => {
          const socket = createSocket('udp4');
          sockets.push(socket);
          socket.on('error', reject);
          socket.on('message', (bytes, from) => {
            const fromA = from.address === config.a;
            if (!fromA && from.address !== config.b) return;
            if (fromA) stats.fromA++;
            else stats.fromB++;
            const arrival = arrivals++;
            const send = (): void => {
              if (arrival < lastSentArrival) stats.overtaken++;
              lastSentArrival = Math.max(lastSentArrival, arrival);
              stats.forwarded++;
              socket.send(bytes, port, fromA ? config.b : config.a);
            };
            if (rng.chance(config.holdProbability)) {
              stats.held++;
              setTimeout(send, config.minDelayMs + rng.int(config.maxDelayMs - config.minDelayMs + 1));
            } else send();
          });
          socket.bind(port, config.listen, () => resolve());
        }),
    ),
  );
  const stop = (): void => {
    for (const s of sockets) s.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify({ type: 'stats', ...stats })}\n`);
  });
  lines.on('close', stop);
  process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`);
}

export interface Relay {
  stats(): Promise<RelayStats>;
  stop(): Promise<void>;
}

/** Starts the relay in namespace `ns` (`ip netns exec`); resolves once it is bound. */
export async function startRelay(ns: string, dir: string, config: RelayConfig): Promise<Relay> {
  const { spawn } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { IP } = await import('../harness/netns.js');
  const { REPO_ROOT } = await import('../harness/ikekm.js');
  const path = join(dir, 'relay.json');
  writeFileSync(path, JSON.stringify(config));
  const child = spawn(IP, ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test/interop/support/reordering-relay.ts'), path], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((m: Record<string, unknown>) => void)[] = [];
  lines.on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    waiting.shift()?.(message);
  });
  const next = (what: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay: no ${what} within 10 s`)), 10_000);
      waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const ready = await Promise.race([next('ready line'), exited.then(() => ({ type: 'exited' }))]);
  if (ready.type !== 'ready') throw new Error('the relay exited before it was ready');
  return {
    async stats() {
      const reply = next('stats');
      child.stdin!.write('stats\n');
      return (await reply) as unknown as RelayStats;
    },
    async stop() {
      child.stdin!.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
