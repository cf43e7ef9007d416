/**
 * AUTH signatures on the event loop against in worker threads (src/engine/signing-workers.ts):
 * for each key type, N signatures made here with signData, then through the workers with W in
 * flight. Prints signatures per second and the event loop's busy time per signature (from
 * performance.eventLoopUtilization): what a handshake with certificates costs the thread that
 * reads the sockets and runs the machines.
 *
 *   npx tsx bench/signing.bench.ts [N=2000] [W=64]
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createSigningWorkers, defaultSigningThreads } from '../src/engine/signing-workers.js';
import { signData, type SignatureScheme } from '../src/pki/signature-algorithm.js';

const N = Number(process.argv[2] ?? 2000);
const W = Number(process.argv[3] ?? 64);
const octets = Buffer.alloc(400, 7); // about the size of InitiatorSignedOctets

const keys: { name: string; key: KeyObject; scheme: SignatureScheme }[] = [
  { name: 'RSA-2048, PKCS#1 v1.5 SHA-256', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, scheme: { kind: 'rsa-pkcs1', hash: 'sha256' } },
  { name: 'RSA-3072, PKCS#1 v1.5 SHA-256', key: generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey, scheme: { kind: 'rsa-pkcs1', hash: 'sha256' } },
  { name: 'ECDSA P-256 SHA-256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, scheme: { kind: 'ecdsa', hash: 'sha256' } },
];

const threads = defaultSigningThreads();
console.log(`${N} signatures each; workers: ${threads} thread(s), ${W} in flight`);
console.log('| key | where | signatures/s | event loop busy per signature |');
console.log('| --- | --- | ---: | ---: |');
for (const { name, key, scheme } of keys) {
  for (let i = 0; i < 50; i++) signData(scheme, key, octets);
  let elu = performance.eventLoopUtilization();
  let t = performance.now();
  for (let i = 0; i < N; i++) signData(scheme, key, octets);
  // A synchronous loop is not seen by ELU until the loop turns: measure it as wall time.
  const hereMs = performance.now() - t;
  console.log(`| ${name} | event loop | ${((N * 1000) / hereMs).toFixed(0)} | ${((hereMs * 1000) / N).toFixed(0)} µs |`);

  const workers = createSigningWorkers({ threads });
  await Promise.all(Array.from({ length: 50 }, () => workers.sign(scheme, key, octets)));
  elu = performance.eventLoopUtilization();
  t = performance.now();
  let started = 0;
  await new Promise<void>((resolve) => {
    let done = 0;
    const more = (): void => {
      while (started < N && started - done < W) {
        started++;
        void workers.sign(scheme, key, octets).then(() => {
          if (++done === N) resolve();
          else more();
        });
      }
    };
    more();
  });
  const wallMs = performance.now() - t;
  const busy = performance.eventLoopUtilization(elu);
  console.log(`| ${name} | workers | ${((N * 1000) / wallMs).toFixed(0)} | ${((busy.active * 1000) / N).toFixed(0)} µs |`);
  await workers.close();
}
