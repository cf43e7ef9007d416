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

/**
 * "FILE:LINE:COL: error: PATH: MESSAGE", the compiler form editors and CI logs understand.
 * Connections are what an operator thinks in (`ikekm up to-hq`), so their paths drop the
 * 'connections.' prefix ("to-hq.dataPolicy"); policy and daemon paths keep their section name
 * ("ikePolicies.hq-ike") because a policy and a connection may share a name.
 */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const shown = d.path.startsWith('connections.') ? d.path.slice('connections.'.length) : d.path;
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${shown === '' ? '' : `${shown}: `}${d.message}`;
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
