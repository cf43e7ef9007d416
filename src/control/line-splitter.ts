/**
 * Splits a byte stream into newline-terminated lines, holding at most `maxLineBytes` octets of a
 * line that has not ended yet. readline has no such bound: it keeps concatenating until the
 * newline arrives, so 512 MiB without one ends in `RangeError: Invalid string length`.
 *
 * Lines are counted and cut as bytes and decoded as UTF-8 only once complete, so a multi-byte
 * character split across two chunks is decoded whole. A trailing CR is dropped (CRLF clients).
 */
export type SplitResult =
  | { readonly ok: true; readonly lines: readonly string[] }
  /** A line grew past the bound; `lines` are the complete ones before it. Nothing more is accepted. */
  | { readonly ok: false; readonly lines: readonly string[]; readonly error: 'line-too-long' };

const NEWLINE = 0x0a;

export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private overflowed = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Bytes of the unfinished line held now (never above `maxLineBytes`). */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  push(chunk: Buffer): SplitResult {
    if (this.overflowed) return { ok: false, lines: [], error: 'line-too-long' };
    const lines: string[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE, start); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      if (this.partialBytes + (newline - start) > this.maxLineBytes) return this.overflow(lines);
      const piece = chunk.subarray(start, newline);
      const bytes = this.partialBytes === 0 ? piece : Buffer.concat([...this.partial, piece]);
      this.partial = [];
      this.partialBytes = 0;
      lines.push(decodeLine(bytes));
      start = newline + 1;
    }
    if (start < chunk.length) {
      if (this.partialBytes + (chunk.length - start) > this.maxLineBytes) return this.overflow(lines);
      // Copy: the caller's chunk may be a slice of a larger pooled buffer we must not pin.
      this.partial.push(Buffer.from(chunk.subarray(start)));
      this.partialBytes += chunk.length - start;
    }
    return { ok: true, lines };
  }

  /** At end of input: the unfinished line, if any (a peer that closed mid-line). */
  rest(): string | undefined {
    if (this.partialBytes === 0 || this.overflowed) return undefined;
    const line = decodeLine(Buffer.concat(this.partial));
    this.partial = [];
    this.partialBytes = 0;
    return line;
  }

  private overflow(lines: string[]): SplitResult {
    this.overflowed = true;
    this.partial = [];
    this.partialBytes = 0;
    return { ok: false, lines, error: 'line-too-long' };
  }
}

function decodeLine(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}
