/**
 * Builds the kernel VM into the cache directory, idempotently:
 *
 * 1. host tools: qemu-system-x86_64, kmod (depmod, and modprobe for the guest's module
 *    autoloading) and a static busybox, apt-installed when missing (`install`);
 * 2. the kernel: the package linux-image-amd64 depends on (or $IKEKM_KERNEL_VM_KERNEL_PKG),
 *    fetched with `apt-get download`, unpacked, indexed with depmod; its vmlinux extracted
 *    for a faster boot;
 * 3. the initramfs: busybox, the modules that reach the 9p shares, and stage 1's /init
 *    (guest-scripts.ts), written as a cpio archive by cpio.ts;
 * 4. vm.json, which `run` reads.
 *
 * A second build with nothing changed only checks and returns. Older kernels are removed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { extractVmlinux } from './bzimage.js';
import { BUILD_FORMAT, INITRAMFS_MODULES, cacheDir, manifestPath, readManifest, type VmManifest } from './config.js';
import { cpioArchive, type CpioEntry } from './cpio.js';
import { stage1Init } from './guest-scripts.js';
import { exec, execChecked, isStaticElf, pidAlive, which } from './host.js';

export interface BuildOptions {
  /** Cache directory (default: cacheDir()). */
  readonly dir?: string;
  /** apt-get install the host tools that are missing (default true; needs root). */
  readonly install?: boolean;
  /** Progress lines (default: to stderr). */
  readonly log?: (line: string) => void;
}

/** What the initramfs of kernel `kernelVersion` is made of, as a hash: a build with another is stale. */
export function initramfsStamp(kernelVersion: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ format: BUILD_FORMAT, kernelVersion, modules: INITRAMFS_MODULES, init: stage1Init() }))
    .digest('hex')
    .slice(0, 16);
}

/** The manifest when the cache holds a complete, current build; otherwise why not. */
export function builtManifest(dir: string = cacheDir()): { readonly manifest: VmManifest } | { readonly problem: string } {
  const manifest = readManifest(dir);
  if (!manifest) return { problem: `nothing built in ${dir}` };
  if (manifest.format !== BUILD_FORMAT || manifest.initramfsStamp !== initramfsStamp(manifest.kernelVersion)) {
    return { problem: `the build in ${dir} is out of date (made by an older runner)` };
  }
  for (const path of [manifest.kernel, manifest.initramfs, join(manifest.modulesDir, 'modules.dep.bin')]) {
    if (!existsSync(path)) return { problem: `${path} is missing` };
  }
  return { manifest };
}

export async function buildKernelVm(options: BuildOptions = {}): Promise<VmManifest> {
  const dir = options.dir ?? cacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`kernel-vm: ${line}\n`));
  const apt = new Apt(options.install ?? true, log);
  await ensureHostTools(apt);
  mkdirSync(dir, { recursive: true });
  return withBuildLock(dir, log, async () => {
    const busybox = await staticBusybox(dir, apt);
    const kernelPackage = await chooseKernelPackage(dir, apt, log);
    const kernelVersion = kernelPackage.replace(/^linux-image-/, '');
    const kernelDir = join(dir, `kernel-${kernelVersion}`);
    const modulesDir = join(kernelDir, 'lib', 'modules', kernelVersion);
    if (!existsSync(join(kernelDir, 'boot', `vmlinuz-${kernelVersion}`)) || !existsSync(join(modulesDir, 'modules.dep.bin'))) {
      await fetchKernel(dir, kernelPackage, kernelVersion, kernelDir, apt, log);
    }
    const kernel = await bootableKernel(kernelDir, kernelVersion, log);

    const stamp = initramfsStamp(kernelVersion);
    const initramfs = join(dir, `initramfs-${kernelVersion}.cpio.gz`);
    const previous = readManifest(dir);
    if (previous?.initramfsStamp === stamp && previous.kernel === kernel && existsSync(initramfs)) {
      log(`up to date: kernel ${kernelVersion} in ${dir}`);
      return previous;
    }
    const modules = await moduleLoadOrder(kernelDir, kernelVersion);
    writeAtomically(initramfs, gzipSync(cpioArchive(await initramfsEntries(busybox, modules)), { level: 6 }));
    for (const name of readdirSync(dir)) {
      const stale = (name.startsWith('kernel-') && name !== basename(kernelDir)) || (name.startsWith('initramfs-') && name !== basename(initramfs));
      if (stale) rmSync(join(dir, name), { recursive: true, force: true });
    }
    const manifest: VmManifest = {
      format: BUILD_FORMAT,
      kernelVersion,
      kernelPackage,
      kernel,
      initramfs,
      modulesDir,
      initramfsStamp: stamp,
      builtAt: new Date().toISOString(),
    };
    writeAtomically(manifestPath(dir), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    log(`built: kernel ${kernelVersion} (${basename(kernel)}), initramfs with ${modules.length} modules, in ${dir}`);
    return manifest;
  });
}

