/**
 * What the configuration loader reports: one diagnostic per problem, with the file, line and
 * column it is about, so an operator can jump to it, and a message that says what is wrong and
 * what is allowed. Messages never contain a secret (a PSK error gives lengths, never the key).
 */

export interface ConfigDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in characters (UTF-16 code units) from the start of the line. */
  readonly column: number;
  /** Where in the document, dotted: 'connections.to-hq.dataPolicy', 'ikePolicies.hq-ike.proposals[1]'; '' for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

/** How many characters of a value from the file a message shows; the rest is counted, not echoed. */
export const MAX_QUOTED_CHARS = 64;
/** File paths are shown longer than values: they are the operator's own, and needed whole. */
export const MAX_QUOTED_PATH_CHARS = 256;
/** A backstop for whole messages and paths (keys are part of a path). */
export const MAX_MESSAGE_CHARS = 1024;

/**
 * Characters that must not reach a terminal or a log line raw: C0 and C1 controls and DEL (an
 * escape sequence can rewrite the screen), line and paragraph separators, and the bidirectional
 * overrides and isolates that make a line read differently from what it holds.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with the characters above written as escapes (\n, \t, \r, \x1b, \u2028). */
export function escapeControl(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default: {
        const code = c.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
      }
    }
  });
}

/** At most `max` characters (code points) of `text`, with '…' where it was cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let count = 0;
  let end = 0;
  for (const c of text) {
    if (count === max) return `${text.slice(0, end)}…`;
    count++;
    end += c.length;
  }
  return text;
}

/**
 * A value from the file as a message shows it: in single quotes, control characters escaped,
 * and a long one cut with its length said ("'aaaa…' (104857600 characters)"), so a 100 MB scalar
 * is not echoed back whole.
 */
export function quoted(value: string, max = MAX_QUOTED_CHARS): string {
  const cut = clip(value, max);
  const shown = `'${escapeControl(cut)}'`;
  return cut === value ? shown : `${shown} (${value.length} characters)`;
}

/** A message or path made safe to print: escaped, then cut (a backstop behind `quoted`). */
export function printable(text: string): string {
  return escapeControl(clip(text, MAX_MESSAGE_CHARS));
}

/**
 * "FILE:LINE:COL: error: PATH: MESSAGE", the compiler form editors and CI logs understand.
 * Connections are what an operator thinks in (`ikekm up to-hq`), so their paths drop the
 * 'connections.' prefix ("to-hq.dataPolicy"); policy and daemon paths keep their section name
 * ("ikePolicies.hq-ike") because a policy and a connection may share a name.
 */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const shown = d.path.startsWith('connections.') ? d.path.slice('connections.'.length) : d.path;
  return `${printable(d.file)}:${d.line}:${d.column}: ${d.severity}: ${shown === '' ? '' : `${printable(shown)}: `}${printable(d.message)}`;
}

/** Diagnostics in file order (line, then column); errors before warnings at the same spot. */
export function sortDiagnostics(list: readonly ConfigDiagnostic[]): ConfigDiagnostic[] {
  return [...list].sort(
    (a, b) => a.line - b.line || a.column - b.column || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}

/** For callers that prefer an exception (the daemon's start-up path): every diagnostic, formatted. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly diagnostics: readonly ConfigDiagnostic[];
  constructor(diagnostics: readonly ConfigDiagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    super(
      [`configuration has ${errors} error${errors === 1 ? '' : 's'}`, ...diagnostics.map(formatDiagnostic)].join('\n'),
    );
    this.diagnostics = diagnostics;
  }
}
