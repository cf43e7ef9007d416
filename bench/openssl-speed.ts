/**
 * The OpenSSL floor for a primitive, measured on this machine by `openssl speed -mr`, so each
 * ikekm figure can be printed beside what the same library does without Node and ikekm around it.
 * Returns undefined when openssl is missing or does not know the primitive.
 */
import { spawnSync } from 'node:child_process';

// openssl speed takes whole seconds only.
const seconds = Math.max(1, Math.round(Number(process.env.BENCH_SECONDS ?? '1')));

function speed(args: readonly string[]): string[] {
  const r = spawnSync('openssl', ['speed', '-mr', '-seconds', String(seconds), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0 || typeof r.stdout !== 'string') return [];
  return r.stdout.split('\n').filter((l) => l.startsWith('+'));
}

/** Key agreements (derive only) per second: `ecdhp256`, `ecdhx25519`, `ffdh2048`, ... */
export function opensslKeyAgreementOps(name: string): number | undefined {
  // +F5:<idx>:<bits>:<ops/s>:<s/op> for ECDH, +F8:... for FFDH (OpenSSL 3.0 apps/speed.c -mr format).
  const line = speed([name]).find((l) => l.startsWith('+F5:') || l.startsWith('+F8:'));
  const ops = line?.split(':')[3];
  return ops === undefined ? undefined : Number(ops);
}

/** Operations per second on `bytes`-sized buffers for an EVP cipher (`aes-256-gcm`) or an HMAC digest. */
export function opensslBlockOps(kind: 'evp' | 'hmac', algorithm: string, bytes: number): number | undefined {
  // +F:<idx>:<name>:<bytes/s> for the single block size requested.
  const line = speed(['-bytes', String(bytes), `-${kind}`, algorithm]).find((l) => l.startsWith('+F:'));
  const bytesPerSecond = line?.split(':')[3];
  return bytesPerSecond === undefined ? undefined : Number(bytesPerSecond) / bytes;
}
