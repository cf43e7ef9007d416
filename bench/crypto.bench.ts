/**
 * Micro-benchmarks of ikekm's crypto hot path, each printed beside the `openssl speed` figure
 * for the same primitive on this machine. Run with `npm run bench:crypto`; BENCH_SECONDS
 * (default 1) sets the time per figure. Figures, not assertions: nothing here fails a build.
 *
 *   DH        key pair generation and shared-secret derivation per group
 *   KE        one side's whole key exchange (generate, keep, derive), as an IKE SA does it
 *   prf+      the IKE SA keying material of RFC 7296 2.14 for a typical suite
 *   SK        seal and open of an SK payload body per encryption suite
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { renderTable } from '../src/control/text-table.js';
import { createCryptoRegistry } from '../src/crypto/registry.js';
import { prfPlus } from '../src/crypto/prf-plus.js';
import { createSkProtection, openSkBody, sealSkBody, skBodyLength } from '../src/crypto/sk-payload.js';
import { DhId, EncrId, IntegId, PrfId } from '../src/wire/iana.js';
import type { EncryptionTransform, IntegrityTransform } from '../src/crypto/types.js';
import { opensslBlockOps, opensslKeyAgreementOps } from './openssl-speed.js';

const seconds = Number(process.env.BENCH_SECONDS ?? '1');
const registry = createCryptoRegistry();

/** Runs `op` repeatedly for about `seconds` and returns operations per second. */
function opsPerSecond(op: () => unknown): number {
  const budget = seconds * 1000;
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  // Check the clock every 16 ops so fast operations are not dominated by performance.now().
  while (elapsed < budget) {
    for (let i = 0; i < 16; i++) op();
    n += 16;
    elapsed = performance.now() - start;
  }
  return (n * 1000) / elapsed;
}

const fmt = (x: number | undefined): string =>
  x === undefined ? 'n/a' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
const ratio = (ours: number, theirs: number | undefined): string =>
  theirs === undefined ? '' : `${((ours / theirs) * 100).toFixed(0)} %`;

function benchDh(): string {
  const groups: { id: number; openssl: string }[] = [
    { id: DhId.CURVE25519, openssl: 'ecdhx25519' },
    { id: DhId.ECP_256, openssl: 'ecdhp256' },
    { id: DhId.ECP_384, openssl: 'ecdhp384' },
    { id: DhId.ECP_521, openssl: 'ecdhp521' },
    { id: DhId.MODP_2048, openssl: 'ffdh2048' },
    { id: DhId.MODP_3072, openssl: 'ffdh3072' },
    { id: DhId.MODP_4096, openssl: 'ffdh4096' },
  ];
  const rows = groups.map(({ id, openssl }) => {
    const group = registry.dhGroup(id);
    if (group === undefined) throw new Error(`group ${id} missing from the registry`);
    const own = group.generateKeyPair(randomBytes);
    const peer = group.generateKeyPair(randomBytes).publicValue;
    const keygen = opsPerSecond(() => group.generateKeyPair(randomBytes));
    const derive = opsPerSecond(() => group.computeSharedSecret(own, peer));
    const reference = opensslKeyAgreementOps(openssl);
    return [`${group.name} (${id})`, fmt(keygen), fmt(derive), fmt(reference), ratio(derive, reference)];
  });
  return renderTable(['group', 'keygen/s', 'derive/s', 'openssl derive/s', 'derive vs openssl'], rows);
}

/**
 * One side's key exchange as the IKE SA machines run it: generate the pair, keep it (the context
 * holds the object the group handed out), derive g^ir with the peer's value. Beside it the same
 * with a pair rebuilt from its fields, which cannot reuse the OpenSSL context made while
 * generating (the scalar multiplication is then done twice): the gain of that reuse.
 */
function benchKeyExchange(): string {
  const ids = [DhId.CURVE25519, DhId.ECP_256, DhId.ECP_384, DhId.ECP_521, DhId.MODP_2048];
  const rows = ids.map((id) => {
    const group = registry.dhGroup(id);
    if (group === undefined) throw new Error(`group ${id} missing from the registry`);
    const peer = group.generateKeyPair(randomBytes).publicValue;
    const kept = opsPerSecond(() => group.computeSharedSecret(group.generateKeyPair(randomBytes), peer));
    const rebuilt = opsPerSecond(() => {
      const pair = group.generateKeyPair(randomBytes);
      return group.computeSharedSecret({ group: pair.group, privateKey: Buffer.from(pair.privateKey), publicValue: Buffer.from(pair.publicValue) }, peer);
    });
    return [`${group.name} (${id})`, fmt(kept), fmt(rebuilt), ratio(kept, rebuilt)];
  });
  return renderTable(['group', 'generate+derive/s', 'rebuilt pair: generate+derive/s', 'kept vs rebuilt'], rows);
}

