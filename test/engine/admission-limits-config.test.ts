/** `daemon.limits` in the YAML file: the admission limits (EngineSettings) an operator may change. */
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/config-diagnostic.js';
import { parseConfig } from '../../src/config/load-config.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../src/config/model.js';

const parse = (daemon: string) => parseConfig(`daemon:\n${daemon}\nconnections: {}\n`, 'ikekm.yaml');

describe('daemon.limits', () => {
  it('sets the given limits over the defaults (durations as elsewhere in the file)', () => {
    const r = parse('  limits:\n    cookieThreshold: 100\n    cookieThresholdPerAddress: 0\n    ikeSaInitPerSecond: 50\n    loadLimitPercent: 0\n    halfOpenBudgetBytes: 1048576\n    authBackoffSeconds: 1m\n    authBackoffMaxSeconds: 2h');
    expect(r.ok && r.value.engine.settings).toEqual({
      ...DEFAULT_ENGINE_SETTINGS,
      cookieThreshold: 100,
      cookieThresholdPerAddress: 0,
      ikeSaInitPerSecond: 50,
      loadLimitPercent: 0,
      halfOpenBudgetBytes: 1_048_576,
      authBackoffSeconds: 60,
      authBackoffMaxSeconds: 7200,
    });
  });

  it('without it, the defaults', () => {
    const r = parse('  listen: [192.0.2.1]');
    expect(r.ok && r.value.engine.settings).toEqual(DEFAULT_ENGINE_SETTINGS);
  });

  it('refuses unknown keys and values that are not whole numbers, at their line', () => {
    const r = parse('  limits:\n    cookieTreshold: 5\n    maxHalfOpen: -1');
    const messages = r.ok ? [] : r.error.map(formatDiagnostic);
    expect(messages.some((m) => m.startsWith('ikekm.yaml:3:') && m.includes('cookieTreshold'))).toBe(true);
    expect(messages.some((m) => m.startsWith('ikekm.yaml:4:') && m.includes('maxHalfOpen'))).toBe(true);
  });
});
