/**
 * Whether kernel-VM tests can run here, and what happens when they cannot.
 *
 * Policy (as for tshark and the interop lab): on a developer machine without root, QEMU or a
 * build the suite is skipped LOUDLY (console.warn naming what is missing and how to get it);
 * under CI (process.env.CI === 'true') it is registered anyway and fails in beforeAll with the
 * reason, so a CI machine that lost a package cannot turn the suite silently green.
 *
 * When only the build is missing or out of date and the tools are there, kernelVmReady() builds
 * it (downloading the kernel package once); it never apt-installs: `cli.ts build` does.
 *
 *   const vm = await kernelVmReady();
 *   describeKernelVm('ESP in a real kernel', vm, () => { … });
 */
import { beforeAll, describe } from 'vitest';
import { builtManifest, buildKernelVm } from './build.js';
import { cacheDir } from './config.js';
import { which } from './host.js';

export interface KernelVmAvailability {
  readonly available: boolean;
  /** One entry per missing piece, with the way to get it. */
  readonly missing: readonly string[];
}

const BUILD_HINT = 'npx tsx test/kernel-vm/cli.ts build (as root; installs qemu-system-x86, kmod, busybox-static)';

/** Root, QEMU, kmod, a complete and current build. */
export function kernelVmAvailability(dir: string = cacheDir()): KernelVmAvailability {
  const missing = missingTools();
  const built = builtManifest(dir);
  if ('problem' in built) missing.push(`${built.problem}: ${BUILD_HINT}`);
  return { available: missing.length === 0, missing };
}

function missingTools(): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') missing.push(`an x86-64 Linux host (this is ${process.platform}/${process.arch})`);
  if (process.getuid?.() !== 0) missing.push('root (the VM shares the host root and runs namespaces; run as root)');
  if (!which('qemu-system-x86_64')) missing.push(`qemu-system-x86_64: ${BUILD_HINT}`);
  if (!which('modprobe')) missing.push(`modprobe (kmod; the guest autoloads modules with the host's): ${BUILD_HINT}`);
  return missing;
}

let ready: Promise<KernelVmAvailability> | undefined;

/** Availability, after building when the tools are there and only the build is missing. Once per process. */
export function kernelVmReady(): Promise<KernelVmAvailability> {
  ready ??= (async () => {
    const first = kernelVmAvailability();
    if (first.available || missingTools().length > 0) return first;
    console.warn(`[kernel-vm] ${first.missing.join('; ')}: building it now in ${cacheDir()}`);
    try {
      await buildKernelVm({ install: false, log: (line) => console.warn(`[kernel-vm] ${line}`) });
    } catch (error) {
      return { available: false, missing: [`a kernel VM build (it failed: ${(error as Error).message.split('\n')[0] ?? ''}): ${BUILD_HINT}`] };
    }
    return kernelVmAvailability();
  })();
  return ready;
}

/** run, skip (loudly) or fail (missing under CI=true). */
export function kernelVmGate(availability: KernelVmAvailability, env: NodeJS.ProcessEnv = process.env): 'run' | 'skip' | 'fail' {
  if (availability.available) return 'run';
  return env.CI === 'true' ? 'fail' : 'skip';
}

/**
 * `describe` for suites that need the kernel VM. Unavailable: warns and skips, or under CI
 * registers the suite with a beforeAll that throws the reason (so every test fails).
 */
export function describeKernelVm(name: string, availability: KernelVmAvailability, body: () => void): void {
  const gate = kernelVmGate(availability);
  if (gate === 'skip') {
    console.warn(`\n*** SKIPPING "${name}": kernel VM unavailable; missing:\n  - ${availability.missing.join('\n  - ')}\n***\n`);
  }
  describe.skipIf(gate === 'skip')(name, () => {
    if (gate === 'fail') {
      beforeAll(() => {
        throw new Error(`kernel VM required under CI=true but unavailable; missing: ${availability.missing.join('; ')}`);
      });
    }
    body();
  });
}
