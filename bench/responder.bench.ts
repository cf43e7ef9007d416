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
import { connectionPair } from '../test/engine/fixtures.js';
import { Lab } from '../test/engine/lab.js';
import { generatorShared, runLabHandshakes } from '../test/load/lab-generator.js';

const N = Number(process.argv[2] ?? 5000);
const W = Number(process.argv[3] ?? 50);
const pair = connectionPair({ ike: ['aes128gcm16-prfsha256-x25519'], esp: ['aes128gcm16'], trafficA: { local: ['10.2.0.0/16'], remote: ['10.1.0.0/16'] } });
const unlimited = 10_000_000;
const lab = new Lab({
  connections: { a: [], b: [{ ...pair.b, remote: { ...pair.b.remote, address: '%any' } }] },
  silent: true,
  settings: { cookieThreshold: unlimited, cookieThresholdPerAddress: unlimited, blockThresholdPerAddress: unlimited, maxHalfOpen: unlimited, ikeSaInitPerSecond: unlimited, maxIkeSas: unlimited },
});
lab.network.impairment = { delayMs: { min: 0, max: 0 } };
globalThis.gc?.();
const memBefore = process.memoryUsage();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const outcomes = await runLabHandshakes(lab, generatorShared(pair.a), N, W, 24 * 3600_000);
const failed = outcomes.filter((o) => o.kind === 'failed').length;
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
