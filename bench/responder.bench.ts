/**
 * The engine's cost per responder handshake without sockets or a daemon around it: `ikekm
 * load`'s handshake (src/load/lean-handshake.ts) against one engine on virtual time
 * (test/engine/lab.ts: in-memory network, memory kernel, no logging), N handshakes W at a time.
 * Prints the process's CPU and wall time per handshake (the generator's share included: profile
 * with --cpu-prof to split them) and what each established SA holds: V8 heap, ArrayBuffers (Buffer
 * contents) and resident size, after a full GC.
 *
 *   node --expose-gc --import tsx bench/responder.bench.ts [N=5000] [W=50]
 */
import { cryptoRegistry } from '../src/crypto/registry.js';
import { pooledRandom } from '../src/crypto/pooled-random.js';
import { LeanHandshake, type LeanHandshakeShared } from '../src/load/lean-handshake.js';
import type { Endpoint } from '../src/ports.js';
import { connectionPair } from '../test/engine/fixtures.js';
import { Lab } from '../test/engine/lab.js';

const N = Number(process.argv[2] ?? 5000);
const W = Number(process.argv[3] ?? 50);
const GENERATOR: Endpoint = { address: '192.0.2.1', port: 600 };

const pair = connectionPair({ ike: ['aes128gcm16-prfsha256-x25519'], esp: ['aes128gcm16'], trafficA: { local: ['10.2.0.0/16'], remote: ['10.1.0.0/16'] } });
const unlimited = 10_000_000;
const lab = new Lab({
  connections: { a: [], b: [{ ...pair.b, remote: { ...pair.b.remote, address: '%any' } }] },
  silent: true,
  settings: { cookieThreshold: unlimited, cookieThresholdPerAddress: unlimited, blockThresholdPerAddress: unlimited, maxHalfOpen: unlimited, ikeSaInitPerSecond: unlimited, maxIkeSas: unlimited },
});
const shared: LeanHandshakeShared = {
  connection: pair.a,
  registry: cryptoRegistry,
  random: pooledRandom(),
  local: GENERATOR,
  remote: { address: pair.a.remote.address, port: pair.a.remote.port },
  childSa: true,
  keyPairs: new Map(),
};
const inFlight = new Map<string, LeanHandshake>();
let started = 0;
let done = 0;
let failed = 0;
const send = (bytes: Buffer): void => lab.network.port.send({ local: GENERATOR, remote: shared.remote, bytes });
const startMore = (): void => {
  while (started < N && inFlight.size < W) {
    const h = new LeanHandshake(shared, shared.random(8));
    inFlight.set(h.spiI.toString('hex'), h);
    started++;
    send(h.firstRequest);
  }
};
lab.network.impairment = { delayMs: { min: 0, max: 0 } };
lab.network.attach(GENERATOR, (d) => {
  const key = d.bytes.toString('hex', 0, 8);
  const h = inFlight.get(key);
  if (h === undefined) return;
  const step = h.receive(d.bytes);
  if (step.kind === 'send') return send(step.bytes);
  if (step.kind === 'ignored') return;
  inFlight.delete(key);
  if (step.kind === 'failed') failed++;
  done++;
  startMore();
});
globalThis.gc?.();
const memBefore = process.memoryUsage();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
startMore();
await lab.runUntil(() => done === N, 24 * 3600_000);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
globalThis.gc?.();
const memAfter = process.memoryUsage();
const established = lab.b.engine.size();
console.log(
  `${N} handshakes (window ${W}): ${failed} failed, ${established} IKE SAs at the responder; ` +
    `${((cpu.user + cpu.system) / N).toFixed(0)} µs CPU and ${((wall * 1000) / N).toFixed(0)} µs wall per handshake (generator included); ` +
    `per SA: heap +${((memAfter.heapUsed - memBefore.heapUsed) / N / 1024).toFixed(1)} KiB, ` +
    `array buffers +${((memAfter.arrayBuffers - memBefore.arrayBuffers) / N / 1024).toFixed(1)} KiB, RSS +${((memAfter.rss - memBefore.rss) / N / 1024).toFixed(1)} KiB`,
);
