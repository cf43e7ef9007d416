/**
 * The guest side of a kernel-VM test file: a "guest driver" script runs inside the VM, performs
 * every check of its test file as a named step, and records each step's outcome in a JSON
 * report that the host-side tests then assert on (guest-script.ts starts it and reads it).
 *
 *   const driver = guestDriver();
 *   const state = await driver.check('esp-state', async () => ({ listed: await ip('xfrm', 'state') }));
 *   await driver.finish();
 *
 * A step that throws is recorded with its error and the driver goes on; check() then returns
 * undefined, so a later step that needs it can be skipped with skip(). The report is rewritten
 * after every step: a driver that hangs or crashes still leaves what it had done.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';

/** Set by the host for the guest driver: where to write the report (in a read-write share). */
export const REPORT_PATH_ENV = 'IKEKM_GUEST_REPORT';

export interface GuestStep {
  readonly name: string;
  readonly outcome: 'passed' | 'failed' | 'skipped';
  readonly ms: number;
  /** What the step returned (JSON), when it passed. */
  readonly value?: unknown;
  /** The error's message and stack, or why the step was skipped. */
  readonly error?: string;
}

export interface GuestReport {
  /** The guest's kernel release, e.g. 6.1.0-57-amd64. */
  readonly kernel: string;
  readonly steps: readonly GuestStep[];
  /** True once finish() ran: the driver got to its end. */
  readonly complete: boolean;
  /** From node's start until guestDriver() was called: node, tsx and the driver's imports. */
  readonly startupMs: number;
  /** From node's start until the report was last written. */
  readonly elapsedMs: number;
}

export class GuestDriver {
  private readonly steps: GuestStep[] = [];
  private readonly startupMs = Math.round(performance.now());

  constructor(readonly reportPath: string) {
    this.write(false);
  }

  /** Runs one step; records its value or its error. Returns the value, or undefined when it failed. */
  async check<T>(name: string, body: () => Promise<T> | T): Promise<T | undefined> {
    if (this.steps.some((s) => s.name === name)) throw new Error(`step ${name} recorded twice`);
    const started = Date.now();
    try {
      const value = await body();
      this.record({ name, outcome: 'passed', ms: Date.now() - started, value });
      return value;
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.record({ name, outcome: 'failed', ms: Date.now() - started, error: text });
      return undefined;
    }
  }

  /** Records a step that was not run, with the reason. */
  skip(name: string, reason: string): void {
    this.record({ name, outcome: 'skipped', ms: 0, error: reason });
  }

  /** Marks the report complete. */
  finish(): void {
    this.write(true);
  }

  private record(step: GuestStep): void {
    this.steps.push(step);
    const detail = step.outcome === 'passed' ? '' : `: ${(step.error ?? '').split('\n')[0] ?? ''}`;
    process.stderr.write(`[guest] ${step.name}: ${step.outcome} (${step.ms} ms)${detail}\n`);
    this.write(false);
  }

  private write(complete: boolean): void {
    const report: GuestReport = { kernel: release(), steps: this.steps, complete, startupMs: this.startupMs, elapsedMs: Math.round(performance.now()) };
    writeFileSync(`${this.reportPath}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(`${this.reportPath}.tmp`, this.reportPath);
  }
}

/** The driver for this process; throws when not started by runGuestScript (no report path). */
export function guestDriver(env: NodeJS.ProcessEnv = process.env): GuestDriver {
  const path = env[REPORT_PATH_ENV];
  if (!path) throw new Error(`${REPORT_PATH_ENV} is not set: guest drivers are started by runGuestScript (test/kernel-vm/guest-script.ts)`);
  return new GuestDriver(path);
}
