/**
 * The XFRM backend against `ip -batch`: install and delete N Child SAs (default 10 000), each two
 * ESP SAs (AES-GCM-16) and three policies (out, in, fwd), once through XfrmKernel and once
 * through one `ip -batch` process per phase, in one run; prints operations per second and the
 * ratio. Figures, not assertions: nothing here fails a build.
 *
 * The host kernel has no ESP, so the whole Child SAs are measured in the kernel VM
 * (test/kernel-vm/): the script boots it and runs itself there. Everything in the VM runs under
 * QEMU's software emulation, which slows V8's generated code far more than ip's compiled C, so
 * first the same is measured natively for the policies alone (the host kernel has XFRM policies),
 * in a throw-away network namespace.
 *
 *   npm run bench:xfrm                        as root, with the kernel VM built
 *   BENCH_CHILD_SAS=2000 npm run bench:xfrm   fewer Child SAs
 *   BENCH_ROUNDS=3 npm run bench:xfrm         rounds, best kept (default 2: XfrmKernel and ip take turns going first)
 *   BENCH_CPU_PROF=DIR npm run bench:xfrm     also writes V8 CPU profiles of both runs into DIR
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { renderTable } from '../src/control/text-table.js';
import { IKEKM_REQIDS, isIkekmReqid, type KernelPolicy, type KernelSa } from '../src/kernel/kernel-port.js';
import { XfrmKernel } from '../src/kernel/xfrm-kernel.js';
import { policySpec } from '../src/kernel/xfrm-specs.js';
import { EncrId } from '../src/wire/iana.js';
import { runChecked } from '../test/interop/harness/process.js';
import { KernelVmError, runInVm } from '../test/kernel-vm/run.js';

const CHILD_SAS = Number(process.env.BENCH_CHILD_SAS ?? '10000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '2');
/** Set by the host for the runs it starts: what to measure there. */
const ROLE = process.env.BENCH_XFRM_ROLE as 'policies' | 'child-sas' | undefined;

/** What one run installs and deletes per Child SA. */
interface Scope {
  readonly sas: boolean;
  readonly title: string;
  readonly where: string;
}

const LOCAL = '192.0.2.1';
const REMOTE = '192.0.2.2';
const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f10111213', 'hex'); // AES-128 key and salt

/** Child SA i: hosts 198.18.x.y ↔ 198.19.x.y (RFC 2544's benchmarking range), one pair of gateways. */
interface ChildSa {
  readonly sas: readonly [KernelSa, KernelSa];
  readonly policies: readonly [KernelPolicy, KernelPolicy, KernelPolicy];
}

function childSa(i: number): ChildSa {
  const host = (net: number): string => `198.${net}.${i >> 8}.${i & 0xff}`;
  const range = (address: string): KernelPolicy['local'] => ({ ipProtocol: 0, startPort: 0, endPort: 0xffff, startAddress: address, endAddress: address });
  const reqid = IKEKM_REQIDS.first + i;
  const sa = (direction: 'in' | 'out', spi: number): KernelSa => ({
    connection: `bench-${i}`,
    direction,
    protocol: 'esp',
    spi,
    source: direction === 'out' ? LOCAL : REMOTE,
    destination: direction === 'out' ? REMOTE : LOCAL,
    mode: 'tunnel',
    encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128, key: KEY },
    esn: false,
    reqid,
  });
  const base = { connection: `bench-${i}`, local: range(host(18)), remote: range(host(19)), mode: 'tunnel', reqid } as const;
  return {
    sas: [sa('out', 0xc100_0000 + i), sa('in', 0xc200_0000 + i)],
    policies: [
      { ...base, direction: 'out', tunnelSource: LOCAL, tunnelDestination: REMOTE },
      { ...base, direction: 'in', tunnelSource: REMOTE, tunnelDestination: LOCAL },
      { ...base, direction: 'fwd', tunnelSource: REMOTE, tunnelDestination: LOCAL },
    ],
  };
}

