/**
 * AUTH signatures made in worker threads: each scheme signs as signData does (the signature
 * verifies with the certificate's key), a key that cannot sign is refused with the reason, and
 * closed threads refuse what is still asked.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createSigningWorkers, type SigningWorkers } from '../../src/engine/signing-workers.js';
import { verifyData, type SignatureScheme } from '../../src/pki/signature-algorithm.js';

let workers: SigningWorkers | undefined;
afterEach(async () => {
  await workers?.close();
  workers = undefined;
});

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const data = Buffer.from('InitiatorSignedOctets of a test');

describe('signing workers', () => {
  it('sign with every scheme the AUTH payloads use; each signature verifies', async () => {
    workers = createSigningWorkers({ threads: 2 });
    const cases: [SignatureScheme, typeof rsa][] = [
      [{ kind: 'rsa-pkcs1', hash: 'sha256' }, rsa],
      [{ kind: 'rsa-pss', hash: 'sha384', saltLength: 48 }, rsa],
      [{ kind: 'ecdsa', hash: 'sha256' }, ec],
      [{ kind: 'ed25519' }, ed],
    ];
    const signatures = await Promise.all(cases.map(([scheme, pair]) => workers!.sign(scheme, pair.privateKey, data)));
    cases.forEach(([scheme, pair], i) => expect(verifyData(scheme, pair.publicKey, data, signatures[i]!), scheme.kind).toBe(true));
    expect(verifyData({ kind: 'ecdsa', hash: 'sha256' }, ec.publicKey, Buffer.from('other octets'), signatures[2]!)).toBe(false);
    expect(workers.pending).toBe(0);
  });

  it('refuses a key that cannot make the signature, with the reason', async () => {
    workers = createSigningWorkers({ threads: 1 });
    const x25519 = generateKeyPairSync('x25519'); // a key-agreement key: it cannot sign
    await expect(workers.sign({ kind: 'ed25519' }, x25519.privateKey, data)).rejects.toThrow(/^signing failed: .+/);
    // The thread lives on.
    const ok = await workers.sign({ kind: 'ecdsa', hash: 'sha256' }, ec.privateKey, data);
    expect(verifyData({ kind: 'ecdsa', hash: 'sha256' }, ec.publicKey, data, ok)).toBe(true);
  });

  it('once closed, refuses every signature', async () => {
    workers = createSigningWorkers({ threads: 1 });
    await workers.sign({ kind: 'ed25519' }, ed.privateKey, data);
    await workers.close();
    await expect(workers.sign({ kind: 'ed25519' }, ed.privateKey, data)).rejects.toThrow('the signing threads are closed');
  });
});
