/**
 * Small host-side helpers for the kernel VM build: running a program, finding one, and telling
 * a static executable from a dynamic one (the initramfs has no C library, so its busybox must
 * be static).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, openSync, readSync, closeSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Pass the program's stderr through to ours (long steps such as apt-get). */
  readonly showStderr?: boolean;
  readonly timeoutMs?: number;
}

/** Runs `file args…`; resolves with the status and output, whatever the status. */
export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', options.showStderr ? 'inherit' : 'pipe'],
      timeout: options.timeoutMs ?? 15 * 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => (stderr += `${error.message}\n`));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Like `exec`, but throws with the command and its stderr unless it exited 0. */
export async function execChecked(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const result = await exec(file, args, options);
  if (result.code !== 0) {
    const output = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    throw new Error(`\`${[file, ...args].join(' ')}\` exited ${result.code ?? 'by a signal'}${output ? `:\n${output}` : ''}`);
  }
  return result;
}

/** The full path of an executable on PATH (plus the sbin directories, which root needs). */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True for a 64-bit little-endian ELF executable without a program interpreter (PT_INTERP). */
export function isStaticElf(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 64 || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Quotes a string for POSIX sh: 'it'\''s'. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** True when a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
