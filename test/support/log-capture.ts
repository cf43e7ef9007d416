/**
 * Log capture for tests: a logger built exactly like the daemon's (createLogger) but writing into
 * memory, and a scanner that proves secrets are absent from what was written.
 *
 * The scanner looks for each secret in every form it could take in a JSON log line: as text
 * (also JSON-escaped), as lower- and upper-case hex, as base64 / base64url at any byte alignment
 * inside a longer encoded value, and as the decimal byte list a raw Buffer serializes to
 * (`{"type":"Buffer","data":[...]}`).
 */
import { createLogger, type LogLevel, type Logger } from '../../src/log/logger.js';

export interface LogCapture {
  readonly logger: Logger;
  /** The lines as written (JSON text, or pino-pretty text when `pretty`). */
  text(): string[];
  /** The lines parsed as JSON (not for `pretty`). */
  lines(): Record<string, unknown>[];
}

export function captureLogs(options: { level?: LogLevel; pretty?: boolean } = {}): LogCapture {
  let written = '';
  // pino's DestinationStream: anything with write(line), called synchronously on each log call.
  const destination = { write: (chunk: string): void => void (written += chunk) };
  const logger = createLogger({ level: options.level ?? 'trace', pretty: options.pretty ?? false, destination });
  const text = (): string[] => written.split('\n').filter((line) => line.length > 0);
  return {
    logger,
    text,
    lines: () => text().map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export type SecretEncoding = 'text' | 'json-text' | 'hex' | 'HEX' | 'base64' | 'base64url' | 'decimal-octets';

export interface SecretFinding {
  readonly secretIndex: number;
  readonly encoding: SecretEncoding;
  readonly lineIndex: number;
}

/** Shorter secrets would match by chance; tests must plant real-sized ones. */
const MIN_SECRET_OCTETS = 4;
/** Below this, an aligned base64 fragment is too short to be evidence. */
const MIN_BASE64_FRAGMENT = 6;

/**
 * The base64 characters that depend only on the secret's octets, for each of the three
 * alignments the secret can have inside a longer encoded value (base64 works in 3-octet groups).
 */
function base64Fragments(secret: Buffer): string[] {
  const fragments: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), secret]);
    const firstWholeGroup = shift === 0 ? 0 : 1;
    const endOfWholeGroups = Math.floor(padded.length / 3);
    const fragment = padded.toString('base64').slice(firstWholeGroup * 4, endOfWholeGroups * 4);
    if (fragment.length >= MIN_BASE64_FRAGMENT) fragments.push(fragment);
  }
  return fragments;
}

function needles(secret: string | Uint8Array): [SecretEncoding, string][] {
  const octets = Buffer.from(secret);
  if (octets.length < MIN_SECRET_OCTETS) throw new RangeError(`a secret to scan for must be at least ${MIN_SECRET_OCTETS} octets`);
  const found: [SecretEncoding, string][] = [];
  if (typeof secret === 'string') {
    found.push(['text', secret]);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) found.push(['json-text', escaped]);
  }
  const hex = octets.toString('hex');
  found.push(['hex', hex], ['HEX', hex.toUpperCase()]);
  for (const fragment of base64Fragments(octets)) {
    found.push(['base64', fragment], ['base64url', fragment.replaceAll('+', '-').replaceAll('/', '_')]);
  }
  found.push(['decimal-octets', [...octets].join(',')]);
  return found;
}

/** Every occurrence of any secret, in any of the encodings, in any line. */
export function findSecrets(lines: readonly (string | object)[], secrets: readonly (string | Uint8Array)[]): SecretFinding[] {
  const texts = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)));
  const findings: SecretFinding[] = [];
  secrets.forEach((secret, secretIndex) => {
    for (const [encoding, needle] of needles(secret)) {
      texts.forEach((text, lineIndex) => {
        if (text.includes(needle)) findings.push({ secretIndex, encoding, lineIndex });
      });
    }
  });
  return findings;
}

/** Throws, naming the secret by index (not by value) and the line, when any secret appears. */
export function assertNoSecrets(lines: readonly (string | object)[], secrets: readonly (string | Uint8Array)[]): void {
  const findings = findSecrets(lines, secrets);
  if (findings.length === 0) return;
  const where = findings.map((f) => `secret #${f.secretIndex} as ${f.encoding} in line ${f.lineIndex}`).join('; ');
  throw new Error(`secrets found in the log: ${where}`);
}
