/**
 * `ikekm demo` (what `npm start` runs): two real ikekm daemons on loopback, built from the
 * embedded YAML (src/demo/demo-config.ts) through the same loader and Daemon as `ikekm daemon`.
 * ikekm-a initiates to ikekm-b, both rekey on short lifetimes, and the terminal shows it live.
 * No root (unprivileged ports, in-memory kernel) and nothing to write first (the control
 * sockets and the log live in a fresh temporary directory, removed on exit).
 *
 * `--auth psk` (the default) authenticates with a PSK drawn for the run; `--auth pubkey` with
 * certificates: a throwaway CA and one certificate per side, issued into the temporary directory
 * by ikekm's own builder (src/demo/demo-pki.ts), named by the YAML as cert, key and ca files.
 *
 * Output:
 * - stdout a TTY: a status table of both daemons and the last events, redrawn every second.
 * - otherwise (pipes, tests): one line per SA event (`event <daemon> <kind> key=value ...`,
 *   see src/demo/demo-events.ts) and `demo: ...` lines for the demo's own progress.
 * The daemons' pino logs go to the temporary directory, never to the terminal.
 *
 * SIGINT / SIGTERM / --duration: ikekm-a stops first (its Deletes reach a running ikekm-b, so
 * both sides report the SAs down), then ikekm-b; the temporary directory goes; exit 0. A second
 * Ctrl-C while stopping gives up waiting (exit 130).
 */
import { closeSync, copyFileSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { formatDiagnostic } from '../config/config-diagnostic.js';
import { parseConfig, type SecretFile } from '../config/load-config.js';
import { renderStatusTable } from '../control/status-table.js';
import { Daemon } from '../daemon/daemon.js';
import { DEFAULT_DEMO_PORTS, DEMO_ADDRESSES, demoIdentity, demoSides, type DemoAuth, type DemoSide } from '../demo/demo-config.js';
import { writeDemoPki } from '../demo/demo-pki.js';
import { EventNarrator, eventLine } from '../demo/demo-events.js';
import { pickDemoPorts } from '../demo/free-ports.js';
import { LiveScreen } from '../demo/live-screen.js';
import { createLogger } from '../log/logger.js';

/** How long each daemon may wait for its Deletes to be answered when the demo stops. */
const STOP_GRACE_MS = 3000;
const REFRESH_MS = 1000;

export interface DemoOptions {
  readonly durationSeconds: number | undefined;
  readonly color: boolean;
  readonly keepLog: boolean;
  readonly auth: DemoAuth;
}

export const DEMO_USAGE = `usage: ikekm demo [--auth psk|pubkey] [--duration SECONDS] [--no-color] [--keep-log]

Runs two ikekm daemons on loopback (127.0.0.1 and 127.0.0.2, unprivileged ports) from an
embedded configuration: they negotiate an IKE SA and a Child SA, then rekey the Child SA every
~20 s and the IKE SA every ~60 s. Ctrl-C stops both cleanly.

  --auth psk|pubkey    how they authenticate: a PSK drawn for the run (default), or
                       certificates of a CA made for the run (auth: pubkey)
  --duration SECONDS   stop by itself after this long (exit 0)
  --no-color           no colours on the live screen (also: NO_COLOR set)
  --keep-log           keep the daemons' log after the demo (its path is printed)`;

export function parseDemoArgs(args: readonly string[]): DemoOptions | string {
  let durationSeconds: number | undefined;
  let color = process.env['NO_COLOR'] === undefined || process.env['NO_COLOR'] === '';
  let keepLog = false;
  let auth: DemoAuth = 'psk';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--no-color') color = false;
    else if (arg === '--keep-log') keepLog = true;
    else if (arg === '--auth' || arg?.startsWith('--auth=')) {
      const text = arg === '--auth' ? args[++i] : arg.slice('--auth='.length);
      if (text !== 'psk' && text !== 'pubkey') return `--auth needs psk or pubkey, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`;
      auth = text;
    }
    else if (arg === '--duration' || arg?.startsWith('--duration=')) {
      const text = arg === '--duration' ? args[++i] : arg.slice('--duration='.length);
      const value = Number(text);
      if (text === undefined || text.trim() === '' || !Number.isFinite(value) || value <= 0)
        return `--duration needs a positive number of seconds, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`;
      durationSeconds = value;
    } else return `unknown option ${JSON.stringify(arg)}`;
  }
  return { durationSeconds, color, keepLog, auth };
}

