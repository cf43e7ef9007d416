/**
 * A small harness around tshark (Wireshark's command-line dissector), used as an outside
 * judge of what ikekm puts on the wire. Every run gets a fresh, empty configuration
 * directory (WIRESHARK_CONFIG_DIR) so the user's own preferences and key tables never leak
 * in, and key tables (UAT files) are written into it.
 *
 * Availability policy: when tshark is missing, tests skip LOUDLY (console.warn with the
 * reason); under CI (process.env.CI === 'true') a missing tshark fails instead, so a CI
 * image that lost tshark cannot turn the suite silently green.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

export const TSHARK = process.env.TSHARK ?? 'tshark';

export type TsharkAvailability = { readonly available: true; readonly version: string } | { readonly available: false; readonly reason: string };

const availabilityCache = new Map<string, TsharkAvailability>();

/** Runs `COMMAND --version` once per process and command. */
export function tsharkAvailable(command: string = TSHARK): TsharkAvailability {
  const cached = availabilityCache.get(command);
  if (cached) return cached;
  const result = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  let availability: TsharkAvailability;
  if (result.error) {
    availability = { available: false, reason: `cannot run ${command}: ${result.error.message}` };
  } else if (result.status !== 0) {
    availability = { available: false, reason: `${command} --version exited with ${result.status}: ${result.stderr.trim()}` };
  } else {
    availability = { available: true, version: (result.stdout.split('\n')[0] ?? '').trim() };
  }
  availabilityCache.set(command, availability);
  return availability;
}

/** What a tshark-dependent suite does: run, skip with a warning, or fail (missing under CI). */
export function tsharkGate(availability: TsharkAvailability, env: NodeJS.ProcessEnv = process.env): 'run' | 'skip' | 'fail' {
  if (availability.available) return 'run';
  return env.CI === 'true' ? 'fail' : 'skip';
}

/**
 * `describe` for tests that need tshark. Without tshark: warns and skips, or, under CI, registers
 * one failing test that says why.
 */
