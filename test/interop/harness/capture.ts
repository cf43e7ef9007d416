/**
 * Packet capture inside a lab namespace with dumpcap (from Debian's tshark packages), so a test
 * can hand the file to tshark (test/support/tshark.ts) as an outside judge.
 *
 * Start-up: dumpcap writes the pcapng section header only after it has opened the interface,
 * so "file is non-empty" means packets sent from now on are captured.
 *
 * Stop: libpcap hands packets over in blocks that are retired at the latest after dumpcap's
 * read timeout (250 ms); on SIGINT dumpcap leaves its loop without reading a block that is
 * still open, so packets from the last ~250 ms were silently missing (measured: a ping right
 * before stop() never reached the file). stop() therefore waits `settleMs` first, then sends
 * SIGINT and waits for the exit, after which the file is complete.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { IP } from './netns.js';
import { sleep, waitUntil } from './process.js';

export const DUMPCAP = process.env.IKEKM_DUMPCAP ?? 'dumpcap';

export interface Capture {
  readonly file: string;
  /**
   * Waits `settleMs` (default 400) so the last packets reach dumpcap, stops it, and resolves
   * once the file is flushed and closed. Idempotent.
   */
  stop(options?: { readonly settleMs?: number }): Promise<void>;
}

export interface CaptureOptions {
  /** Capture filter (BPF), e.g. "udp". */
  readonly filter?: string;
  /** Wait for the capture to be ready at most this long (default 10 s). */
  readonly startTimeoutMs?: number;
}

export async function startCapture(ns: string, iface: string, file: string, options: CaptureOptions = {}): Promise<Capture> {
  const errFile = `${file}.dumpcap.log`;
  const err = openSync(errFile, 'a');
  let child: ChildProcess;
  try {
    const args = ['netns', 'exec', ns, DUMPCAP, '-q', '-i', iface, '-w', file];
    if (options.filter !== undefined) args.push('-f', options.filter);
    child = spawn(IP, args, { stdio: ['ignore', err, err] });
  } finally {
    closeSync(err);
  }
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: { readonly settleMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      if (exited) return;
      await sleep(stopOptions.settleMs ?? 400);
      child.kill('SIGINT');
      const clean = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
      if (!clean) {
        child.kill('SIGKILL');
        await Promise.race([exit, sleep(2_000)]);
      }
    })();
    return stopping;
  };

  try {
    await waitUntil(
      `dumpcap on ${ns}/${iface} to start`,
      () => {
        if (exited) throw new Error(`dumpcap exited: ${existsSync(errFile) ? readFileSync(errFile, 'utf8') : ''}`);
        return existsSync(file) && statSync(file).size > 0 ? true : undefined;
      },
      { timeoutMs: options.startTimeoutMs ?? 10_000, intervalMs: 50 },
    );
  } catch (error) {
    await stop({ settleMs: 0 });
    throw error;
  }
  return { file, stop };
}
