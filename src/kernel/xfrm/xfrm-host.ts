/**
 * Whether the XFRM codec's layouts fit the machine it runs on. The kernel reads netlink headers
 * and XFRM structs in native byte order and native alignment, and the codec writes them
 * little-endian with 8-octet alignment for u64 fields (xfrm-layout.ts): right on 64-bit
 * little-endian Linux, wrong elsewhere. On 32-bit x86 the u64 fields are 4-aligned, so
 * xfrm_usersa_info shrinks to 220 octets and the kernel would need its compat layer; on a
 * big-endian host every length would be read backwards.
 */

/** process.arch values of 64-bit architectures whose C ABI aligns u64 to 8 (and that run little-endian Linux). */
const SUPPORTED_ARCHITECTURES: ReadonlySet<string> = new Set(['x64', 'arm64', 'riscv64', 'ppc64', 'loong64']);

/** Why the codec cannot talk to this host's kernel, or undefined when it can. Pass process.arch and os.endianness(). */
export function xfrmHostUnsupportedReason(arch: string, endianness: 'BE' | 'LE'): string | undefined {
  if (endianness !== 'LE') return `the XFRM codec writes little-endian structs; this host is big-endian (${arch})`;
  if (!SUPPORTED_ARCHITECTURES.has(arch)) return `the XFRM codec lays out structs for 64-bit hosts (x64, arm64, …); this host is ${arch}`;
  return undefined;
}