interface RunningSide {
  readonly side: DemoSide;
  readonly daemon: Daemon;
  readonly subscription: Subscription;
}

export async function demoCommand(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return 0;
  }
  const parsed = parseDemoArgs(args);
  if (typeof parsed === 'string') {
    process.stderr.write(`ikekm demo: ${parsed}\n\n${DEMO_USAGE}\n`);
    return 2;
  }
  const options = parsed;
  const tty = process.stdout.isTTY === true;
  const say = (line: string): void => void process.stdout.write(`demo: ${line}\n`);

  const runtimeDir = mkdtempSync(join(tmpdir(), 'ikekm-demo-'));
  const logPath = join(runtimeDir, 'demo.log');
  const removeRuntimeDir = (): void => rmSync(runtimeDir, { recursive: true, force: true });
  // Should anything below throw, the temporary directory must not stay behind.
  const emergencyCleanup = (): void => removeRuntimeDir();
  process.once('exit', emergencyCleanup);

  const running: RunningSide[] = [];
  let screen: LiveScreen | undefined;
  let refresh: NodeJS.Timeout | undefined;
  try {
    const addresses = Object.values(DEMO_ADDRESSES);
    const ports = await pickDemoPorts(addresses, DEFAULT_DEMO_PORTS);
    if (ports === undefined) {
      process.stderr.write(`ikekm demo: no free UDP port pair near ${DEFAULT_DEMO_PORTS.ike}/${DEFAULT_DEMO_PORTS.natt} on ${addresses.join(', ')}\n`);
      return 1;
    }
    const pki = options.auth === 'pubkey' ? writeDemoPki(runtimeDir) : undefined;
    const sides = demoSides({ runtimeDir, ports, ...(pki === undefined ? {} : { certificates: pki.sides }) });
    const authText =
      pki === undefined
        ? 'auth psk: a throwaway PSK drawn for this run, never written'
        : `auth pubkey: certificates of a throwaway CA "${pki.caSubject}" (${pki.keyDescription}), one per side for ${sides.map((s) => demoIdentity(s.name)).join(' and ')}, in the temp dir`;
    const logger = createLogger({ level: 'info', destination: logPath });

    const startedAtMs = Date.now();
    const summaries = new Map<string, string>();
    for (const side of sides) {
      const role = side.start === 'on-load' ? `initiates to ${side.connection.replace(/^to-/, '')}` : 'listens';
      summaries.set(side.name, `${side.address}:${ports.ike} (NAT-T ${ports.natt}), ${role}; Child SA rekey ~${side.childRekeySeconds}s, IKE SA ~${side.ikeRekeySeconds}s`);
    }
    if (tty) {
      screen = new LiveScreen({
        title: `ikekm demo: two ikekm daemons on loopback, IKEv2 with ${pki === undefined ? 'PSK' : 'certificates'}, rekeying on short lifetimes`,
        footer: [
          `IKE aes256gcm16-prfsha384-x25519, ESP aes128gcm16 with PFS x25519, 198.51.100.0/24 <=> 203.0.113.0/24`,
          pki === undefined ? 'auth psk: a throwaway PSK drawn for this run' : `auth pubkey: certificates of a throwaway CA, ${pki.keyDescription}, in the temp dir`,
          `log: ${logPath}${options.keepLog ? '' : ' (removed on exit; --keep-log keeps it)'}`,
          options.durationSeconds === undefined ? 'Ctrl-C stops both daemons cleanly' : `stops after ${options.durationSeconds}s; Ctrl-C stops earlier`,
        ],
        sides: sides.map((side) => ({
          name: side.name,
          summary: summaries.get(side.name) ?? '',
          status: async () => (await running.find((r) => r.side.name === side.name)?.daemon.status()) ?? { ikeSas: [] },
        })),
        renderStatus: renderStatusTable,
        color: options.color,
        write: (text) => void process.stdout.write(text),
        size: () => ({ columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 }),
        startedAtMs,
      });
    } else {
      for (const side of sides) say(`${side.name} ${summaries.get(side.name) ?? ''}`);
      say(authText);
      say(`temp dir ${runtimeDir} (control sockets, log${pki === undefined ? '' : ', certificates and keys'}; removed on exit)`);
      say(`log ${logPath}`);
    }

    // ikekm-b first, so that ikekm-a's first IKE_SA_INIT finds it listening.
    for (const side of [...sides].reverse()) {
      const config = parseConfig(side.yaml, side.configLabel, { readFile: readDemoFile });
      if (!config.ok) {
        // The embedded text is ours: a diagnostic here is a bug in the demo, not the user's.
        // Thrown, not returned, so that a daemon already started is stopped below.
        throw new Error(`the embedded configuration of ${side.name} does not load:\n${config.error.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`);
      }
      const narrator = new EventNarrator(side.name);
      const daemon = await Daemon.start({ config: config.value, logger: logger.child({ daemon: side.name }), controlSocket: side.controlSocket });
      const subscription = daemon.events$.subscribe((event) => {
        if (screen === undefined) {
          process.stdout.write(`${eventLine(side.name, event)}\n`);
          return;
        }
        const sentence = narrator.sentence(event);
        if (sentence !== undefined) screen.addEvent(sentence);
        screen.draw(Date.now());
      });
      running.push({ side, daemon, subscription });
    }
    if (screen === undefined) say(options.durationSeconds === undefined ? 'running; Ctrl-C stops' : `running for ${options.durationSeconds}s`);

    const liveScreen = screen;
    let redrawing = true;
    if (liveScreen !== undefined) {
      await liveScreen.refresh();
      liveScreen.draw(Date.now());
      // The status reads the kernel's counters (asynchronous): a frame after the read, unless stopping began meanwhile.
      refresh = setInterval(() => void liveScreen.refresh().then(() => redrawing && liveScreen.draw(Date.now())), REFRESH_MS);
    }

    const why = await stopRequested(options.durationSeconds);
    redrawing = false;
    if (refresh !== undefined) clearInterval(refresh);
    if (liveScreen !== undefined) liveScreen.draw(Date.now(), `stopping (${why}): deleting the SAs at the peer ...`);
    else say(`stopping (${why})`);

    // A second Ctrl-C while the daemons wait for their Deletes to be answered: give up waiting.
    const impatient = (): void => {
      liveScreen?.close();
      removeRuntimeDir();
      process.stderr.write('\nikekm demo: stopped without waiting for the peers\n');
      process.exit(130);
    };
    process.once('SIGINT', impatient);
    process.once('SIGTERM', impatient);

    // ikekm-a first: ikekm-b is still up to answer its Deletes and report the SAs down.
    let failures = 0;
    for (const r of [...running].sort((x, y) => x.side.name.localeCompare(y.side.name))) {
      try {
        await r.daemon.stop({ graceMs: STOP_GRACE_MS });
      } catch (error) {
        failures++;
        process.stderr.write(`ikekm demo: ${r.side.name} did not stop cleanly: ${(error as Error).message}\n`);
      }
    }
    for (const r of running) r.subscription.unsubscribe();
    process.removeListener('SIGINT', impatient);
    process.removeListener('SIGTERM', impatient);

    if (liveScreen !== undefined) {
      await liveScreen.refresh();
      liveScreen.draw(Date.now(), 'stopped');
      liveScreen.close();
    }
    if (options.keepLog) {
      const kept = join(tmpdir(), `ikekm-demo-${new Date(startedAtMs).toISOString().replace(/[:.]/g, '-')}.log`);
      copyFileSync(logPath, kept);
      say(`log kept at ${kept}`);
    }
    removeRuntimeDir();
    say(failures === 0 ? 'stopped cleanly' : 'stopped with errors');
    return failures === 0 ? 0 : 1;
  } catch (error) {
    if (refresh !== undefined) clearInterval(refresh);
    screen?.close();
    for (const r of running) {
      r.subscription.unsubscribe();
      await r.daemon.stop({ graceMs: 0 }).catch(() => undefined);
    }
    process.stderr.write(`ikekm demo: ${(error as Error).message}\n`);
    return 1;
  } finally {
    removeRuntimeDir();
    process.removeListener('exit', emergencyCleanup);
  }
}

/**
 * The certificate and key files the embedded YAML names: the demo wrote them itself, in its own
 * temporary directory, moments before. Read with their mode, which the loader checks of a key.
 */
function readDemoFile(path: string): SecretFile {
  const fd = openSync(path, 'r');
  try {
    return { bytes: readFileSync(fd), mode: fstatSync(fd).mode };
  } finally {
    closeSync(fd);
  }
}

/** Resolves with the reason to stop: a signal or the end of --duration. */
function stopRequested(durationSeconds: number | undefined): Promise<string> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (why: string): void => {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
      if (timer !== undefined) clearTimeout(timer);
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (durationSeconds !== undefined) timer = setTimeout(() => done(`--duration ${durationSeconds}s`), durationSeconds * 1000);
  });
}