export function describeWithTshark(name: string, body: () => void): void {
  const availability = tsharkAvailable();
  const gate = tsharkGate(availability);
  if (gate === 'run') {
    describe(name, body);
    return;
  }
  const reason = availability.available ? '' : availability.reason;
  if (gate === 'fail') {
    describe(name, () => {
      it('needs tshark (required under CI=true)', () => {
        throw new Error(`tshark is required under CI but unavailable: ${reason}`);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPING "${name}": tshark unavailable (${reason}). Install it: apt-get install tshark ***\n`);
  describe.skip(name, body);
}

export interface TsharkOptions {
  /** Lines of the `ikev2_decryption_table` UAT (see src/kernel/keylog.ts). */
  readonly ikev2Table?: readonly string[];
  /** Lines of the `esp_sa` UAT. Also switches on ESP decryption and ICV checking. */
  readonly espSa?: readonly string[];
  /** Lines of the `ikev1_decryption_table` UAT. */
  readonly ikev1Table?: readonly string[];
  /** Fields to extract (`-T json -e …`). Without fields, the full `-T json` tree is parsed. */
  readonly fields?: readonly string[];
  /** Preferences, each passed as `-o name:value`. */
  readonly prefs?: Readonly<Record<string, string>>;
  /** Without `fields`: only these protocols' trees are output in full (`-J`), e.g. ['isakmp']. */
  readonly protocols?: readonly string[];
  /** Display filter (`-Y`). */
  readonly filter?: string;
  readonly extraArgs?: readonly string[];
  readonly timeoutMs?: number;
  /**
   * tshark reports a key table it refuses ("Error loading table …": unknown algorithm name,
   * key length that does not fit) on stderr and carries on without it. By default that throws,
   * so a typo in a table cannot pass for "decryption failed".
   */
  readonly allowTableErrors?: boolean;
}

/** One packet's extracted fields: every occurrence of a field, in dissection order. */
export type TsharkFields = Readonly<Record<string, readonly string[]>>;

export interface TsharkRun {
  /** With `fields`: one entry per packet, fields as arrays of strings (missing field → absent key). */
  readonly packets: readonly TsharkFields[];
  /** The raw `-T json` array. */
  readonly json: unknown;
  /** Without `fields`: each packet's `_source.layers` tree (protocol name → subtree). */
  readonly layers: readonly Readonly<Record<string, unknown>>[];
  readonly args: readonly string[];
  readonly stderr: string;
}

/** Checksum validation preferences, off by default in Wireshark. */
export const CHECKSUM_PREFS: Readonly<Record<string, string>> = {
  'ip.check_checksum': 'TRUE',
  'udp.check_checksum': 'TRUE',
};

/**
 * Runs tshark on a capture file and parses its JSON output. Throws (with tshark's stderr) if
 * tshark exits non-zero.
 */
export async function runTshark(pcapPath: string, options: TsharkOptions = {}): Promise<TsharkRun> {
  const configDir = mkdtempSync(join(tmpdir(), 'ikekm-tshark-'));
  try {
    // UAT files are read from the personal configuration directory; one record per line.
    if (options.ikev2Table) writeFileSync(join(configDir, 'ikev2_decryption_table'), uatFile(options.ikev2Table));
    if (options.ikev1Table) writeFileSync(join(configDir, 'ikev1_decryption_table'), uatFile(options.ikev1Table));
    if (options.espSa) writeFileSync(join(configDir, 'esp_sa'), uatFile(options.espSa));

    const args: string[] = ['-n', '-r', pcapPath];
    const prefs: Record<string, string> = { ...(options.prefs ?? {}) };
    if (options.espSa) {
      prefs['esp.enable_encryption_decode'] ??= 'TRUE';
      prefs['esp.enable_authentication_check'] ??= 'TRUE';
    }
    for (const [name, value] of Object.entries(prefs)) args.push('-o', `${name}:${value}`);
    if (options.filter) args.push('-Y', options.filter);
    // --no-duplicate-keys: repeated fields and subtrees in one object (two Proposals, three
    // Transforms...) become arrays instead of JSON keys that JSON.parse would collapse.
    args.push('-T', 'json', '--no-duplicate-keys');
    for (const field of options.fields ?? []) args.push('-e', field);
    if (!options.fields && options.protocols) args.push('-J', options.protocols.join(' '));
    args.push(...(options.extraArgs ?? []));

    const { stdout, stderr } = await execTshark(args, configDir, options.timeoutMs ?? 60_000);
    const tableErrors = stderr.split('\n').filter((line) => line.includes('Error loading table'));
    if (tableErrors.length > 0 && !options.allowTableErrors) {
      throw new Error(`tshark refused a key table:\n${tableErrors.join('\n')}`);
    }
    const json: unknown = stdout.trim() === '' ? [] : JSON.parse(stdout);
    const packets = options.fields ? extractFields(json) : [];
    const layers = options.fields ? [] : extractLayers(json);
    return { packets, json, layers, args, stderr };
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
}

function uatFile(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}

function execTshark(args: readonly string[], configDir: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      TSHARK,
      [...args],
      {
        env: { ...process.env, WIRESHARK_CONFIG_DIR: configDir, LC_ALL: 'C' },
        maxBuffer: 256 * 1024 * 1024,
        timeout: timeoutMs,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${TSHARK} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

function extractLayers(json: unknown): Record<string, unknown>[] {
  if (!Array.isArray(json)) throw new Error('tshark -T json did not produce an array');
  return json.map((packet: unknown) => (packet as { _source?: { layers?: Record<string, unknown> } })._source?.layers ?? {});
}

function extractFields(json: unknown): TsharkFields[] {
  return extractLayers(json).map((layers) => {
    const out: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(layers)) {
      out[name] = Array.isArray(value) ? value.map(String) : [String(value)];
    }
    return out;
  });
}

/** Wireshark expert severities (epan/proto.h PI_* values, as `_ws.expert.severity` prints them). */
export const ExpertSeverity = {
  COMMENT: 0x00100000,
  CHAT: 0x00200000,
  NOTE: 0x00400000,
  WARN: 0x00600000,
  ERROR: 0x00800000,
} as const;
