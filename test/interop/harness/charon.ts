/**
 * One strongSwan charon per network namespace, driven with swanctl over its own vici socket.
 *
 * Each charon gets a directory DIR holding everything it owns: strongswan.conf (generated),
 * swanctl.conf (the test's text), charon.log (file logger), charon.vici (control socket),
 * charon.out (stdout/stderr) and the swanctl credential folders (x509/, private/, …), so
 * certificate tests can drop files there before `loadAll()`.
 *
 * charon writes its pid file and other state below /run; two charons on one machine would
 * collide there, so each runs under `unshare -m` with a private tmpfs on /run. The vici
 * socket is a path in DIR, reachable from the host namespace (pathname unix sockets are not
 * bound to a network namespace), so swanctl runs on the host with `--uri unix://DIR/charon.vici`.
 *
 * The generated strongswan.conf deliberately does not include /etc/strongswan.d: the lab must
 * not depend on (or be disturbed by) the machine's own strongSwan settings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDerivedKeys, type DerivedKeys } from './charon-log.js';
import { IP } from './netns.js';
import { describeFailure, run, sleep, waitUntil, type RunResult } from './process.js';
import { parseListSas, type IkeSaInfo } from './vici.js';

export const CHARON = process.env.IKEKM_CHARON ?? '/usr/lib/ipsec/charon';
export const SWANCTL = process.env.IKEKM_SWANCTL ?? 'swanctl';

/**
 * The plugins charon 5.9.8 needs for these labs (checked on Debian 12's packages). `kdf` is
 * required (without it key derivation fails with "KDF_PRF … not supported"); kernel-libipsec gives
 * a userland ESP path through a TUN device, since this kernel has no ESP.
 */
export const DEFAULT_PLUGINS: readonly string[] = [
  'kdf',
  'random',
  'nonce',
  'openssl',
  'pem',
  'pkcs1',
  'x509',
  'revocation',
  'constraints',
  'pubkey',
  'kernel-libipsec',
  'kernel-netlink',
  'socket-default',
  'vici',
  'updown',
];

/** charon log groups (strongswan.conf(5), "filelog"), plus `default` for the rest. */
export type LogGroup = 'default' | 'dmn' | 'mgr' | 'ike' | 'chd' | 'job' | 'cfg' | 'knl' | 'net' | 'asn' | 'enc' | 'lib' | 'esp' | 'tls' | 'tnc' | 'imc' | 'imv' | 'pts';

/** ike = 4 and chd = 4 make charon dump every derived key; mgr = 2 logs IKE SPIs at checkin. */
export const DEFAULT_LOG_LEVELS: Readonly<Partial<Record<LogGroup, number>>> = {
  default: 1,
  ike: 4,
  chd: 4,
  cfg: 2,
  mgr: 2,
  knl: 2,
  net: 2,
};

/** Sub-folders swanctl --load-all reads credentials from, relative to swanctl.conf. */
export const SWANCTL_CREDENTIAL_DIRS: readonly string[] = ['x509', 'x509ca', 'x509ocsp', 'x509aa', 'x509ac', 'x509crl', 'pubkey', 'private', 'rsa', 'ecdsa', 'bliss', 'pkcs8', 'pkcs12'];

export interface CharonOptions {
  /** Directory for this charon's files; created if missing. Use one per charon. */
  readonly dir: string;
  /** swanctl.conf contents (connections, secrets, …). */
  readonly conf: string;
  /** Merged over DEFAULT_LOG_LEVELS. */
  readonly logLevels?: Readonly<Partial<Record<LogGroup, number>>>;
  /** Replaces DEFAULT_PLUGINS. */
  readonly plugins?: readonly string[];
  /** IKE port (charon.port, default 500). */
  readonly port?: number;
  /** NAT-T port (charon.port_nat_t, default 4500); must differ from `port`. */
  readonly portNatT?: number;
  /** Extra lines placed verbatim inside `charon { … }`, e.g. `retransmit_tries = 2`. */
  readonly charonSettings?: string;
  /** Run `swanctl --load-all` once the daemon answers (default true). */
  readonly load?: boolean;
  /** How long to wait for the vici socket (default 10 s). */
  readonly startTimeoutMs?: number;
}

