/**
 * What a hostile IKE_SA_INIT costs to decode: a plain request beside the ~63 KB ones padded with
 * empty Notifies, empty Vendor IDs or 255 Proposals (test/wire/hostile-ike-sa-init.ts), each
 * decoded by `decodeMessage` as the supervisor does for every datagram. Run with
 * `npx tsx bench/parse-hostile.bench.ts`; BENCH_SECONDS (default 1) sets the time per figure.
 * Figures, not assertions: nothing here fails a build.
 *
 * The "datagrams/s per core" column is how many such datagrams one core can decode: a sender
 * above it saturates the core with decoding alone.
 */
import { performance } from 'node:perf_hooks';
import { renderTable } from '../src/control/text-table.js';
import { decodeMessage } from '../src/wire/index.js';
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
