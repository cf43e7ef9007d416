/**
 * AUTH signatures made in worker threads, off the event loop that reads the sockets and runs the
 * machines. An RSA-3072 signature takes milliseconds, longer than the rest of a PSK handshake;
 * made on the main thread it caps the handshakes per second of a gateway with certificates at
 * what one core signs. The machines already wait for a signature as an asynchronous step (the
 * `sign` effect, state `signing`), so where it is made changes nothing above the CredentialPort.
 *
 * The workers run a few lines of plain JavaScript with node:crypto (evaluated, so they need no
 * TypeScript loader); the private key goes to them as a KeyObject, which Node clones into the
 * worker without exporting it. Nothing of a key or a signature is logged. The threads are
 * unref'd (they never keep the daemon alive) and made on the first signature, so a daemon with
 * PSKs only has none.
 */
import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { signingParameters, type SchemeOptions, type SignatureScheme } from '../pki/signature-algorithm.js';

export interface SigningWorkers {
  sign(scheme: SignatureScheme, key: KeyObject, data: Buffer): Promise<Buffer>;
  /** Signatures asked for and not answered yet. */
  readonly pending: number;
  /** Ends the threads; signatures still pending are refused. */
  close(): Promise<void>;
}

interface SignRequest {
  readonly id: number;
  readonly key: KeyObject;
  readonly digest: string | null;
  readonly options: SchemeOptions;
  readonly data: Buffer;
}

type SignAnswer = { readonly id: number; readonly signature: Uint8Array } | { readonly id: number; readonly error: string };

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { sign } = require('node:crypto');
parentPort.on('message', (r) => {
  try {
    const signature = sign(r.digest, r.data, { key: r.key, ...r.options });
    parentPort.postMessage({ id: r.id, signature }, [signature.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: r.id, error: e instanceof Error ? e.message : String(e) });
  }
});
`;

/** One thread fewer than the cores (the event loop keeps one), at least one, at most `max`. */
export function defaultSigningThreads(max = 4): number {
  return Math.max(1, Math.min(max, availableParallelism() - 1));
}

export function createSigningWorkers(options: { readonly threads?: number } = {}): SigningWorkers {
  const threads = options.threads ?? defaultSigningThreads();
  const workers: Worker[] = [];
  const waiting = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let next = 0;
  let closed = false;

  const failAll = (reason: string): void => {
    for (const w of waiting.values()) w.reject(new Error(reason));
    waiting.clear();
  };

  const start = (): void => {
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      worker.on('message', (answer: SignAnswer) => {
        const w = waiting.get(answer.id);
        if (w === undefined) return;
        waiting.delete(answer.id);
        if ('error' in answer) w.reject(new Error(`signing failed: ${answer.error}`));
        else w.resolve(Buffer.from(answer.signature.buffer, answer.signature.byteOffset, answer.signature.byteLength));
      });
      // A thread that dies takes its requests with it: every waiting one is refused (the machines
      // answer the peer AUTHENTICATION_FAILED), and the next signature starts new threads.
      worker.on('error', (e) => {
        workers.length = 0;
        failAll(`a signing thread failed: ${e.message}`);
      });
      workers.push(worker);
    }
  };

  return {
    get pending() {
      return waiting.size;
    },
    sign(scheme, key, data) {
      if (closed) return Promise.reject(new Error('the signing threads are closed'));
      if (workers.length === 0) start();
      const { digest, options: schemeOptions } = signingParameters(scheme);
      const id = nextId++;
      const request: SignRequest = { id, key, digest, options: schemeOptions, data };
      return new Promise<Buffer>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        workers[next++ % workers.length]!.postMessage(request);
      });
    },
    async close() {
      closed = true;
      failAll('the signing threads are closed');
      await Promise.all(workers.splice(0).map((w) => w.terminate()));
    },
  };
}
