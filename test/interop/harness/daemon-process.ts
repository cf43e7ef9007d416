/**
 * The `ikekm daemon` process in side a of a lab (192.0.2.1, UDP 500/4500) against charon in side
 * b: its YAML (`labDaemonYaml`), the process itself with its JSON log lines (`startLabDaemon`),
 * and the CLI run inside the namespace against its control socket.
 *
 * The daemon runs on the memory kernel: strongSwan carries the traffic here (kernel-libipsec);
 * ikekm on XFRM is test/kernel-vm's. Its directory holds the config (0600: the PSK is in it), the
 * control socket under run/, and ikekm.log when a test fails (`saveLogOnFailure`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DaemonStatus } from '../../../src/control/daemon-status.js';
import { REPO_ROOT } from './ikekm.js';
import { IP, type Lab } from './netns.js';
import { waitUntil } from './process.js';

export const IKEKM = join(REPO_ROOT, 'bin/ikekm.js');

export interface LabDaemonConnection {
  readonly name: string;
  readonly start: 'on-load' | 'listen' | 'on-demand';
  /** The PSK as a YAML scalar, written as is (`JSON.stringify(text)`, `"0x…"`, …). */
  readonly psk: string;
  /** Default: side b's outer address and ID. */
  readonly remote?: { readonly address: string; readonly id: string };
  /** Default: side b's inner address. */
  readonly remoteTraffic?: string;
}

export interface LabDaemonYaml {
  readonly control: string;
  readonly ikeProposals: string;
  readonly espProposals: string;
  /** More keys of the IKE policy's flow mapping (`dpd: {…}, retransmit: {…}`). */
  readonly ikePolicyExtras?: string;
  readonly connections: readonly LabDaemonConnection[];
  /** `daemon.limits` (admission, Child SA limits), e.g. `{ ikeSaInitPerSecond: 100 }`. */
  readonly limits?: Readonly<Record<string, number>>;
}

/** The daemon's configuration for side a: one IKE and one data policy, the connections on them. */
export function labDaemonYaml(lab: Lab, options: LabDaemonYaml): string {
  const extras = options.ikePolicyExtras === undefined ? '' : `, ${options.ikePolicyExtras}`;
  const lines = [
    'daemon:',
    `  listen: [${lab.a.outer4}]`,
    '  ports: { ike: 500, natt: 4500 }',
    `  control: ${JSON.stringify(options.control)}`,
    '  kernel: memory',
    ...(options.limits === undefined ? [] : [`  limits: ${JSON.stringify(options.limits)}`]),
    'ikePolicies:',
    `  lab-ike: { version: 2, auth: psk, proposals: [${options.ikeProposals}], lifetime: 24h${extras} }`,
    'dataPolicies:',
    `  lab-data: { protocol: esp, mode: tunnel, proposals: [${options.espProposals}], lifetime: 60m }`,
    'connections:',
  ];
  for (const c of options.connections) {
    const remote = c.remote ?? { address: lab.b.outer4, id: lab.b.outer4 };
    lines.push(
      `  ${c.name}:`,
      '    ikePolicy: lab-ike',
      '    dataPolicy: lab-data',
      `    local: { address: ${lab.a.outer4}, id: ${lab.a.outer4}, psk: ${c.psk} }`,
      `    remote: { address: ${JSON.stringify(remote.address)}, id: ${remote.id} }`,
      `    traffic: { local: [${lab.a.inner4}/32], remote: [${c.remoteTraffic ?? `${lab.b.inner4}/32`}] }`,
      `    start: ${c.start}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface LabDaemon {
  readonly process: ChildProcess;
  /** Every log line so far, parsed (pino JSON). */
  readonly logLines: Record<string, unknown>[];
  readonly configFile: string;
  readonly socket: string;
  /** `ikekm ARGS --socket S` inside side a's namespace. */
  cli(args: readonly string[]): ReturnType<Lab['exec']>;
  /** `ikekm status --json`. */
  status(): Promise<DaemonStatus>;
  /** Replaces the configuration file (SIGHUP makes the daemon read it). */
  writeConfig(yaml: string): void;
  /** Keeps the lab's artifacts and writes the log beside the config: call when a test failed. */
  saveLogOnFailure(): void;
  /** SIGKILL if still running. */
  kill(): void;
}

export interface LabDaemonOptions {
  /** The daemon's directory (created 0700). */
  readonly dir: string;
  /** The YAML, given the control socket's path. */
  readonly yaml: (control: string) => string;
  /** Default debug. */
  readonly logLevel?: string;
  /** Node options before the entry point (`--max-old-space-size=…`). */
  readonly nodeOptions?: readonly string[];
  /** Default 30 s. */
  readonly startTimeoutMs?: number;
  /** More arguments of `ikekm daemon` (`--record FILE`). */
  readonly daemonArgs?: readonly string[];
}

/** Starts `ikekm daemon --config FILE` in side a's namespace; resolves once it logged its start. */
export async function startLabDaemon(lab: Lab, options: LabDaemonOptions): Promise<LabDaemon> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const configFile = join(options.dir, 'ikekm.yaml');
  const socket = join(options.dir, 'run', 'ikekm.sock');
  const writeConfig = (yaml: string): void => writeFileSync(configFile, yaml, { mode: 0o600 });
  writeConfig(options.yaml(socket));
  const args = ['netns', 'exec', lab.a.ns, process.execPath, ...(options.nodeOptions ?? []), IKEKM, 'daemon', '--config', configFile, '--log-level', options.logLevel ?? 'debug', ...(options.daemonArgs ?? [])];
  const child = spawn(IP, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const logLines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => logLines.push(JSON.parse(line) as Record<string, unknown>));
  const cli = (cliArgs: readonly string[]) => lab.exec('a', process.execPath, [IKEKM, ...cliArgs, '--socket', socket], { timeoutMs: 30_000 });
  const daemon: LabDaemon = {
    process: child,
    logLines,
    configFile,
    socket,
    cli,
    status: async () => JSON.parse((await cli(['status', '--json'])).stdout) as DaemonStatus,
    writeConfig,
    saveLogOnFailure() {
      lab.keepArtifacts();
      writeFileSync(join(options.dir, 'ikekm.log'), logLines.map((l) => JSON.stringify(l)).join('\n'));
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  await waitUntil('the ikekm daemon to start', async () => (logLines.some((l) => l.msg === 'ikekm daemon started') ? true : undefined), {
    timeoutMs: options.startTimeoutMs ?? 30_000,
  });
  return daemon;
}
