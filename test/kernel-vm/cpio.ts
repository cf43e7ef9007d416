/**
 * A writer for the "newc" cpio format, the one the Linux kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst). Writing it here means the
 * build needs no cpio program, and every entry is owned by root whoever builds it.
 */

export type CpioEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly type: 'file'; readonly path: string; readonly data: Buffer; readonly mode?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string }
  | { readonly type: 'chardev'; readonly path: string; readonly major: number; readonly minor: number; readonly mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** The archive: entries in the given order (parents before children), then the trailer. */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (buffer: Buffer): void => {
    parts.push(buffer);
    offset += buffer.length;
  };
  const pad = (): void => {
    if (offset % 4 !== 0) push(Buffer.alloc(4 - (offset % 4)));
  };
  let ino = 1;
  const member = (name: string, mode: number, data: Buffer, rdev: readonly [number, number] = [0, 0]): void => {
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const fields = [ino++, mode, 0, 0, mode & S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
    push(Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`, 'ascii'));
    push(nameBytes);
    pad();
    push(data);
    pad();
  };
  for (const entry of entries) {
    const name = entry.path.replace(/^\/+/, '');
    switch (entry.type) {
      case 'dir':
        member(name, S_IFDIR | (entry.mode ?? 0o755), Buffer.alloc(0));
        break;
      case 'file':
        member(name, S_IFREG | (entry.mode ?? 0o644), entry.data);
        break;
      case 'symlink':
        member(name, S_IFLNK | 0o777, Buffer.from(entry.target, 'utf8'));
        break;
      case 'chardev':
        member(name, S_IFCHR | (entry.mode ?? 0o600), Buffer.alloc(0), [entry.major, entry.minor]);
        break;
    }
  }
  member('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}
