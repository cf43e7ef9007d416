/**
 * The layer rules (.dependency-cruiser.cjs, described in docs/architecture.md) hold for the whole
 * product: no import cycle, no upward import. A small tree of deliberate violations shows that
 * the rules can fail: a machine importing the engine, a machine importing its chart, and a cycle.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

/** The violations dependency-cruiser reports for `paths` under `cwd` (it fails loudly if it cannot run). */
function violations(cwd: string, paths: string[]): string[] {
  const r = spawnSync(DEPCRUISE, ['--config', CONFIG, '--output-type', 'json', ...paths], { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || r.stdout === '') throw new Error(`depcruise failed (${r.status}): ${r.stderr}`);
  const report = JSON.parse(r.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  if (report.summary.totalCruised === 0) throw new Error('depcruise read no module');
  return report.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('layers', () => {
  it('src/, machines/ and bin/ keep every layer rule', () => {
    expect(violations(ROOT, ['src', 'machines', 'bin'])).toEqual([]);
  }, 60_000);

  it('the rules reject a machine importing the engine, a machine importing its chart, and an import cycle', () => {
    expect(violations(join(ROOT, 'test', 'architecture', 'violations'), ['src', 'machines'])).toEqual([
      'charts-are-for-readers: machines/draws-chart.ts → src/viz/chart-thing.ts',
      'machines-act-through-effects: machines/uses-engine.ts → src/engine/engine-thing.ts',
      'no-cycles: src/wire/cycle-a.ts → src/wire/cycle-b.ts',
    ]);
  }, 60_000);
});
