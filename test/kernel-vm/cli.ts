/**
 * The kernel VM by hand:
 *
 *   npx tsx test/kernel-vm/cli.ts build                 install what is missing, fetch the kernel, build (idempotent)
 *   npx tsx test/kernel-vm/cli.ts run [opts] -- CMD…    boot, run CMD as root in the current directory, exit with its status
 *   npx tsx test/kernel-vm/cli.ts info                  what is built, and where
 *
 * run options: --timeout SECONDS (default 600), --share DIR (repeatable, read-write),
 * --console (stream the guest console to stderr), --keep (keep the run's control directory).
 * The command gets a small environment (PATH, HOME, LANG, CI…); --env NAME=VALUE adds to it.
 * Exit status of run: the command's; 124 on timeout; 125 when the VM could not run it.
 */
import { builtManifest, buildKernelVm } from './build.js';
import { cacheDir } from './config.js';
import { KernelVmError, runInVm } from './run.js';

const USAGE = 'usage: cli.ts build | info | run [--timeout S] [--share DIR]… [--env NAME=VALUE]… [--console] [--keep] -- CMD [ARG]…';

async function main(args: readonly string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'build': {
      const started = Date.now();
      await buildKernelVm();
      process.stderr.write(`kernel-vm: build took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return 0;
    }
    case 'info': {
      const built = builtManifest();
      if ('problem' in built) {
        process.stderr.write(`kernel-vm: ${built.problem}\n`);
        return 1;
      }
      process.stdout.write(`${JSON.stringify(built.manifest, null, 2)}\n`);
      return 0;
    }
    case 'run':
      return run(rest);
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

async function run(args: readonly string[]): Promise<number> {
  const separator = args.indexOf('--');
  if (separator < 0 || separator === args.length - 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const options = args.slice(0, separator);
  const command = args.slice(separator + 1);
  let timeoutMs = 600_000;
  const shares: string[] = [];
  const env: Record<string, string> = {};
  let streamConsole = false;
  let keep = false;
  for (let i = 0; i < options.length; i++) {
    const option = options[i];
    const value = (): string => {
      const v = options[++i];
      if (v === undefined) throw new Error(`${option} needs a value`);
      return v;
    };
    if (option === '--timeout') timeoutMs = Number(value()) * 1000;
    else if (option === '--share') shares.push(value());
    else if (option === '--env') {
      const [name, ...rest] = value().split('=');
      if (!name || rest.length === 0) throw new Error('--env takes NAME=VALUE');
      env[name] = rest.join('=');
    } else if (option === '--console') streamConsole = true;
    else if (option === '--keep') keep = true;
    else throw new Error(`unknown option ${option}\n${USAGE}`);
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error('--timeout takes a number of seconds');

  process.stderr.write(`kernel-vm: booting (${cacheDir()}): ${command.join(' ')}\n`);
  try {
    const result = await runInVm(command, {
      cwd: process.cwd(),
      shares,
      env,
      timeoutMs,
      keep,
      onStdout: (text) => process.stdout.write(text),
      onStderr: (text) => process.stderr.write(text),
      onConsole: streamConsole ? (text) => process.stderr.write(text) : undefined,
    });
    const t = result.timings;
    const s = (ms: number): string => (ms / 1000).toFixed(1);
    process.stderr.write(`kernel-vm: exit ${result.status}; boot ${s(t.bootMs)} s, command ${s(t.commandMs)} s, total ${s(t.totalMs)} s\n`);
    return result.status;
  } catch (error) {
    if (!(error instanceof KernelVmError)) throw error;
    process.stderr.write(`kernel-vm: ${error.message}\n`);
    return error.kind === 'timeout' ? 124 : 125;
  }
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`kernel-vm: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(125);
  },
);
