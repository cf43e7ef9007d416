/**
 * Runs one command as root inside a fresh kernel VM and returns its status and output.
 *
 * The guest sees the host's / read-only under a tmpfs overlay (node, ip, charon, tshark… are
 * the host's; writes vanish at power-off), with the working directory (by default the
 * repository) and `shares` mounted read-write at the same paths. QEMU runs under software
 * emulation; a boot takes about 5 s.
 *
 * Every way a run can go wrong other than the command failing — not built, QEMU refusing to
 * start, a boot that never reaches the command, a guest panic, the timeout — rejects with a
 * KernelVmError that carries the tail of the guest console. The timeout kills QEMU; QEMU also
 * dies with the process that started it (setpriv --pdeathsig), so nothing is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { builtManifest } from './build.js';
import { REPO_ROOT, cacheDir } from './config.js';
import { CONTROL_TAG, HOST_ROOT_TAG, bootScript, commandScript } from './guest-scripts.js';
import { pidAlive, which } from './host.js';

export interface VmRunOptions {
  /** Working directory of the command, shared read-write (default: the repository root). */
  readonly cwd?: string;
  /** More host directories shared read-write, at the same paths. */
  readonly shares?: readonly string[];
  /** Added to (and overriding) the base environment: PATH, HOME=/root, LANG, TERM, TMPDIR, CI. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Wall-clock limit for boot + command + power-off (default 10 min); QEMU is killed after it. */
  readonly timeoutMs?: number;
  /** Called with the command's output as it arrives. */
  readonly onStdout?: (text: string) => void;
  readonly onStderr?: (text: string) => void;
  /** Called with the guest console (kernel messages, boot steps) as it arrives. */
  readonly onConsole?: (text: string) => void;
  /** Guest vCPUs (default 2) and memory in MiB (default 1536). */
  readonly cpus?: number;
  readonly memoryMiB?: number;
  /** Modules to load before the command; normally none are needed, they autoload. */
  readonly preloadModules?: readonly string[];
  /** Keep the run's control directory (boot.sh, console.log, stdout…) and say where. */
  readonly keep?: boolean;
  /** Cache directory of the build (default: cacheDir()). */
  readonly cacheDir?: string;
}

export interface VmTimings {
  /** From starting QEMU until the command started in the guest. */
  readonly bootMs: number;
  /** The command's own run time, by the guest clock. */
  readonly commandMs: number;
  /** Everything, power-off included. */
  readonly totalMs: number;
}

export interface VmRunResult {
  /** The command's exit status (128 + N when signal N killed it). */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The last lines of the guest console. */
  readonly consoleTail: string;
  readonly timings: VmTimings;
}

export type VmFailureKind = 'not-built' | 'qemu-failed' | 'boot-failed' | 'guest-panic' | 'no-result' | 'timeout';

export class KernelVmError extends Error {
  override readonly name = 'KernelVmError';

  /** @param reason what went wrong, in one or a few lines (the message adds the output tails) */
  constructor(
    readonly kind: VmFailureKind,
    readonly reason: string,
    readonly consoleTail: string = '',
    readonly stdout: string = '',
    readonly stderr: string = '',
  ) {
    super(
      [
        reason,
        stderr.trim() ? `--- command stderr (tail) ---\n${tail(stderr, 20)}` : '',
        consoleTail.trim() ? `--- guest console (tail) ---\n${consoleTail}` : '',
      ]
        .filter((part) => part !== '')
        .join('\n'),
    );
  }
}

interface QemuExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

/**
 * Enough for a panic's reason line with its call trace and registers after it (60 lines and more
 * with the `?` frames of a busy kernel): 40 lost the reason line when the trace ran long.
 */
const CONSOLE_TAIL_LINES = 100;
const POLL_MS = 100;
/** After the guest wrote its status, how long it may take to power off before QEMU is killed. */
const POWER_OFF_GRACE_MS = 15_000;