/** The same objects as `ip xfrm` commands, one a line (ip -batch). */
function ipBatch(children: readonly ChildSa[], scope: Scope, action: 'add' | 'delete'): string {
  const lines: string[] = [];
  for (const child of children) {
    for (const sa of scope.sas ? child.sas : []) {
      const id = `src ${sa.source} dst ${sa.destination} proto esp spi 0x${sa.spi.toString(16)}`;
      const replay = sa.direction === 'in' ? 32 : 0;
      lines.push(action === 'add' ? `xfrm state add ${id} reqid ${sa.reqid} mode tunnel replay-window ${replay} aead rfc4106(gcm(aes)) 0x${KEY.toString('hex')} 128` : `xfrm state delete ${id}`);
    }
    for (const policy of child.policies) {
      const spec = policySpec(policy);
      const s = spec.selector;
      const selector = `src ${s.source}/${s.sourcePrefixLength} dst ${s.destination}/${s.destinationPrefixLength} dir ${policy.direction}`;
      lines.push(
        action === 'add'
          ? `xfrm policy add ${selector} priority ${spec.priority} tmpl src ${policy.tunnelSource} dst ${policy.tunnelDestination} proto esp reqid ${policy.reqid} mode tunnel`
          : `xfrm policy delete ${selector}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

interface Timing {
  readonly installSeconds: number;
  readonly deleteSeconds: number;
}

async function timeXfrmKernel(kernel: XfrmKernel, children: readonly ChildSa[], scope: Scope): Promise<Timing> {
  let started = performance.now();
  for (const child of children) {
    if (scope.sas) for (const sa of child.sas) await kernel.installSa(sa);
    for (const policy of child.policies) await kernel.installPolicy(policy);
  }
  const installSeconds = (performance.now() - started) / 1000;
  await expectCounts(children.length, scope, 'after XfrmKernel installed them');
  started = performance.now();
  for (const child of children) {
    if (scope.sas) for (const sa of child.sas) await kernel.deleteSa(sa.destination, sa.spi);
    for (const policy of child.policies) await kernel.deletePolicy(policy);
  }
  const deleteSeconds = (performance.now() - started) / 1000;
  await expectCounts(0, scope, 'after XfrmKernel deleted them');
  return { installSeconds, deleteSeconds };
}

async function timeIpBatch(dir: string, children: readonly ChildSa[], scope: Scope): Promise<Timing> {
  const add = join(dir, 'add.batch');
  const del = join(dir, 'delete.batch');
  writeFileSync(add, ipBatch(children, scope, 'add'));
  writeFileSync(del, ipBatch(children, scope, 'delete'));
  let started = performance.now();
  await runChecked('ip', ['-batch', add], { timeoutMs: 30 * 60_000 });
  const installSeconds = (performance.now() - started) / 1000;
  await expectCounts(children.length, scope, 'after ip -batch installed them');
  started = performance.now();
  await runChecked('ip', ['-batch', del], { timeoutMs: 30 * 60_000 });
  const deleteSeconds = (performance.now() - started) / 1000;
  await expectCounts(0, scope, 'after ip -batch deleted them');
  return { installSeconds, deleteSeconds };
}

/** Both contenders must have done the whole job, or the figures mean nothing. */
async function expectCounts(children: number, scope: Scope, when: string): Promise<void> {
  // ip prints "SAD count 2" and "SPD IN  1 OUT 1 FWD 1".
  const sad = (await runChecked('ip', ['xfrm', 'state', 'count'])).stdout;
  const spd = /SPD IN\s+(\d+) OUT (\d+) FWD (\d+)/.exec((await runChecked('ip', ['xfrm', 'policy', 'count'])).stdout);
  const sas = Number(/SAD count (\d+)/.exec(sad)?.[1] ?? NaN);
  const policies = spd === null ? NaN : Number(spd[1]) + Number(spd[2]) + Number(spd[3]);
  const expected = { sas: scope.sas ? 2 * children : 0, policies: 3 * children };
  if (sas !== expected.sas || policies !== expected.policies) {
    throw new Error(`${when}: the kernel holds ${sas} SAs and ${policies} policies, not ${expected.sas} and ${expected.policies}`);
  }
}

/** One run in this process's network namespace: warm-up, then the rounds; prints the table. */
async function measure(scope: Scope): Promise<void> {
  const children = Array.from({ length: CHILD_SAS }, (_, i) => childSa(i));
  const dir = mkdtempSync(join(tmpdir(), 'ikekm-bench-xfrm-'));
  const kernel = XfrmKernel.open({ ownsReqid: isIkekmReqid });
  try {
    // Module autoloading (esp4, gcm…), the first crypto allocations and V8's first
    // compilations, outside the timings.
    await timeXfrmKernel(kernel, children.slice(0, 200), scope);
    await timeIpBatch(dir, children.slice(0, 200), scope);

    const runs: Array<{ who: 'XfrmKernel' | 'ip -batch'; timing: Timing }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? (['XfrmKernel', 'ip -batch'] as const) : (['ip -batch', 'XfrmKernel'] as const);
      for (const who of order) {
        const timing = who === 'XfrmKernel' ? await timeXfrmKernel(kernel, children, scope) : await timeIpBatch(dir, children, scope);
        runs.push({ who, timing });
        process.stderr.write(`bench:xfrm: ${scope.title}, round ${round}, ${who}: install ${timing.installSeconds.toFixed(2)} s, delete ${timing.deleteSeconds.toFixed(2)} s\n`);
      }
    }
    printTable(scope, runs, children.length);
  } finally {
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(scope: Scope, runs: ReadonlyArray<{ who: string; timing: Timing }>, children: number): void {
  const perChild = scope.sas ? 5 : 3;
  const operations = children * perChild;
  const best = (who: string, phase: keyof Timing): number => Math.min(...runs.filter((r) => r.who === who).map((r) => r.timing[phase]));
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const rows = (['installSeconds', 'deleteSeconds'] as const).map((phase) => {
    const ours = operations / best('XfrmKernel', phase);
    const ip = operations / best('ip -batch', phase);
    return [phase === 'installSeconds' ? 'install' : 'delete', fmt(ours), fmt(ip), `${(ours / ip).toFixed(2)}×`, fmt(ours / perChild), fmt(ip / perChild)];
  });
  const kernelRelease = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  process.stdout.write(
    [
      '',
      `${scope.title}: ${children.toLocaleString('en-US')} Child SAs (${scope.sas ? '2 ESP SAs and 3 policies' : '3 policies'} each), best of ${ROUNDS} rounds`,
      `kernel ${kernelRelease}, ${scope.where}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
      '',
      renderTable(['phase', 'XfrmKernel ops/s', 'ip -batch ops/s', 'XfrmKernel / ip', 'XfrmKernel Child SAs/s', 'ip Child SAs/s'], rows),
      '',
    ].join('\n'),
  );
}

// ---- the host: the native run in a namespace, then the VM ----

function nodeArguments(profileDir: string | undefined): string[] {
  return [...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]), '--import', 'tsx', fileURLToPath(import.meta.url)];
}

