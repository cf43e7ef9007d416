/**
 * Regenerates the fuzzer's seed fixtures (test/fuzz/seeds/*.json) from the lab scenarios:
 *
 *     npx tsx test/fuzz/record-seeds.ts
 *
 * Run it after a change to the protocol's messages; the replay test (fuzz.test.ts) fails when a
 * recorded seed no longer replays to the end of its exchange.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEED_SCENARIOS } from './seed-scenarios.js';
import { recordScenario } from './seed-recording.js';
import { SEEDS_DIR } from './seed-fixtures.js';

for (const scenario of SEED_SCENARIOS) {
  const fixture = await recordScenario(scenario);
  const path = join(SEEDS_DIR, `${scenario.name}.json`);
  writeFileSync(path, `${JSON.stringify(fixture, null, 1)}\n`);
  console.log(`${path}: ${fixture.datagrams.length} datagrams to ${fixture.target}, ${fixture.inner.length} inner chains`);
}