/** apt-get, run only when `install` allows it, with `apt-get update` once when a look-up fails. */
class Apt {
  private updated = false;

  constructor(
    readonly install: boolean,
    private readonly log: (line: string) => void,
  ) {}

  async installPackages(packages: readonly string[], why: string): Promise<void> {
    if (!this.install) throw new Error(`missing ${why}: apt-get install ${packages.join(' ')} (or build with installing allowed)`);
    this.log(`installing ${packages.join(' ')} (${why})`);
    const args = ['install', '-y', '-q', '--no-install-recommends', ...packages];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if ((await exec('apt-get', args, { env })).code === 0) return;
    await this.update();
    await execChecked('apt-get', args, { env });
  }

  async update(): Promise<void> {
    if (this.updated) return;
    this.updated = true;
    this.log('apt-get update');
    await execChecked('apt-get', ['update', '-q']);
  }

  /** `apt-get download PACKAGE` into `into`; returns the .deb's path. */
  async download(pkg: string, into: string): Promise<string> {
    rmSync(into, { recursive: true, force: true });
    mkdirSync(into, { recursive: true });
    // As root, apt would hand the download to its sandbox user, who cannot write here.
    const args = ['-q', '-o', 'APT::Sandbox::User=root', 'download', pkg];
    if ((await exec('apt-get', args, { cwd: into })).code !== 0) {
      await this.update();
      await execChecked('apt-get', args, { cwd: into });
    }
    const deb = readdirSync(into).find((name) => name.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${into}`);
    return join(into, deb);
  }
}

async function ensureHostTools(apt: Apt): Promise<void> {
  const missing: string[] = [];
  if (!which('qemu-system-x86_64')) missing.push('qemu-system-x86');
  if (!which('depmod') || !which('modprobe')) missing.push('kmod');
  if (!which('apt-get') || !which('dpkg-deb')) throw new Error('the kernel VM is built from Debian packages: apt-get and dpkg-deb are needed');
  if (missing.length > 0) await apt.installPackages(missing, 'host tools for the kernel VM');
  for (const tool of ['qemu-system-x86_64', 'depmod', 'modprobe']) if (!which(tool)) throw new Error(`${tool} still not found after installing`);
}

/** A static busybox: the host's, else busybox-static installed, else (dynamic busybox installed) a private copy. */
async function staticBusybox(dir: string, apt: Apt): Promise<string> {
  const host = which('busybox');
  if (host && isStaticElf(host)) return host;
  const dynamicInstalled = (await exec('dpkg-query', ['-W', '-f=${Status}', 'busybox'])).stdout.includes('ok installed');
  if (!dynamicInstalled) {
    await apt.installPackages(['busybox-static'], 'a static busybox for the initramfs');
    const installed = which('busybox');
    if (installed && isStaticElf(installed)) return installed;
  }
  // busybox-static conflicts with the installed busybox package: unpack it beside the cache.
  const privateCopy = join(dir, 'busybox-static', 'bin', 'busybox');
  if (!isStaticElf(privateCopy)) {
    const deb = await apt.download('busybox-static', join(dir, 'download.tmp'));
    await execChecked('dpkg-deb', ['-x', deb, join(dir, 'busybox-static')]);
    rmSync(join(dir, 'download.tmp'), { recursive: true, force: true });
  }
  if (!isStaticElf(privateCopy)) throw new Error(`no static busybox at ${privateCopy}`);
  return privateCopy;
}

async function chooseKernelPackage(dir: string, apt: Apt, log: (line: string) => void): Promise<string> {
  const pinned = process.env.IKEKM_KERNEL_VM_KERNEL_PKG;
  if (pinned) return pinned;
  const lookUp = async (): Promise<string | undefined> => {
    const depends = await exec('apt-cache', ['depends', 'linux-image-amd64']);
    return /Depends: (linux-image-\d\S*)/.exec(depends.stdout)?.[1];
  };
  let pkg = await lookUp();
  if (!pkg) {
    await apt.update().catch((error: Error) => log(`warning: ${error.message.split('\n')[0] ?? ''}`));
    pkg = await lookUp();
  }
  if (pkg) return pkg;
  const previous = readManifest(dir);
  if (previous) {
    log(`warning: apt-cache does not know linux-image-amd64; keeping ${previous.kernelPackage}`);
    return previous.kernelPackage;
  }
  throw new Error('cannot tell which kernel to use: `apt-cache depends linux-image-amd64` names none (set IKEKM_KERNEL_VM_KERNEL_PKG)');
}

async function fetchKernel(dir: string, pkg: string, version: string, kernelDir: string, apt: Apt, log: (line: string) => void): Promise<void> {
  log(`downloading ${pkg}`);
  const deb = await apt.download(pkg, join(dir, 'download.tmp'));
  const unpacked = `${kernelDir}.tmp`;
  rmSync(unpacked, { recursive: true, force: true });
  log(`unpacking ${basename(deb)}`);
  await execChecked('dpkg-deb', ['-x', deb, unpacked]);
  if (!existsSync(join(unpacked, 'boot', `vmlinuz-${version}`))) throw new Error(`${pkg} holds no /boot/vmlinuz-${version}`);
  await execChecked(which('depmod') ?? 'depmod', ['-b', unpacked, version]);
  rmSync(kernelDir, { recursive: true, force: true });
  renameSync(unpacked, kernelDir);
  rmSync(join(dir, 'download.tmp'), { recursive: true, force: true });
}

/** The uncompressed vmlinux when the kernel has a PVH entry point (about 5 s faster to boot), else the bzImage. */
async function bootableKernel(kernelDir: string, version: string, log: (line: string) => void): Promise<string> {
  const bzImage = join(kernelDir, 'boot', `vmlinuz-${version}`);
  const vmlinux = join(kernelDir, 'vmlinux');
  if (existsSync(vmlinux)) return vmlinux;
  const config = readFileSync(join(kernelDir, 'boot', `config-${version}`), 'utf8');
  if (!/^CONFIG_PVH=y$/m.test(config)) return bzImage;
  try {
    writeAtomically(vmlinux, await extractVmlinux(bzImage));
    return vmlinux;
  } catch (error) {
    log(`warning: booting the bzImage, about 5 s slower (cannot extract vmlinux: ${(error as Error).message})`);
    return bzImage;
  }
}

/** The files of INITRAMFS_MODULES and their dependencies, in load order (builtins left out). */
async function moduleLoadOrder(kernelDir: string, version: string): Promise<string[]> {
  const files: string[] = [];
  for (const name of INITRAMFS_MODULES) {
    const shown = await execChecked(which('modprobe') ?? 'modprobe', ['-d', kernelDir, '-S', version, '--show-depends', name]);
    for (const line of shown.stdout.split('\n')) {
      const file = /^insmod (\S+)/.exec(line)?.[1];
      if (file && !files.includes(file)) files.push(file);
    }
  }
  return files;
}

async function initramfsEntries(busybox: string, modules: readonly string[]): Promise<CpioEntry[]> {
  const applets = (await execChecked(busybox, ['--list'])).stdout.split('\n').filter((a) => a !== '' && a !== 'busybox' && !a.includes('/'));
  return [
    ...['bin', 'sbin', 'dev', 'etc', 'lib', 'lib/modules', 'proc', 'sys', 'tmp'].map((path): CpioEntry => ({ type: 'dir', path })),
    { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { type: 'file', path: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 },
    ...applets.map((applet): CpioEntry => ({ type: 'symlink', path: `bin/${applet}`, target: 'busybox' })),
    { type: 'file', path: 'init', data: Buffer.from(stage1Init()), mode: 0o755 },
    { type: 'file', path: 'etc/modules', data: Buffer.from(modules.map((m) => `${basename(m)}\n`).join('')) },
    ...modules.map((m): CpioEntry => ({ type: 'file', path: `lib/modules/${basename(m)}`, data: readFileSync(m) })),
  ];
}

function writeAtomically(path: string, data: Buffer): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** One build at a time per cache (two test files may find it missing at once). */
async function withBuildLock<T>(dir: string, log: (line: string) => void, body: () => Promise<T>): Promise<T> {
  const lock = join(dir, 'build.lock');
  const deadline = Date.now() + 20 * 60_000;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSyncOr(join(lock, 'pid'), ''));
      if (holder > 0 && !pidAlive(holder)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} held by pid ${holder} for 20 minutes`);
      if (!announced) log(`waiting for another build (pid ${holder || '?'}) to finish`);
      announced = true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readFileSyncOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
