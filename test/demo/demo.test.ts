/**
 * `ikekm demo` as a user runs it (it runs to its first rekey and exits 0 on SIGINT): the real CLI in a child process, stdout piped so the demo prints one line per event.
 * The first Child SA rekey comes ~18-20 s after the SAs are up (ikekm-a's 20 s soft lifetime
 * minus its jitter), once with the PSK and once with certificates (--auth pubkey), so the whole
 * file takes about a minute.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface DemoRun {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the first line matching, or rejects after `timeoutMs` (with what was seen). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(args: readonly string[] = []): DemoRun {
  const child = spawn(process.execPath, ['bin/ikekm.js', 'demo', ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  let errText = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    partial += chunk;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => void (errText += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr: () => errText,
    exited,
    waitFor(pattern, timeoutMs) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${errText}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`the demo exited before a line matching ${pattern}; stdout:\n${lines.join('\n')}\nstderr:\n${errText}`));
        });
      });
    },
  };
}

function tempDirOf(run: DemoRun): string {
  const line = run.lines.find((l) => l.startsWith('demo: temp dir '));
  const path = line?.slice('demo: temp dir '.length).split(' ')[0];
  if (path === undefined || path === '') throw new Error(`no "demo: temp dir" line in:\n${run.lines.join('\n')}`);
  return path;
}

/** `key=value` fields of an event line. */
function fields(line: string): Record<string, string> {
  return Object.fromEntries(line.split(' ').slice(3).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
}

/**
 * Runs the demo to its first Child SA rekey, `whileUp` checking what only exists while it runs
 * (the temporary directory), then stops it with SIGINT and checks that both sides reported the
 * deletes and that nothing is left behind.
 */
async function runToFirstRekey(args: readonly string[], whileUp: (run: DemoRun) => void | Promise<void> = () => undefined): Promise<DemoRun> {
  const run = startDemo(args);
  try {
    const upA = await run.waitFor(/^event ikekm-a child-sa-up /, 15_000);
    const upB = await run.waitFor(/^event ikekm-b child-sa-up /, 15_000);
    // The two ends of one Child SA: each side's inbound SPI is the other's outbound.
    expect(fields(upA)['in']).toBe(fields(upB)['out']);
    expect(fields(upA)['out']).toBe(fields(upB)['in']);
    expect(tempDirOf(run)).toMatch(/ikekm-demo-/);
    expect(existsSync(tempDirOf(run))).toBe(true);
    await whileUp(run);

    const rekeyed = await run.waitFor(/^event ikekm-[ab] child-sa-rekeyed /, 40_000);
    expect(fields(rekeyed)['old']).toMatch(/^[0-9a-f]{8}$/);

    run.child.kill('SIGINT');
    const exit = await run.exited;
    expect(exit, run.stderr()).toEqual({ code: 0, signal: null });
    expect(run.lines).toContain('demo: stopped cleanly');
    // ikekm-a stops first and deletes its SAs; ikekm-b hears the Delete and reports both SAs
    // down at once (its IKE SA still lingers internally to answer a retransmitted Delete).
    const stopping = run.lines.indexOf(run.lines.find((l) => l.startsWith('event ikekm-a stopping ')) ?? '');
    expect(stopping).toBeGreaterThan(0);
    const afterStop = run.lines.slice(stopping);
    expect(afterStop.some((l) => /^event ikekm-a ike-sa-down .*reason="ikekm daemon stopping"/.test(l)), afterStop.join('\n')).toBe(true);
    expect(afterStop.some((l) => /^event ikekm-a child-sa-down /.test(l)), afterStop.join('\n')).toBe(true);
    expect(afterStop.some((l) => /^event ikekm-b child-sa-down .*reason="deleted by the peer"/.test(l)), afterStop.join('\n')).toBe(true);
    expect(afterStop.some((l) => /^event ikekm-b ike-sa-down /.test(l)), afterStop.join('\n')).toBe(true);
    expect(run.lines.filter((l) => l.includes('failed'))).toEqual([]);
    expect(existsSync(tempDirOf(run))).toBe(false);
    // Nothing of the daemons' logs reaches the terminal.
    expect(run.lines.filter((l) => !/^(event|demo:) /.test(l) && l !== '')).toEqual([]);
    return run;
  } finally {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  }
}

/** The daemons' pino log lines (the demo writes them into its temporary directory). */
function logLines(run: DemoRun): Record<string, unknown>[] {
  const path = run.lines.find((l) => l.startsWith('demo: log '))?.slice('demo: log '.length);
  if (path === undefined) throw new Error(`no "demo: log" line in:\n${run.lines.join('\n')}`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('ikekm demo', () => {
  it('runs to its first Child SA rekey and stops cleanly on SIGINT, both sides reporting the deletes', async () => {
    const run = await runToFirstRekey([]);
    expect(run.lines).toContain('demo: auth psk: a throwaway PSK drawn for this run, never written');
  }, 60_000);

  it('--auth pubkey: certificates of a CA made for the run, written into the temp dir (keys 0600); the tunnel comes up and rekeys as with the PSK', async () => {
    const run = await runToFirstRekey(['--auth', 'pubkey'], async (up) => {
      const dir = tempDirOf(up);
      for (const name of ['ikekm-a', 'ikekm-b']) {
        expect(statSync(join(dir, `${name}-key.pem`)).mode & 0o777).toBe(0o600);
        expect(readFileSync(join(dir, `${name}-cert.pem`), 'latin1')).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      }
      expect(readFileSync(join(dir, 'ca-cert.pem'), 'latin1')).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      // Each daemon checked the other's certificate against the CA (the PSK path logs no such line).
      const checked = (): unknown[] => logLines(up).filter((l) => l['msg'] === "the peer's certificate checked out").map((l) => l['certificate']);
      // pino writes the file asynchronously: give it a moment.
      let certificates = checked();
      for (let i = 0; i < 20 && certificates.length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        certificates = checked();
      }
      expect(certificates.sort()).toEqual(['C=CH, O=ikekm demo, CN=ikekm-a.demo.invalid', 'C=CH, O=ikekm demo, CN=ikekm-b.demo.invalid']);
    });
    expect(run.lines).toContain(
      'demo: auth pubkey: certificates of a throwaway CA "C=CH, O=ikekm demo, CN=ikekm demo CA" (ECDSA P-256), one per side for ikekm-a.demo.invalid and ikekm-b.demo.invalid, in the temp dir',
    );
  }, 60_000);

  it('stops by itself after --duration and exits 0', async () => {
    const run = startDemo(['--duration', '3']);
    try {
      const exit = await run.exited;
      expect(exit, `${run.lines.join('\n')}\n${run.stderr()}`).toEqual({ code: 0, signal: null });
      expect(run.lines).toContain('demo: stopped cleanly');
      expect(run.lines.some((l) => /^event ikekm-a child-sa-up /.test(l))).toBe(true);
      expect(existsSync(tempDirOf(run))).toBe(false);
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    }
  }, 20_000);

  it('refuses an unknown option with exit 2', async () => {
    const run = startDemo(['--frobnicate']);
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(run.stderr()).toContain('unknown option "--frobnicate"');
    const auth = startDemo(['--auth', 'rsa']);
    expect((await auth.exited).code).toBe(2);
    expect(auth.stderr()).toContain('ikekm demo: --auth needs psk or pubkey, got "rsa"');
  }, 20_000);
});
