/**
 * What a hostile IKE_SA_INIT costs to decode: a plain request beside the ~63 KB ones padded with
 * empty Notifies, empty Vendor IDs or 255 Proposals (test/wire/hostile-ike-sa-init.ts), each
 * decoded by `decodeMessage` as the supervisor does for every datagram. Run with
 * `npx tsx bench/parse-hostile.bench.ts`; BENCH_SECONDS (default 1) sets the time per figure.
 * Figures, not assertions: nothing here fails a build.
 *
 * The "datagrams/s per core" column is how many such datagrams one core can decode: a sender
 * above it saturates the core with decoding alone.
 *
 * The second table is the whole engine: each datagram from its own address into a responder
 * that admits every IKE_SA_INIT (test/engine/stranger-init.ts), decoded, admitted or dropped,
 * answered (a DH computation for those admitted), until the engine is idle.
 */
import { performance } from 'node:perf_hooks';
import { renderTable } from '../src/control/text-table.js';
import { decodeMessage } from '../src/wire/index.js';
import { settle } from '../test/engine/lab.js';
import { ADMIT_EVERY_INIT, floodDatagram, openResponderLab, strangerInitBytes } from '../test/engine/stranger-init.js';
import { HOSTILE_VARIANTS, hostileIkeSaInit, plainIkeSaInit } from '../test/wire/hostile-ike-sa-init.js';

const seconds = Number(process.env.BENCH_SECONDS ?? '1');

/** Mean milliseconds per call of `op` over about `seconds`. */
function msPerOp(op: () => unknown): number {
  const budget = seconds * 1000;
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budget) {
    op();
    n++;
    elapsed = performance.now() - start;
  }
  return elapsed / n;
}

const plain = plainIkeSaInit();
// 63 KB as sent in the attack; 30 KB fits under MAX_MESSAGE_OCTETS, so the count limits act.
const inputs = [
  { name: 'plain IKE_SA_INIT', bytes: plain },
  ...HOSTILE_VARIANTS.flatMap((v) => [63_000, 30_000].map((size) => ({ name: `hostile: ${v}, ${size / 1000} KB`, bytes: hostileIkeSaInit(plain, v, size) }))),
];

const rows = inputs.map(({ name, bytes }) => {
  const result = decodeMessage(bytes);
  const outcome = result.ok ? `decoded, ${result.value.payloads.length} payloads` : `refused: ${result.error.code}`;
  const ms = msPerOp(() => decodeMessage(bytes));
  return [name, bytes.length.toLocaleString('en-US'), outcome, ms < 0.01 ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(3)} ms`, Math.round(1000 / ms).toLocaleString('en-US')];
});

console.log(`decodeMessage, ${seconds} s per figure, Node ${process.version}\n`);
console.log(renderTable(['input', 'octets', 'outcome', 'per datagram', 'datagrams/s per core'], rows));

/** Mean milliseconds per datagram through the engine, and whether it made an SA. */
async function engineMs(bytes: Buffer, count: number): Promise<{ ms: number; sas: number }> {
  const lab = openResponderLab({ silent: true }, ADMIT_EVERY_INIT);
  const datagrams = Array.from({ length: count }, (_, i) => floodDatagram(bytes, i));
  const start = performance.now();
  // The supervisor handles each datagram at once; the responders it makes answer on the next
  // microtasks, done when the event loop turns.
  for (const d of datagrams) lab.b.engine.receive(d);
  await settle();
  return { ms: (performance.now() - start) / count, sas: lab.b.engine.size() };
}

const stranger = strangerInitBytes('198.51.100.1');
const engineInputs = [{ name: 'valid IKE_SA_INIT', bytes: stranger }, ...HOSTILE_VARIANTS.map((v) => ({ name: `hostile: ${v}, 63 KB`, bytes: hostileIkeSaInit(stranger, v) }))];
const engineRows: string[][] = [];
for (const { name, bytes } of engineInputs) {
  const count = 200;
  await engineMs(bytes, 20); // warm-up
  const { ms, sas } = await engineMs(bytes, count);
  engineRows.push([name, bytes.length.toLocaleString('en-US'), `${sas} of ${count}`, `${ms.toFixed(3)} ms`, Math.round(1000 / ms).toLocaleString('en-US')]);
}
console.log('\nthe engine (decode, admission, answer), 200 datagrams each\n');
console.log(renderTable(['input', 'octets', 'half-open SAs made', 'per datagram', 'datagrams/s per core'], engineRows));
