/**
 * The OpenSSL command line as the independent judge of what ikekm's PKI code writes: runs
 * `openssl` with arguments, keeps its exit status and both outputs, and never throws on a
 * non-zero status (a test that expects a rejection reads the status).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr together: `openssl verify` prints its verdict on one, its errors on the other. */
  readonly output: string;
}

export function openssl(args: readonly string[], input?: Buffer | string): OpensslRun {
  const r = spawnSync('openssl', [...args], { input, encoding: 'utf8', timeout: 30_000 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}${r.stderr}` };
}

/** Runs openssl and fails the test with its stderr if it fails. */
export function opensslOk(args: readonly string[], input?: Buffer | string): string {
  const r = openssl(args, input);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A temporary directory for the files of one test file, removed by `remove`. */
export function scratchDirectory(prefix: string): { readonly path: string; file(name: string): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}
