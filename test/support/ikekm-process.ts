/**
 * `ikekm ARGS` as a user runs it (node bin/ikekm.js in a process of its own), to completion:
 * asynchronously, so a daemon in the test's process keeps answering meanwhile.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const IKEKM_BIN = fileURLToPath(new URL('../../bin/ikekm.js', import.meta.url));

export interface IkekmRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runIkekm(args: readonly string[]): Promise<IkekmRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [IKEKM_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
