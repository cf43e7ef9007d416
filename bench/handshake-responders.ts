/**
 * The two responders of `npm run bench` (handshakes.bench.ts), each in side a of a fresh lab,
 * pinned to one core, set up alike: IKE aes128gcm16-prfsha256-x25519 with a PSK, the first Child
 * SA aes128gcm16, road warriors from any address with one identity, no DPD, every flood defence
 * (COOKIE and half-open thresholds, rate limits) out of the way, and logging at warnings only.
 *
 * - ikekm: `ikekm daemon` with the memory kernel (no ESP in this kernel).
 * - charon: strongSwan's daemon with `unique = never` (a new IKE SA from the same identity
 *   replaces nothing), a large IKE SA table, and kernel-libipsec holding the Child SAs in its
 *   own memory (this kernel has no ESP either).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from '../src/load/load-run.js';
import type { ProcessUsageDelta } from '../src/load/process-usage.js';
import { startCharon, type Charon } from '../test/interop/harness/charon.js';
import { IKEKM, labDaemonYaml } from '../test/interop/harness/daemon-process.js';
import { IP, type Lab } from '../test/interop/harness/netns.js';
import { runChecked, sleep, waitUntil } from '../test/interop/harness/process.js';

export type ResponderName = 'ikekm' | 'charon';

export const BENCH_PSK = 'ikekm-handshake-bench-psk';
export const BENCH_IKE = 'aes128gcm16-prfsha256-x25519';
export const BENCH_ESP = 'aes128gcm16';
/** The responder's ID: its address, as labDaemonYaml writes it for the ikekm daemon. */
const responderId = (lab: Lab): string => lab.a.outer4;
const INITIATOR_ID = 'initiator.bench';
/**
 * What the tunnels protect: the responder's address on `lo` (kernel-libipsec routes each policy
 * through its TUN device from a local address inside the local selector, and refuses the Child SA
 * without one; labDaemonYaml writes the same for the ikekm daemon) and a network behind the
 * initiators.
 */
const responderTraffic = (lab: Lab): string => `${lab.a.inner4}/32`;
const INITIATOR_TRAFFIC = '10.2.0.0/16';

