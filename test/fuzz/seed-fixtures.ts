/** The recorded seeds (record-seeds.ts), loaded with their scenarios. */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEED_SCENARIOS, type SeedScenario } from './seed-scenarios.js';
import type { SeedFixture } from './seed-recording.js';

export const SEEDS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'seeds');

export interface Seed {
  readonly scenario: SeedScenario;
  readonly fixture: SeedFixture;
  readonly datagrams: readonly Buffer[];
}

export function loadSeeds(): Seed[] {
  return readdirSync(SEEDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const fixture = JSON.parse(readFileSync(join(SEEDS_DIR, f), 'utf8')) as SeedFixture;
      const scenario = SEED_SCENARIOS.find((s) => s.name === fixture.scenario);
      if (scenario === undefined) throw new Error(`${f}: no scenario named ${fixture.scenario}`);
      return { scenario, fixture, datagrams: fixture.datagrams.map((d) => Buffer.from(d.hex, 'hex')) };
    });
}
