/**
 * `ikekm selfcheck`: runs every known-answer vector (the same list the test suite asserts) and
 * the codec self-checks, and prints one row per check. Exit status 0 only if all pass, so the
 * command doubles as a quick "is this build sane on this machine" probe (OpenSSL build,
 * Node version) before a daemon is started.
 */
import { performance } from 'node:perf_hooks';
import { allKnownAnswers } from '../crypto/known-answers/index.js';
import { codecSelfChecks } from '../wire/self-check.js';
import { createCryptoRegistry } from '../crypto/registry.js';
import type { KnownAnswerCase } from '../crypto/known-answers/types.js';
import { renderTable } from '../control/text-table.js';

export interface SelfCheckReport {
  readonly text: string;
  readonly passed: number;
  readonly failed: number;
}

function runCase(c: KnownAnswerCase): { ok: boolean; detail: string; micros: number } {
  const start = performance.now();
  let outcome;
  try {
    outcome = c.run();
  } catch (e) {
    // A case must not throw; if one does, that is itself a failure worth showing, not a crash.
    outcome = { ok: false, detail: `threw: ${(e as Error).message}` };
  }
  return { ok: outcome.ok, detail: outcome.detail ?? '', micros: Math.round((performance.now() - start) * 1000) };
}

/** Citations can be long (repository paths); the table keeps them to one line unless asked. */
const SOURCE_WIDTH = 72;

function shorten(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

export function runSelfCheck(options: { fullSources?: boolean } = {}): SelfCheckReport {
  const cases: KnownAnswerCase[] = [...allKnownAnswers, ...codecSelfChecks];
  const rows: string[][] = [];
  let passed = 0;
  let failed = 0;
  for (const c of cases) {
    const r = runCase(c);
    if (r.ok) passed++;
    else failed++;
    rows.push([c.algorithm, options.fullSources === true ? c.source : shorten(c.source, SOURCE_WIDTH), r.ok ? 'pass' : `FAIL ${r.detail}`, `${r.micros} µs`]);
  }
  const supported = createCryptoRegistry().supported();
  const summary = [
    `ikekm selfcheck — node ${process.version}, OpenSSL ${process.versions.openssl}`,
    '',
    'Transforms available (IANA names):',
    `  encryption: ${supported.encryption.map((e) => e.transform.name).join(', ')}`,
    `  integrity:  ${supported.integrity.map((t) => t.name).join(', ')}`,
    `  prf:        ${supported.prf.map((t) => t.name).join(', ')}`,
    `  dh groups:  ${supported.dh.map((g) => `${g.name} (${g.id})`).join(', ')}`,
    '',
  ].join('\n');
  const table = renderTable(['algorithm', 'known answer from', 'result', 'time'], rows);
  const footer = `\n\n${passed} passed, ${failed} failed`;
  return { text: summary + table + footer, passed, failed };
}