/** Boots the VM, runs `argv` in it, and resolves when the VM is gone. */
export async function runInVm(argv: readonly string[], options: VmRunOptions = {}): Promise<VmRunResult> {
  if (argv.length === 0) throw new Error('runInVm: no command');
  const built = builtManifest(options.cacheDir ?? cacheDir());
  if ('problem' in built) throw new KernelVmError('not-built', `kernel VM not ready: ${built.problem}; run \`npx tsx test/kernel-vm/cli.ts build\` as root`);
  const qemu = which('qemu-system-x86_64');
  if (!qemu) throw new KernelVmError('not-built', 'qemu-system-x86_64 not found (apt-get install qemu-system-x86)');
  const { manifest } = built;

  const cwd = realpathSync(options.cwd ?? REPO_ROOT);
  const sharePaths = [...new Set([cwd, ...(options.shares ?? []).map((p) => realpathSync(p))])].filter((p) => p !== '/');
  const shares = sharePaths.map((path, i) => ({ tag: `ikekm-rw${i}`, path }));
  sweepAbandonedDirs();
  const control = ownedTempDir('ikekm-vm-');
  const file = (name: string): string => join(control, name);
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;

  writeFileSync(
    file('boot.sh'),
    bootScript({ kernelVersion: manifest.kernelVersion, modulesDir: realpathSync(manifest.modulesDir), hostname: `${hostname()}-vm`, shares, preload: options.preloadModules ?? [] }),
  );
  writeFileSync(file('command.sh'), commandScript(argv, guestEnvironment(options.env), cwd));
  for (const name of ['stdout', 'stderr', 'console.log']) writeFileSync(file(name), '');

  const started = Date.now();
  const qemuProcess = startQemu(qemu, manifest.kernel, manifest.initramfs, control, shares, options);
  const streams = {
    stdout: new FollowedFile(file('stdout'), options.onStdout),
    stderr: new FollowedFile(file('stderr'), options.onStderr),
    console: new FollowedFile(file('console.log'), options.onConsole),
  };
  const readAll = (): void => Object.values(streams).forEach((s) => s.read());

  let commandStartedAt: number | undefined;
  let statusSeenAt: number | undefined;
  let timedOut = false;
  let qemuOutput = '';
  qemuProcess.stdout?.setEncoding('utf8').on('data', (chunk: string) => (qemuOutput += chunk));
  qemuProcess.stderr?.setEncoding('utf8').on('data', (chunk: string) => (qemuOutput += chunk));
  const exited = new Promise<QemuExit>((resolve) => {
    qemuProcess.once('error', (error) => resolve({ code: null, signal: null, error }));
    qemuProcess.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const killOnExit = (): void => void qemuProcess.kill('SIGKILL');
  process.once('exit', killOnExit);

  try {
    let exit: QemuExit | undefined;
    while (!exit) {
      exit = await Promise.race([exited, sleep(POLL_MS).then(() => undefined)]);
      readAll();
      const now = Date.now();
      if (commandStartedAt === undefined && existsSync(file('started'))) commandStartedAt = now;
      if (statusSeenAt === undefined && existsSync(file('status'))) statusSeenAt = now;
      const overdue = now - started > timeoutMs;
      const stuckAfterStatus = statusSeenAt !== undefined && now - statusSeenAt > POWER_OFF_GRACE_MS;
      if (!exit && (overdue || stuckAfterStatus)) {
        timedOut = statusSeenAt === undefined;
        qemuProcess.kill('SIGKILL');
        exit = await exited;
      }
    }
    readAll();
    const finished = Date.now();
    const consoleTail = tail(streams.console.text, CONSOLE_TAIL_LINES);
    const stdout = streams.stdout.text;
    const stderr = streams.stderr.text;
    const status = readText(file('status'));

    if (status !== undefined && /^\d+$/.test(status)) {
      const commandSeconds = guestSeconds(file('finished')) - guestSeconds(file('started'));
      return {
        status: Number(status),
        stdout,
        stderr,
        consoleTail,
        timings: {
          bootMs: (commandStartedAt ?? finished) - started,
          commandMs: Number.isFinite(commandSeconds) ? Math.round(commandSeconds * 1000) : 0,
          totalMs: finished - started,
        },
      };
    }
    const seconds = ((finished - started) / 1000).toFixed(1);
    const fail = (kind: VmFailureKind, message: string): KernelVmError => new KernelVmError(kind, message, consoleTail, stdout, stderr);
    if (timedOut) {
      const where = commandStartedAt === undefined ? 'before the command started (boot hung?)' : 'while the command ran';
      throw fail('timeout', `kernel VM timed out after ${timeoutMs / 1000} s ${where}; QEMU was killed`);
    }
    const qemuSaid = qemuOutput.trim() ? `\n--- QEMU ---\n${tail(qemuOutput, 15)}` : '';
    if (exit.error) throw fail('qemu-failed', `cannot start QEMU: ${exit.error.message}`);
    // QEMU exits 0 when the guest powers off or resets (-no-reboot); 1 when it cannot run.
    if (exit.code !== 0 && exit.code !== null) throw fail('qemu-failed', `QEMU exited ${exit.code} after ${seconds} s${qemuSaid}`);
    const failure = readText(file('failure'));
    const panic = /Kernel panic[^\n]*/.exec(streams.console.text)?.[0];
    if (panic) throw fail('guest-panic', `the guest kernel panicked after ${seconds} s: ${panic}${qemuSaid}`);
    if (commandStartedAt === undefined && !existsSync(file('started'))) {
      throw fail('boot-failed', `the VM stopped after ${seconds} s before running the command${failure ? `: ${failure}` : ''}${qemuSaid}`);
    }
    throw fail('no-result', `the VM stopped after ${seconds} s without the command's status${failure ? `: ${failure}` : ''}${qemuSaid}`);
  } finally {
    process.removeListener('exit', killOnExit);
    if (qemuProcess.exitCode === null && qemuProcess.signalCode === null) {
      qemuProcess.kill('SIGKILL');
      await exited;
    }
    if (options.keep) process.stderr.write(`kernel-vm: kept ${control}\n`);
    else rmSync(control, { recursive: true, force: true });
  }
}

/** The command's environment: a small fixed base, then `extra` (undefined values remove). */
export function guestEnvironment(extra: Readonly<Record<string, string | undefined>> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    PATH: [...new Set([dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])].join(':'),
    HOME: '/root',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: '/tmp',
    CI: process.env.CI,
    IKEKM_IN_KERNEL_VM: '1',
  };
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...base, ...extra })) if (value !== undefined) merged[name] = value;
  return merged;
}