async function onHost(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:xfrm: needs root (XFRM needs CAP_NET_ADMIN; the kernel VM runs as root)\n');
    return 1;
  }
  const profileDir = process.env.BENCH_CPU_PROF === undefined ? undefined : resolve(process.env.BENCH_CPU_PROF);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const hostCpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const env = { BENCH_CHILD_SAS: String(CHILD_SAS), BENCH_ROUNDS: String(ROUNDS), BENCH_HOST_CPU: `${hostCpu}, ${cpus().length} CPUs` };

  const ns = `ikekm-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, process.execPath, ...nodeArguments(profileDir)], { stdio: 'inherit', env: { ...process.env, ...env, BENCH_XFRM_ROLE: 'policies' } });
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }

  process.stderr.write('bench:xfrm: booting the kernel VM for whole Child SAs (the host kernel has no ESP)\n');
  try {
    const result = await runInVm(['node', ...nodeArguments(profileDir)], {
      env: { ...env, BENCH_XFRM_ROLE: 'child-sas' },
      ...(profileDir === undefined ? {} : { shares: [profileDir] }),
      timeoutMs: 60 * 60_000,
      onStdout: (text) => process.stdout.write(text),
      onStderr: (text) => process.stderr.write(text),
    });
    return result.status;
  } catch (error) {
    if (!(error instanceof KernelVmError)) throw error;
    process.stderr.write(`bench:xfrm: ${error.message}\n`);
    return 1;
  }
}

const hostCpu = process.env.BENCH_HOST_CPU ?? cpus()[0]?.model.trim() ?? 'unknown CPU';
if (ROLE === 'policies') {
  await measure({ sas: false, title: 'Policies only, host kernel', where: `native on ${hostCpu}` });
} else if (ROLE === 'child-sas') {
  await measure({ sas: true, title: 'Whole Child SAs, kernel VM', where: `QEMU software emulation (2 vCPUs) on ${hostCpu}` });
} else {
  process.exitCode = await onHost();
}
