/**
 * The host side of a kernel-VM test file. Booting costs seconds under emulation, so a test file
 * boots once: one guest driver script (see guest-report.ts) runs inside the VM and performs all
 * the file's checks; the host-side `it` blocks assert on its report.
 *
 *   const vm = await kernelVmReady();
 *   describeKernelVm('ESP in a real kernel', vm, () => {
 *     const guest = useGuestScript(new URL('./esp.guest.ts', import.meta.url), [], { timeoutMs: 180_000 });
 *     it('installs an ESP state', () => {
 *       expect(guest.value<{ listed: string }>('esp-state').listed).toContain('proto esp');
 *     });
 *   });
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll } from 'vitest';
import { REPORT_PATH_ENV, type GuestReport, type GuestStep } from './guest-report.js';
import { KernelVmError, ownedTempDir, runInVm, tail, type VmRunOptions, type VmRunResult } from './run.js';

export type GuestScriptOptions = Omit<VmRunOptions, 'cwd'>;

export interface GuestScriptRun extends VmRunResult {
  /** The driver's report; undefined when it never wrote one. */
  readonly report: GuestReport | undefined;
}

/**
 * Boots the VM and runs `node --import tsx SCRIPT ARGS…` in the repository, as root, with
 * IKEKM_GUEST_REPORT naming the report file (in a temporary directory shared read-write).
 * Resolves with the status, output and report; rejects with a KernelVmError when the VM
 * itself failed (its message then lists the steps the partial report had).
 */
export async function runGuestScript(script: string | URL, args: readonly string[] = [], options: GuestScriptOptions = {}): Promise<GuestScriptRun> {
  const scriptPath = script instanceof URL ? fileURLToPath(script) : script;
  const reportDir = ownedTempDir('ikekm-vm-report-');
  const reportPath = join(reportDir, 'report.json');
  try {
    let run: VmRunResult;
    try {
      run = await runInVm(['node', '--import', 'tsx', scriptPath, ...args], {
        ...options,
        shares: [...(options.shares ?? []), reportDir],
        env: { ...options.env, [REPORT_PATH_ENV]: reportPath },
      });
    } catch (error) {
      const partial = readReport(reportPath);
      if (!(error instanceof KernelVmError) || !partial) throw error;
      throw new KernelVmError(error.kind, `${error.reason}\n--- steps the guest driver finished ---\n${summary(partial)}`, error.consoleTail, error.stdout, error.stderr);
    }
    return { ...run, report: readReport(reportPath) };
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

export interface GuestScriptFixture {
  /** The finished run (available in tests, after the beforeAll this registers). */
  readonly run: GuestScriptRun;
  /** The step's record; throws when the driver did not record it. */
  step(name: string): GuestStep;
  /** The value of a passed step; throws with the guest's error when it failed or was skipped. */
  value<T = unknown>(name: string): T;
}

/**
 * Registers a beforeAll that runs the guest driver once for the enclosing describe, and logs
 * its timings. A VM failure fails the hook (every test of the suite then fails with it).
 */
export function useGuestScript(script: string | URL, args: readonly string[] = [], options: GuestScriptOptions = {}): GuestScriptFixture {
  let run: GuestScriptRun | undefined;
  const name = basename(script instanceof URL ? fileURLToPath(script) : script);
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  beforeAll(async () => {
    run = await runGuestScript(script, args, { ...options, timeoutMs });
    const t = run.timings;
    const s = (ms: number): string => (ms / 1000).toFixed(1);
    const steps = (run.report?.steps ?? []).map((step) => `${step.name} ${s(step.ms)} s${step.outcome === 'passed' ? '' : ` (${step.outcome})`}`);
    console.info(`[kernel-vm] ${name}: exit ${run.status}; boot ${s(t.bootMs)} s, script ${s(t.commandMs)} s, total ${s(t.totalMs)} s; node start ${s(run.report?.startupMs ?? 0)} s, steps: ${steps.join(', ') || 'none'}`);
  }, timeoutMs + 30_000);

  const finished = (): GuestScriptRun => {
    if (!run) throw new Error(`${name} did not run (see the beforeAll error)`);
    return run;
  };
  const step = (stepName: string): GuestStep => {
    const r = finished();
    const found = r.report?.steps.find((s) => s.name === stepName);
    if (found) return found;
    const why = r.report ? `its report has no step "${stepName}"` : 'it wrote no report';
    throw new Error(`${name} exited ${r.status} and ${why}\n--- stderr (tail) ---\n${tail(r.stderr, 30)}\n--- stdout (tail) ---\n${tail(r.stdout, 15)}`);
  };
  return {
    get run() {
      return finished();
    },
    step,
    value<T = unknown>(stepName: string): T {
      const s = step(stepName);
      if (s.outcome !== 'passed') throw new Error(`in the VM, step "${stepName}" ${s.outcome}: ${s.error ?? ''}`);
      return s.value as T;
    },
  };
}

function readReport(path: string): GuestReport | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as GuestReport;
  } catch {
    return undefined;
  }
}

function summary(report: GuestReport): string {
  return report.steps.map((s) => `${s.name}: ${s.outcome} (${s.ms} ms)${s.error ? ` ${s.error.split('\n')[0] ?? ''}` : ''}`).join('\n') || '(none)';
}
