/**
 * Running short-lived commands for the interop harness: every call is bounded by a timeout
 * (a hung `ip` or `swanctl` must fail a test, not stall the whole run) and resolves with the
 * exit status instead of throwing, because several callers expect failures (wrong PSK,
 * polling a socket that is not up yet). `runChecked` is the throwing variant for set-up steps.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Kill the command (SIGKILL) after this long. Default 10 s. */
  readonly timeoutMs?: number;
  /** Written to the command's standard input, which is then closed. */
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly command: string;
  /** Exit code, or null when the command was killed by a signal (including our timeout). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** True when the command exited 0. */
  readonly ok: boolean;
}

export const DEFAULT_RUN_TIMEOUT_MS = 10_000;

/** Runs `file args…` on the host; never rejects except for a programming error. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args].join(' ');
  const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  return new Promise((resolve) => {
    const child = spawn(file, [...args], {
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      // ENOENT and friends: report like a failed command so callers have one path.
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (spawnError) stderr += `${stderr === '' ? '' : '\n'}${spawnError.message}`;
      if (timedOut) stderr += `${stderr === '' ? '' : '\n'}timed out after ${timeoutMs} ms`;
      resolve({ command, code: spawnError ? null : code, signal, stdout, stderr, timedOut, ok: code === 0 && !spawnError && !timedOut });
    });
  });
}

/** Like `run`, but rejects with the command, status and stderr unless it exited 0. */
export async function runChecked(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(file, args, options);
  if (!result.ok) throw new Error(describeFailure(result));
  return result;
}

export function describeFailure(result: RunResult): string {
  const status = result.timedOut ? 'timed out' : result.code !== null ? `exited ${result.code}` : `killed by ${result.signal ?? 'unknown'}`;
  const output = `${result.stderr}\n${result.stdout}`.trim();
  return `\`${result.command}\` ${status}${output === '' ? '' : `:\n${output}`}`;
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { readonly timeoutMs: number; readonly intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await sleep(Math.min(interval, Math.max(1, deadline - Date.now())));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when a process with this pid exists (signal 0 probes without signalling). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but belongs to someone else: still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