export interface Responder {
  readonly name: ResponderName;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The core each side runs on: the responder on one, the load generator on the other. */
export const RESPONDER_CPU = 0;
export const GENERATOR_CPU = 1;

export async function startResponder(name: ResponderName, lab: Lab): Promise<Responder> {
  const responder = name === 'ikekm' ? await startIkekm(lab) : await startCharonResponder(lab);
  // Every thread, present and future (new threads inherit the affinity of the one that makes them).
  await runChecked('taskset', ['-a', '-p', '-c', String(RESPONDER_CPU), String(responder.pid)]);
  return responder;
}

async function startIkekm(lab: Lab): Promise<Responder> {
  const dir = join(lab.dir, 'ikekm');
  mkdirSync(join(dir, 'run'), { recursive: true, mode: 0o700 });
  const config = join(dir, 'ikekm.yaml');
  const socket = join(dir, 'run', 'ikekm.sock');
  writeFileSync(config, ikekmResponderYaml(lab, socket), { mode: 0o600 });
  const child: ChildProcess = spawn(IP, ['netns', 'exec', lab.a.ns, process.execPath, IKEKM, 'daemon', '--config', config, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pid = child.pid!;
  await waitUntil('the ikekm daemon to answer', async () => {
    if (child.exitCode !== null) throw new Error(`ikekm daemon exited with ${child.exitCode}`);
    const r = await lab.exec('a', process.execPath, [IKEKM, 'status', '--json', '--socket', socket], { timeoutMs: 10_000 });
    return r.code === 0 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  return {
    name: 'ikekm',
    pid,
    async stop() {
      // SIGKILL: a graceful stop would send a Delete for each of the N IKE SAs to a generator
      // that no longer listens, and wait for the answers.
      if (child.exitCode === null) child.kill('SIGKILL');
      await sleep(100);
    },
  };
}

/** The lab's daemon configuration (labDaemonYaml) with one road-warrior connection and no flood limits. */
export function ikekmResponderYaml(lab: Lab, control: string): string {
  const unlimited = 10_000_000;
  return labDaemonYaml(lab, {
    control,
    ikeProposals: BENCH_IKE,
    espProposals: BENCH_ESP,
    limits: {
      cookieThreshold: unlimited,
      cookieThresholdPerAddress: unlimited,
      blockThresholdPerAddress: unlimited,
      maxHalfOpen: unlimited,
      ikeSaInitPerSecond: unlimited,
      loadLimitPercent: 0,
      maxIkeSas: unlimited,
    },
    connections: [{ name: 'roadwarriors', start: 'listen', psk: JSON.stringify(BENCH_PSK), remote: { address: '%any', id: INITIATOR_ID }, remoteTraffic: INITIATOR_TRAFFIC }],
  });
}

async function startCharonResponder(lab: Lab): Promise<Responder> {
  const charon: Charon = await startCharon(lab.a.ns, {
    dir: join(lab.dir, 'charon'),
    conf: charonResponderConf(lab),
    logLevels: { default: 0, dmn: 0, mgr: 0, ike: 0, chd: 0, job: 0, cfg: 0, knl: 0, net: 0, asn: 0, enc: 0, lib: 0, esp: 0 },
    charonSettings: [
      // Hash table of IKE SAs (default 1 row, a list): strongSwan's advice for many SAs.
      '  ikesa_table_size = 65536',
      '  ikesa_table_segments = 64',
      '  cookie_threshold = 10000000',
      '  cookie_threshold_ip = 10000000',
      '  block_threshold = 10000000',
      '  init_limit_half_open = 0',
      '  init_limit_job_load = 0',
      '  install_virtual_ip = no',
    ].join('\n'),
  });
  const pid = charon.pid;
  if (pid === undefined) throw new Error('charon has no pid');
  return {
    name: 'charon',
    pid,
    // charon sends its Deletes without waiting for answers; a second is plenty, then SIGKILL.
    stop: () => charon.stop(1_000),
  };
}

export function charonResponderConf(lab: Lab): string {
  return `connections {
  roadwarriors {
    version = 2
    local_addrs = ${lab.a.outer4}
    proposals = ${BENCH_IKE}
    unique = never
    mobike = no
    dpd_delay = 0
    local {
      auth = psk
      id = ${responderId(lab)}
    }
    remote {
      auth = psk
      id = ${INITIATOR_ID}
    }
    children {
      bench {
        local_ts = ${responderTraffic(lab)}
        remote_ts = ${INITIATOR_TRAFFIC}
        esp_proposals = ${BENCH_ESP}
        dpd_action = clear
      }
    }
  }
}
secrets {
  ike-bench {
    id-1 = ${responderId(lab)}
    id-2 = ${INITIATOR_ID}
    secret = "${BENCH_PSK}"
  }
}
`;
}

/** The load generator's configuration (side b): the same proposals, PSK and identities. */
export function generatorYaml(lab: Lab): string {
  return [
    'ikePolicies:',
    `  bench-ike: { version: 2, auth: psk, proposals: [${BENCH_IKE}], lifetime: 24h }`,
    'dataPolicies:',
    `  bench-data: { protocol: esp, mode: tunnel, proposals: [${BENCH_ESP}], lifetime: 60m }`,
    'connections:',
    '  responder:',
    '    ikePolicy: bench-ike',
    '    dataPolicy: bench-data',
    `    local: { address: ${lab.b.outer4}, id: ${INITIATOR_ID}, psk: ${JSON.stringify(BENCH_PSK)} }`,
    `    remote: { address: ${lab.a.outer4}, id: ${responderId(lab)} }`,
    `    traffic: { local: [${INITIATOR_TRAFFIC}], remote: [${responderTraffic(lab)}] }`,
    '    start: listen',
    '',
  ].join('\n');
}

/** What one run of the generator gave: its result, and the responder's CPU and RSS over it. */
export interface GeneratorRun {
  readonly result: LoadResult;
  readonly responderUsage: ProcessUsageDelta;
}

/**
 * `ikekm load` in side b on the generator's core: `sas` handshakes against the responder, `window`
 * in flight, watching the responder's process (`responderPid`) from /proc.
 */
export async function runGenerator(lab: Lab, responderPid: number, sas: number, window: number): Promise<GeneratorRun> {
  const config = join(lab.dir, 'generator.yaml');
  writeFileSync(config, generatorYaml(lab), { mode: 0o600 });
  const args = ['load', '--config', config, '--connection', 'responder', '--count', String(sas), '--window', String(window), '--watch', String(responderPid), '--json'];
  const out = await lab.exec('b', 'taskset', ['-c', String(GENERATOR_CPU), process.execPath, IKEKM, ...args], { timeoutMs: 60_000 + sas * 20 });
  const line = out.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`ikekm load printed no result (exit ${out.code}): ${out.stderr.slice(-2000)}`);
  const result = JSON.parse(line) as LoadResult & { watched: ProcessUsageDelta[] };
  const responderUsage = result.watched[0];
  if (responderUsage === undefined) throw new Error(`the responder (pid ${responderPid}) was gone before the load ended`);
  return { result, responderUsage };
}