export type SaTarget =
  | { readonly ike: string; readonly child?: undefined; readonly ikeId?: undefined; readonly childId?: undefined }
  | { readonly child: string; readonly ike?: undefined; readonly ikeId?: undefined; readonly childId?: undefined }
  | { readonly ikeId: number; readonly ike?: undefined; readonly child?: undefined; readonly childId?: undefined }
  | { readonly childId: number; readonly ike?: undefined; readonly child?: undefined; readonly ikeId?: undefined };

export interface CommandOptions {
  /** Resolve with the failed result instead of throwing. */
  readonly allowFailure?: boolean;
}

/** Renders strongswan.conf for a charon whose files live in `dir`. */
export function strongswanConf(options: {
  readonly dir: string;
  readonly plugins?: readonly string[];
  readonly logLevels?: Readonly<Partial<Record<LogGroup, number>>>;
  readonly port?: number;
  readonly portNatT?: number;
  readonly charonSettings?: string;
}): string {
  const levels = { ...DEFAULT_LOG_LEVELS, ...(options.logLevels ?? {}) };
  const levelLines = Object.entries(levels)
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .map(([group, level]) => `      ${group} = ${level}`)
    .join('\n');
  const ports = [
    options.port !== undefined ? `  port = ${options.port}` : undefined,
    options.portNatT !== undefined ? `  port_nat_t = ${options.portNatT}` : undefined,
  ].filter((l): l is string => l !== undefined);
  return [
    'charon {',
    `  load = ${(options.plugins ?? DEFAULT_PLUGINS).join(' ')}`,
    ...ports,
    '  filelog {',
    '    lab {',
    `      path = ${join(options.dir, 'charon.log')}`,
    levelLines,
    // ike_name puts <conn|id> on every line: the key parser relies on it; flush_line keeps the
    // log readable while charon runs (the parser reads it live).
    '      ike_name = yes',
    '      flush_line = yes',
    '    }',
    '  }',
    '  plugins {',
    '    vici {',
    `      socket = unix://${join(options.dir, 'charon.vici')}`,
    '    }',
    '  }',
    ...(options.charonSettings ? [options.charonSettings] : []),
    '}',
    '',
  ].join('\n');
}

export class Charon {
  readonly ns: string;
  readonly dir: string;
  readonly uri: string;
  readonly confPath: string;
  readonly logPath: string;
  private readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;

