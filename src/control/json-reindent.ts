/**
 * Compact JSON as JSON.stringify writes it, re-indented the way JSON.stringify(value, null, 2)
 * would write the same value, chunk by chunk and without parsing it: `ikekm status --json` prints
 * the daemon's status of 100 000 SAs (60 MiB on the control socket) as it arrives, instead of
 * parsing the whole line into objects and stringifying them again.
 *
 * It works on UTF-8 bytes: every byte that structures JSON ({ } [ ] , : ") is ASCII, and no byte
 * of a multi-byte UTF-8 sequence is. Strings, numbers and literals are copied byte for byte, so
 * the output is the value's JSON.stringify(…, null, 2) text exactly when the input is its
 * JSON.stringify text (no whitespace between tokens). Input with whitespace or that is not JSON
 * is not detected here; it comes from the daemon, which writes it with JSON.stringify.
 *
 * The value ends where its last bracket closes (or, for a value that is not an object or array,
 * at the first `}` or `]` after it: the end of the reply around it); what follows it is `rest`.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The index of the quote that ends a string from `from` on (not one escaped), or -1. */
function closingQuote(input: Buffer, from: number): number {
  for (let at = from; ; ) {
    const quote = input.indexOf(QUOTE, at);
    if (quote === -1) return -1;
    let backslashes = 0;
    while (quote - backslashes - 1 >= from && input[quote - backslashes - 1] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/** Whether the string's bytes in this chunk (from `from` on) end in an unfinished escape. */
function endsInEscape(input: Buffer, from: number): boolean {
  let backslashes = 0;
  while (input.length - backslashes - 1 >= from && input[input.length - backslashes - 1] === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/** What one chunk gave: the re-indented bytes, and once the value has ended, the bytes after it. */
export interface ReindentedChunk {
  readonly output: Buffer;
  /** Defined once the value has ended: the rest of this chunk after it (maybe empty). */
  readonly rest: Buffer | undefined;
}

export class JsonReindenter {
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** A `{` or `[` whose output waits for the next byte: `{}` and `[]` stay on one line. */
  #pendingOpen = 0;
  #ended = false;

  /** True once the value has ended (push returned its `rest`). */
  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Uint8Array): ReindentedChunk {
    if (this.#ended) return { output: Buffer.alloc(0), rest: Buffer.from(chunk) };
    const input = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // The state in locals for the loop (60 MiB go through it); put back at the end.
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    let pendingOpen = this.#pendingOpen;
    let out = Buffer.allocUnsafe(input.length * 2 + 256);
    let o = 0;
    /** Room for `n` more bytes: grown only at a bracket or comma, never per byte. */
    const room = (n: number): void => {
      if (o + n <= out.length) return;
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, o + n + 256));
      out.copy(bigger, 0, 0, o);
      out = bigger;
    };
    // Short runs and indents byte by byte: a call into Buffer's native copy or fill costs more
    // than the few bytes most tokens are.
    const newline = (): void => {
      room(1 + 2 * depth);
      out[o++] = NEWLINE;
      for (let k = 2 * depth; k > 0; k--) out[o++] = SPACE;
    };
    // Bytes copied as they are (in strings, numbers, literals) go out as runs: [run, i).
    let run = 0;
    const flush = (to: number): void => {
      if (to <= run) return;
      room(to - run);
      if (to - run > 64) o += input.copy(out, o, run, to);
      else for (let k = run; k < to; k++) out[o++] = input[k]!;
    };
    const finish = (restAt: number): ReindentedChunk => {
      this.#ended = true;
      this.#depth = depth;
      return { output: out.subarray(0, o), rest: Buffer.from(input.subarray(restAt)) };
    };
    const n = input.length;
    for (let i = 0; i < n; i++) {
      if (inString) {
        // To the closing quote with the native search: most of the status is strings.
        let from = i;
        if (escaped) {
          escaped = false;
          from++;
        }
        const close = closingQuote(input, from);
        if (close === -1) {
          escaped = endsInEscape(input, from);
          break;
        }
        inString = false;
        i = close;
        continue;
      }
      const b = input[i]!;
      if (pendingOpen !== 0) {
        const open = pendingOpen;
        pendingOpen = 0;
        room(2);
        out[o++] = open;
        if ((open === OPEN_OBJECT && b === CLOSE_OBJECT) || (open === OPEN_ARRAY && b === CLOSE_ARRAY)) {
          out[o++] = b;
          run = i + 1;
          depth--;
          if (depth === 0) return finish(i + 1);
          continue;
        }
        newline();
      }
      switch (b) {
        case QUOTE:
          inString = true;
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          flush(i);
          run = i + 1;
          depth++;
          pendingOpen = b;
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          flush(i);
          // Closing what the value never opened: the value was a scalar, and this ends the reply.
          if (depth === 0) return finish(i);
          run = i + 1;
          depth--;
          newline();
          room(1);
          out[o++] = b;
          if (depth === 0) return finish(i + 1);
          break;
        case COMMA:
          flush(i);
          run = i + 1;
          room(1);
          out[o++] = b;
          newline();
          break;
        case COLON:
          flush(i);
          run = i + 1;
          room(2);
          out[o++] = b;
          out[o++] = SPACE;
          break;
      }
    }
    flush(n);
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    this.#pendingOpen = pendingOpen;
    return { output: out.subarray(0, o), rest: undefined };
  }
}