function benchPrfPlus(): string {
  // 2.14 keying material for aes256gcm16-prfsha384: SK_d, SK_pi, SK_pr (48 each) + SK_ei, SK_er (36 each).
  const cases = [
    { id: PrfId.PRF_HMAC_SHA1, length: 3 * 20 + 2 * 20 + 2 * 16, digest: 'sha1' },
    { id: PrfId.PRF_HMAC_SHA2_256, length: 3 * 32 + 2 * 32 + 2 * 16, digest: 'sha256' },
    { id: PrfId.PRF_HMAC_SHA2_384, length: 3 * 48 + 2 * 36, digest: 'sha384' },
    { id: PrfId.PRF_HMAC_SHA2_512, length: 3 * 64 + 2 * 64 + 2 * 32, digest: 'sha512' },
  ];
  const seed = randomBytes(32 + 32 + 16); // Ni | Nr | SPIi | SPIr
  const rows = cases.map(({ id, length, digest }) => {
    const prf = registry.prf(id);
    if (prf === undefined) throw new Error(`prf ${id} missing from the registry`);
    const key = randomBytes(prf.keyLength);
    const iterations = Math.ceil(length / prf.outputLength);
    const ours = opsPerSecond(() => prfPlus(prf, key, seed, length));
    // One prf+ of `length` octets is `iterations` HMACs over (T | S | n): compare per HMAC.
    const hmac = opensslBlockOps('hmac', digest, 64 + seed.length + 1);
    return [prf.name, `${length}`, fmt(ours), fmt(ours * iterations), fmt(hmac), ratio(ours * iterations, hmac)];
  });
  return renderTable(['prf', 'octets', 'prf+/s', 'HMACs/s', 'openssl HMAC/s', 'vs openssl'], rows);
}

function benchSk(plaintextLength: number): string {
  const suites: { name: string; encr: EncryptionTransform | undefined; integ?: IntegrityTransform | undefined; evp: string }[] = [
    { name: 'aes128-sha256', encr: registry.encryption(EncrId.ENCR_AES_CBC, 128), integ: registry.integrity(IntegId.AUTH_HMAC_SHA2_256_128), evp: 'aes-128-cbc' },
    { name: 'aes256-sha256', encr: registry.encryption(EncrId.ENCR_AES_CBC, 256), integ: registry.integrity(IntegId.AUTH_HMAC_SHA2_256_128), evp: 'aes-256-cbc' },
    { name: 'aes128gcm16', encr: registry.encryption(EncrId.ENCR_AES_GCM_16, 128), evp: 'aes-128-gcm' },
    { name: 'aes256gcm16', encr: registry.encryption(EncrId.ENCR_AES_GCM_16, 256), evp: 'aes-256-gcm' },
    { name: 'chacha20poly1305', encr: registry.encryption(EncrId.ENCR_CHACHA20_POLY1305), evp: 'chacha20-poly1305' },
  ];
  const rows = suites.map(({ name, encr, integ, evp }) => {
    if (encr === undefined) throw new Error(`${name} missing from the registry`);
    const protection = createSkProtection({
      encryption: encr,
      integrity: integ,
      encryptionKey: randomBytes(encr.keyLength),
      integrityKey: integ === undefined ? undefined : randomBytes(integ.keyLength),
    });
    const plaintext = randomBytes(plaintextLength);
    // IKE header + SK generic header. Only the header's Length field matters to sealSkBody (the
    // checksum covers it, so it must already hold the final message length).
    const prefix = Buffer.alloc(28 + 4);
    prefix.writeUInt32BE(prefix.length + skBodyLength(protection, plaintextLength), 24);
    const body = sealSkBody(protection, prefix, plaintext, randomBytes);
    if (body.length !== skBodyLength(protection, plaintextLength)) throw new Error('skBodyLength disagrees with sealSkBody');
    const seal = opsPerSecond(() => sealSkBody(protection, prefix, plaintext, randomBytes));
    const open = opsPerSecond(() => openSkBody(protection, prefix, body));
    const reference = opensslBlockOps('evp', evp, plaintextLength);
    return [name, fmt(seal), fmt(open), fmt(reference), ratio(seal, reference)];
  });
  return renderTable(['suite', 'seal/s', 'open/s', 'openssl cipher only/s', 'seal vs openssl'], rows);
}

const out = (title: string, table: string): void => {
  process.stdout.write(`\n${title}\n\n${table}\n`);
};

process.stdout.write(
  `ikekm crypto benchmarks — node ${process.version}, OpenSSL ${process.versions.openssl}, ${seconds} s per figure\n` +
    '(openssl figures: `openssl speed -mr` on this machine, one core, same primitive)\n',
);
out('Diffie-Hellman (one side of one exchange)', benchDh());
out('Key exchange of one IKE_SA_INIT side: generate, keep, derive', benchKeyExchange());
out('prf+ for the IKE SA keying material (RFC 7296 2.14)', benchPrfPlus());
out('SK payload, 256-octet IKE_AUTH-sized plaintext', benchSk(256));
out('SK payload, 1024-octet plaintext', benchSk(1024));