  /** Use `startCharon`. */
  constructor(ns: string, dir: string, child: ChildProcess) {
    this.ns = ns;
    this.dir = dir;
    this.uri = `unix://${join(dir, 'charon.vici')}`;
    this.confPath = join(dir, 'swanctl.conf');
    this.logPath = join(dir, 'charon.log');
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      // A spawn failure (no `ip`) may never emit 'exit': count it as an exit so waits end.
      child.once('error', () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  /** charon's pid (the spawn chain execs, so this is charon itself). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Runs swanctl against this charon. Resolves with the result whatever the exit status. */
  swanctl(args: readonly string[], timeoutMs = 15_000): Promise<RunResult> {
    return run(SWANCTL, [...args, '--uri', this.uri], { timeoutMs });
  }

  /** Replaces swanctl.conf (call `loadAll()` afterwards to apply it). */
  writeConf(conf: string): void {
    writeFileSync(this.confPath, conf, { mode: 0o600 });
  }

  /** `swanctl --load-all --file DIR/swanctl.conf`: (re)loads credentials and connections. */
  async loadAll(options: CommandOptions = {}): Promise<RunResult> {
    const result = await this.swanctl(['--load-all', '--file', this.confPath]);
    // swanctl exits 0 even when a connection was rejected, but says so on stdout/stderr.
    const rejected = /loading connection .* failed|failed to load|parsing .* failed|invalid value/i.test(`${result.stdout}\n${result.stderr}`);
    return this.check(rejected ? { ...result, ok: false } : result, options);
  }

  /**
   * `swanctl --initiate --child CHILD [--ike IKE] --timeout S`: waits until the Child SA is up
   * (or failed). Throws on failure unless `allowFailure`; stdout carries charon's log lines.
   */
  async initiate(child: string, options: { readonly ike?: string; readonly timeoutS?: number } & CommandOptions = {}): Promise<RunResult> {
    const timeoutS = options.timeoutS ?? 10;
    const args = ['--initiate', '--child', child, ...(options.ike !== undefined ? ['--ike', options.ike] : []), '--timeout', String(timeoutS)];
    return this.check(await this.swanctl(args, (timeoutS + 5) * 1000), options);
  }

  /** `swanctl --terminate …`: waits until the SA is deleted (bounded by timeoutS). */
  async terminate(target: SaTarget, options: { readonly force?: boolean; readonly timeoutS?: number } & CommandOptions = {}): Promise<RunResult> {
    const timeoutS = options.timeoutS ?? 10;
    const args = ['--terminate', ...targetArgs(target), ...(options.force ? ['--force'] : []), '--timeout', String(timeoutS)];
    return this.check(await this.swanctl(args, (timeoutS + 5) * 1000), options);
  }

  /**
   * `swanctl --rekey …`. charon only queues the rekey; with `wait` (default true) this waits
   * until a new SA with a fresh unique id is ESTABLISHED (IKE) or INSTALLED (Child).
   */
  async rekey(
    target: SaTarget,
    options: { readonly reauth?: boolean; readonly wait?: boolean; readonly timeoutMs?: number } & CommandOptions = {},
  ): Promise<RunResult> {
    const before = await this.listSas();
    const ikeIds = new Set(before.map((sa) => sa.uniqueId));
    const childIds = new Set(before.flatMap((sa) => sa.childSas.map((c) => c.uniqueId)));
    const result = this.check(await this.swanctl(['--rekey', ...targetArgs(target), ...(options.reauth ? ['--reauth'] : [])]), options);
    if (!result.ok || options.wait === false) return result;
    const isIke = target.ike !== undefined || target.ikeId !== undefined;
    let childName = target.child;
    if (target.childId !== undefined) childName = before.flatMap((sa) => sa.childSas).find((c) => c.uniqueId === target.childId)?.name;
    let ikeName = target.ike;
    if (target.ikeId !== undefined) ikeName = before.find((sa) => sa.uniqueId === target.ikeId)?.name;
    await this.waitForSas(
      isIke ? `a new IKE SA ${ikeName ?? '?'} after rekey` : `a new Child SA ${childName ?? '?'} after rekey`,
      (sas) =>
        isIke
          ? sas.some((sa) => sa.name === ikeName && !ikeIds.has(sa.uniqueId) && sa.state === 'ESTABLISHED')
          : sas.some((sa) => sa.childSas.some((c) => c.name === childName && !childIds.has(c.uniqueId) && c.state === 'INSTALLED')),
      { timeoutMs: options.timeoutMs ?? 10_000 },
    );
    return result;
  }

  /** IKE SAs with their Child SAs (`swanctl --list-sas --pretty`, see vici.ts for why not --raw). */
  async listSas(filter: { readonly ike?: string; readonly ikeId?: number } = {}): Promise<IkeSaInfo[]> {
    const args = ['--list-sas', '--pretty'];
    if (filter.ike !== undefined) args.push('--ike', filter.ike);
    if (filter.ikeId !== undefined) args.push('--ike-id', String(filter.ikeId));
    const result = await this.swanctl(args);
    if (!result.ok) throw new Error(describeFailure(result));
    return parseListSas(result.stdout);
  }

  /** Polls listSas() until `predicate` holds; returns the SAs that satisfied it. */
  async waitForSas(what: string, predicate: (sas: IkeSaInfo[]) => boolean, options: { readonly timeoutMs?: number } = {}): Promise<IkeSaInfo[]> {
    let last: IkeSaInfo[] = [];
    try {
      return await waitUntil(
        what,
        async () => {
          last = await this.listSas();
          return predicate(last) ? last : undefined;
        },
        { timeoutMs: options.timeoutMs ?? 10_000, intervalMs: 100 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message} on ${this.ns}; last list-sas: ${JSON.stringify(last.map(summary))}`);
    }
  }

  /** The charon.log text so far. */
  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  /** Waits until charon.log matches `pattern`; returns the match. */
  waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return waitUntil(`/${pattern.source}/ in ${this.logPath}`, () => this.log().match(pattern) ?? undefined, { timeoutMs, intervalMs: 100 });
  }

  /** IKE and Child SA keys charon derived so far (see charon-log.ts for the format). */
  derivedKeys(): DerivedKeys {
    return parseDerivedKeys(this.log());
  }

  /** SIGTERM, then SIGKILL after `timeoutMs` (default 5 s). Idempotent. */
  stop(timeoutMs = 5_000): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.running) return;
      this.child.kill('SIGTERM');
      const graceful = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
      if (!graceful) {
        this.child.kill('SIGKILL');
        await Promise.race([this.exited, sleep(5_000)]);
      }
    })();
    return this.stopping;
  }

  /** Exit status once stopped (or crashed). */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  /** The start of charon's stdout/stderr and the end of its log, for error messages. */
  diagnostics(lines = 30): string {
    const out = existsSync(join(this.dir, 'charon.out')) ? readFileSync(join(this.dir, 'charon.out'), 'utf8') : '';
    const logTail = this.log().split('\n').slice(-lines).join('\n');
    return `charon in ${this.ns} (${this.dir})${this.exitInfo ? ` exited ${JSON.stringify(this.exitInfo)}` : ''}\n--- charon.out ---\n${out}\n--- charon.log (tail) ---\n${logTail}`;
  }

  private check(result: RunResult, options: CommandOptions): RunResult {
    if (!result.ok && !options.allowFailure) throw new Error(`${describeFailure(result)}\n${this.diagnostics(15)}`);
    return result;
  }
}

/**
 * Starts charon in namespace `ns`, waits for its vici socket, and (unless `load: false`) loads
 * `conf` with `swanctl --load-all`. On any failure the daemon is stopped before throwing.
 */
export async function startCharon(ns: string, options: CharonOptions): Promise<Charon> {
  const dir = options.dir;
  mkdirSync(dir, { recursive: true });
  for (const sub of SWANCTL_CREDENTIAL_DIRS) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'strongswan.conf'), strongswanConf({ ...options, dir }));
  // Holds a PSK: readable by root only, like /etc/swanctl.
  writeFileSync(join(dir, 'swanctl.conf'), options.conf, { mode: 0o600 });

  const out = openSync(join(dir, 'charon.out'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      IP,
      // exec at every step (ip netns exec, unshare without --fork, sh's exec) keeps charon's pid
      // equal to the spawned pid, so signals reach charon itself.
      ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run && exec "$0"', CHARON],
      { env: { ...process.env, STRONGSWAN_CONF: join(dir, 'strongswan.conf') }, stdio: ['ignore', out, out] },
    );
  } finally {
    closeSync(out);
  }
  const charon = new Charon(ns, dir, child);

  try {
    await waitUntil(
      `charon's vici socket in ${dir}`,
      async () => {
        if (!charon.running) throw new Error(`charon exited during start-up\n${charon.diagnostics()}`);
        const stats = await charon.swanctl(['--stats'], 5_000);
        return stats.ok ? true : undefined;
      },
      { timeoutMs: options.startTimeoutMs ?? 10_000, intervalMs: 100 },
    );
    if (options.load ?? true) await charon.loadAll();
  } catch (error) {
    await charon.stop();
    throw new Error(`${(error as Error).message}${(error as Error).message.includes('charon.out') ? '' : `\n${charon.diagnostics()}`}`);
  }
  return charon;
}

function targetArgs(target: SaTarget): string[] {
  if (target.ike !== undefined) return ['--ike', target.ike];
  if (target.child !== undefined) return ['--child', target.child];
  if (target.ikeId !== undefined) return ['--ike-id', String(target.ikeId)];
  return ['--child-id', String(target.childId)];
}

function summary(sa: IkeSaInfo): unknown {
  return { name: sa.name, id: sa.uniqueId, state: sa.state, children: sa.childSas.map((c) => `${c.key}:${c.state}`) };
}