function startQemu(
  qemu: string,
  kernel: string,
  initramfs: string,
  control: string,
  shares: ReadonlyArray<{ readonly tag: string; readonly path: string }>,
  options: VmRunOptions,
): ChildProcess {
  const esc = (value: string): string => value.replace(/,/g, ',,'); // QEMU option values double their commas
  const share = (id: string, tag: string, path: string, extra = ''): string[] => [
    '-fsdev',
    `local,id=${id},path=${esc(path)},security_model=none${extra}`,
    '-device',
    `virtio-9p-pci,fsdev=${id},mount_tag=${tag}`,
  ];
  // quiet console; a panic reboots at once (panic=-1), and -no-reboot turns that into QEMU's
  // exit. The crypto self-tests and ACPI PCI interrupt routing cost seconds under emulation.
  const append = 'console=ttyS0 quiet panic=-1 rdinit=/init cryptomgr.notests pci=noacpi';
  const args = [
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none', '-no-reboot'],
    ...['-machine', 'pc', '-accel', 'tcg,thread=multi', '-cpu', 'max'],
    ...['-smp', String(options.cpus ?? 2), '-m', String(options.memoryMiB ?? 1536)],
    ...['-kernel', kernel, '-initrd', initramfs, '-append', append],
    ...['-chardev', `file,id=console,path=${esc(join(control, 'console.log'))}`, '-serial', 'chardev:console', '-monitor', 'none'],
    ...share('root', HOST_ROOT_TAG, '/', ',readonly=on,multidevs=remap'),
    ...share('control', CONTROL_TAG, control),
    ...shares.flatMap((s, i) => share(`rw${i}`, s.tag, s.path, ',multidevs=remap')),
  ];
  // setpriv --pdeathsig: QEMU gets SIGKILL when the thread that started it ends, even by a crash.
  const setpriv = which('setpriv');
  const [file, fileArgs] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', qemu, ...args]] : [qemu, args];
  return spawn(file, fileArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A temporary directory marked with our pid, so that a later run removes it if this process dies
 * without cleaning up (SIGKILL, a crashed test worker). Names start with "ikekm-vm-".
 */
export function ownedTempDir(prefix: `ikekm-vm-${string}`): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

const OWNER_FILE = '.owner-pid';

function sweepAbandonedDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('ikekm-vm-')) continue;
    const owner = Number(readText(join(tmpdir(), name, OWNER_FILE)));
    if (owner > 0 && !pidAlive(owner)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** A file the guest appends to, read as it grows. */
class FollowedFile {
  text = '';
  private offset = 0;
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly path: string,
    private readonly onText?: (text: string) => void,
  ) {}

  read(): void {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return;
    }
    if (size <= this.offset) return;
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.decoder.write(buffer);
    this.text += text;
    if (text !== '') this.onText?.(text);
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function guestSeconds(path: string): number {
  return Number(readText(path) ?? 'NaN');
}

export function tail(text: string, lines: number): string {
  return text.replace(/\n+$/, '').split('\n').slice(-lines).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
