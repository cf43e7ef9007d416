/**
 * What a flood costs the engine, on the in-memory network (no sockets: the daemon's sends and the
 * kernel's work come on top). Run with `node --expose-gc --import tsx bench/intake.bench.ts`.
 * Figures, not assertions.
 *
 * First, in a fresh process so that the resident size means something, the memory of a flood that
 * returns every COOKIE: FLOOD_COUNT (default 100 000) IKE_SA_INITs from 1 000 addresses at 5 000 a
 * second (virtual time), each COOKIE answered at once, under the default limits; every 20 000
 * datagrams the half-open SAs, the heap and Buffers after a full collection, and the resident
 * size, whose growth per half-open SA is what admission counts for each (HALF_OPEN_STATE_BYTES
 * in machines/supervisor/half-open-table.ts).
 *
 * Then the cost per datagram through `engine.receive`, BENCH_COUNT (default 20 000) of each:
 * - an IKE_SA_INIT while COOKIEs are demanded (RFC 7296 2.6): answered with a COOKIE, no state;
 * - the same with a COOKIE that does not verify: answered with a fresh one;
 * - an IKE_SA_INIT admitted as a half-open SA (a DH computation, keys, an IKE SA actor);
 * - a request for an unknown IKE SA (INVALID_IKE_SPI, rate-limited, RFC 7296 2.21.4);
 * - a datagram that is not IKE.
 */
import { performance } from 'node:perf_hooks';
import { renderTable } from '../src/control/text-table.js';
import type { Datagram } from '../src/ports.js';
import { settle } from '../test/engine/lab.js';
import { ADMIT_EVERY_INIT, RESPONDER, floodDatagram, openResponderLab } from '../test/engine/stranger-init.js';
import { cookieIn, strangerInit } from '../test/engine/stranger-initiator.js';
import { withCookie } from './flood-sender.js';

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);

/** A responder that demands COOKIEs from everyone: one half-open SA reaches cookieThreshold 1. */
async function cookieDemandingLab() {
  const lab = openResponderLab({ silent: true }, { cookieThreshold: 1, cookieThresholdPerAddress: 0, blockThresholdPerAddress: 0 });
  lab.b.engine.receive(strangerInit('203.0.113.1').datagram);
  await settle();
  if (lab.b.engine.halfOpen() !== 1) throw new Error('the first IKE_SA_INIT did not make a half-open SA');
  return lab;
}

async function perDatagram(name: string, lab: ReturnType<typeof openResponderLab>, datagrams: readonly Datagram[]): Promise<string[]> {
  const before = { ...lab.b.engine.counters() };
  const start = performance.now();
  for (const d of datagrams) lab.b.engine.receive(d);
  await settle();
  const us = ((performance.now() - start) * 1000) / datagrams.length;
  const after = lab.b.engine.counters();
  const delta = (k: keyof typeof after) => (after[k] as number) - (before[k] as number);
  const outcome = `${delta('cookiesSent')} COOKIE, ${delta('created')} SAs, ${delta('invalidSpiSent')} INVALID_IKE_SPI, ${delta('malformed')} malformed`;
  return [name, datagrams.length.toLocaleString('en-US'), outcome, `${us.toFixed(1)} µs`, Math.round(1e6 / us).toLocaleString('en-US')];
}

const request = strangerInit('198.51.100.1');
const requestBytes = request.datagram.bytes;
const wrongCookie = request.withCookie(Buffer.alloc(36, 7)).bytes;
const unknownSpi = Buffer.from(requestBytes);
unknownSpi.fill(0x5a, 8, 16); // SPIr set: a request for an IKE SA the responder does not have
unknownSpi[18] = 37; // INFORMATIONAL
const notIke = Buffer.alloc(120, 0xee);
const fromMany = (bytes: Buffer, count: number) => Array.from({ length: count }, (_, i) => floodDatagram(bytes, i));

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.log('\n(run with node --expose-gc --import tsx for the memory of a COOKIE-returning flood)');
} else {
  const floodCount = Number(process.env.FLOOD_COUNT ?? 100_000);
  const lab = openResponderLab({ silent: true });
  const sources = Array.from({ length: 1_000 }, (_, i) => `198.19.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  for (const address of sources) {
    lab.network.attach({ address, port: 500 }, (d) => {
      const cookie = cookieIn(d.bytes);
      if (cookie !== undefined) lab.b.engine.receive({ local: d.remote, remote: d.local, bytes: withCookie(requestBytes, d.bytes.subarray(0, 8), cookie) });
    });
  }
  const memory = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { live: m.heapUsed + m.arrayBuffers, rss: m.rss };
  };
  const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
  const before = memory();
  const memoryRows: string[][] = [['0', '0', mb(before.live), mb(before.rss), '']];
  for (let n = 0; n < floodCount; n++) {
    const bytes = Buffer.from(requestBytes);
    bytes.writeUInt32BE(n, 0);
    bytes.writeUInt32BE(Math.imul(n, 2_654_435_761) >>> 0, 4);
    lab.b.engine.receive({ local: RESPONDER, remote: { address: sources[n % sources.length]!, port: 500 }, bytes });
    if (n % 5 === 4) await lab.run(1);
    if ((n + 1) % 20_000 === 0) {
      const m = memory();
      const halfOpen = lab.b.engine.halfOpen();
      memoryRows.push([(n + 1).toLocaleString('en-US'), halfOpen.toLocaleString('en-US'), mb(m.live), mb(m.rss), halfOpen === 0 ? '' : `${((m.rss - before.rss) / halfOpen / 1024).toFixed(0)} KB`]);
    }
  }
  console.log(`\na flood returning every COOKIE: ${floodCount.toLocaleString('en-US')} IKE_SA_INITs at 5 000/s (virtual) from 1 000 addresses, default limits\n`);
  console.log(renderTable(['datagrams', 'half-open SAs', 'heap + Buffers (MB)', 'RSS (MB)', 'RSS growth per half-open SA'], memoryRows));
}

const rows: string[][] = [];
for (const round of ['warm-up', 'measured']) {
  rows.length = 0;
  const count = round === 'warm-up' ? 2_000 : COUNT;
  rows.push(await perDatagram('IKE_SA_INIT, COOKIE demanded', await cookieDemandingLab(), fromMany(requestBytes, count)));
  rows.push(await perDatagram('IKE_SA_INIT, COOKIE that does not verify', await cookieDemandingLab(), fromMany(wrongCookie, count)));
  // Every one admitted: no budget or count limit in the way (the default budget stops at ~1 600).
  const admitAll = openResponderLab({ silent: true }, { ...ADMIT_EVERY_INIT, halfOpenBudgetBytes: 2 ** 40, maxHalfOpen: 1_000_000 });
  rows.push(await perDatagram('IKE_SA_INIT, admitted (2048-bit MODP)', admitAll, fromMany(requestBytes, Math.min(count, 5_000))));
  rows.push(await perDatagram('request for an unknown IKE SA', openResponderLab({ silent: true }), fromMany(unknownSpi, count)));
  rows.push(await perDatagram('not IKE', openResponderLab({ silent: true }), fromMany(notIke, count)));
}
console.log(`engine.receive per datagram, in memory, to ${RESPONDER.address}; Node ${process.version}\n`);
console.log(renderTable(['datagram', 'count', 'outcome', 'per datagram', 'datagrams/s per core'], rows));
