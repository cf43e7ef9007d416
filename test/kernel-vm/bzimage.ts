/**
 * The uncompressed kernel inside an x86 bzImage (Documentation/arch/x86/boot.rst).
 *
 * QEMU can boot the ELF vmlinux directly through its PVH entry point. That skips the kernel's
 * own decompression of the bzImage, which under software emulation takes about 5 s per boot.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** The compressed payload of a bzImage, with the program that unpacks it. */
export function bzImagePayload(image: Buffer): { readonly payload: Buffer; readonly format: 'xz' | 'zstd' | 'gzip' } {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error('not a bzImage (no "HdrS" boot header)');
  const setupSectors = image[0x1f1] || 4;
  const payloadOffset = image.readUInt32LE(0x248);
  const payloadLength = image.readUInt32LE(0x24c);
  const start = (setupSectors + 1) * 512 + payloadOffset;
  const payload = image.subarray(start, start + payloadLength);
  if (payload.length !== payloadLength) throw new Error('bzImage payload runs past the end of the file');
  if (payload.readUInt32BE(0) === 0xfd377a58) return { payload, format: 'xz' };
  if (payload.readUInt32BE(0) === 0x28b52ffd) return { payload, format: 'zstd' };
  if (payload.readUInt16BE(0) === 0x1f8b) return { payload, format: 'gzip' };
  throw new Error(`bzImage payload in an unsupported format (magic ${payload.subarray(0, 4).toString('hex')})`);
}

/** Decompresses the bzImage at `path` and returns the ELF vmlinux. Needs xz or zstd for those formats. */
export async function extractVmlinux(path: string): Promise<Buffer> {
  const { payload, format } = bzImagePayload(readFileSync(path));
  const elf = format === 'gzip' ? gunzipSync(payload) : await decompress(format === 'xz' ? ['xz', '-dc', '--single-stream'] : ['zstd', '-dcq'], payload);
  if (elf.length < 4 || elf.readUInt32BE(0) !== 0x7f454c46) throw new Error('the decompressed bzImage payload is not an ELF file');
  return elf;
}

function decompress(command: readonly [string, ...string[]], input: Buffer): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const [file, ...args] = command;
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(Buffer.concat(chunks)) : reject(new Error(`${file} exited ${code}: ${stderr.trim()}`))));
    child.stdin.on('error', () => undefined); // a failing decompressor closes its input early
    child.stdin.end(input);
  });
}
