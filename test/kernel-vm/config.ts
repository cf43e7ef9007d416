/**
 * Where the kernel VM keeps its files and what a build records.
 *
 * The VM boots Debian's own kernel under QEMU software emulation: the host kernel has XFRM
 * policies but no ESP, so tests that need real ESP run inside it. Everything the build makes
 * (the unpacked kernel package, an uncompressed vmlinux, the initramfs) lives in one cache
 * directory outside the repository, described by `vm.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/kernel-vm/config.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The cache directory: $IKEKM_KERNEL_VM_DIR, else /var/cache/ikekm-kernel-vm. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.IKEKM_KERNEL_VM_DIR || '/var/cache/ikekm-kernel-vm');
}

/**
 * Modules the initramfs loads itself, to reach the host's files over 9p. Everything else
 * (esp4, xfrm_user, veth, the AEAD ciphers…) autoloads inside the VM from the kernel's full
 * module tree, which the build keeps in the cache and the guest sees through the host root.
 */
export const INITRAMFS_MODULES: readonly string[] = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

/** Bump when the layout of the cache or of the initramfs changes: older builds are redone. */
export const BUILD_FORMAT = 1;

/** What `build` leaves in the cache (vm.json). Paths are absolute host paths. */
export interface VmManifest {
  readonly format: number;
  /** e.g. "6.1.0-57-amd64". */
  readonly kernelVersion: string;
  /** The Debian package it came from, e.g. "linux-image-6.1.0-57-amd64". */
  readonly kernelPackage: string;
  /** What QEMU boots: the uncompressed vmlinux (PVH entry) or, failing that, the bzImage. */
  readonly kernel: string;
  readonly initramfs: string;
  /** The kernel's complete /lib/modules/<version> tree (with depmod's indexes). */
  readonly modulesDir: string;
  /** Hash of what the initramfs is made of; a different one means "rebuild". */
  readonly initramfsStamp: string;
  readonly builtAt: string;
}

export function manifestPath(dir: string = cacheDir()): string {
  return join(dir, 'vm.json');
}

/** The manifest, or undefined when nothing (or something unreadable) is there. */
export function readManifest(dir: string = cacheDir()): VmManifest | undefined {
  const path = manifestPath(dir);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VmManifest;
  } catch {
    return undefined;
  }
}
