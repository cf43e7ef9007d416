/**
 * What every `ikekm pki` subcommand shares: its two kinds of error (a usage error exits 2, a
 * failure 1, each one line), its option parsing, and how it reads the files it is given
 * (regular files only, with a cap on their size, as the daemon reads its own).
 */
import { parseArgs } from 'node:util';
import { readRegularFile } from '../config/regular-file.js';

/** A mistake in the command line: exit 2. */
export class UsageError extends Error {}
/** Something that did not work out (a file, a key, a check): exit 1. */
export class Failure extends Error {}

export interface PkiOutput {
  out(line: string): void;
  warn(line: string): void;
}

export const KEY_FILE_MAX_BYTES = 64 * 1024;
export const CERTIFICATE_FILE_MAX_BYTES = 1024 * 1024;
/** A CRL of a large CA runs to megabytes. */
export const CRL_FILE_MAX_BYTES = 16 * 1024 * 1024;
export const PKCS12_FILE_MAX_BYTES = 1024 * 1024;
const PASSPHRASE_FILE_MAX_BYTES = 4096;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

export function parse<T extends OptionSpec>(args: readonly string[], options: T, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals > 0 });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length !== positionals) throw new UsageError(positionals === 1 ? 'give one file' : `unexpected argument '${parsed.positionals[0]}'`);
  return parsed;
}

export function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${option} is required`);
  return value;
}

export async function readInput(path: string, maxBytes: number, what: string): Promise<{ bytes: Buffer; mode: number }> {
  const read = await readRegularFile(path, maxBytes);
  if (!read.ok) throw new Failure(`${what} ${path}: ${read.error}`);
  return read.value;
}

/** A passphrase file's content without its final newline (as editors and `echo` leave one). */
export async function readPassphrase(path: string, io: PkiOutput): Promise<Buffer> {
  const { bytes, mode } = await readInput(path, PASSPHRASE_FILE_MAX_BYTES, 'passphrase file');
  if ((mode & 0o044) !== 0) io.warn(`passphrase file ${path} can be read by group or others (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}); run: chmod 600 ${path}`);
  const end = bytes.length - (bytes.subarray(-2).equals(Buffer.from('\r\n')) ? 2 : bytes.subarray(-1).equals(Buffer.from('\n')) ? 1 : 0);
  const passphrase = Buffer.from(bytes.subarray(0, end));
  bytes.fill(0);
  if (passphrase.length === 0) throw new Failure(`passphrase file ${path} is empty`);
  return passphrase;
}
