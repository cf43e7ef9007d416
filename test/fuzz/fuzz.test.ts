/**
 * The fuzz harness in `npm test`: the recorded seeds still replay to the end of their exchanges
 * (else the raw mode would stop at the surface), episodes are reproducible from the seed, the
 * oracle sees an actor that throws, and a short fixed-seed run of both modes finds no crash.
 * Long runs: `npm run fuzz -- --seed N --inputs M` (README, Fuzzing).
 */
import { createActor, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { CrashOracle } from './crash-oracle.js';
import { runFuzz } from './fuzz-run.js';
import { createPrng } from './prng.js';
import { generateRawEpisode, rawDonors } from './raw-mode.js';
import { replay } from './replay.js';
import { loadSeeds } from './seed-fixtures.js';
import { generateSkEpisode, innerDonors, innerSeeds } from './sk-mode.js';

const seeds = loadSeeds();

describe('fuzz harness', () => {
  it.each(seeds.map((s) => [s.scenario.name, s] as const))('seed %s replays to the end of its exchange', async (_name, seed) => {
    const oracle = new CrashOracle();
    const { target } = await replay(seed, oracle);
    const kinds = target.events.map((e) => e.kind);
    // Established, a Child SA rekeyed and one created, the IKE SA rekeyed, and deleted by the peer at the end.
    expect(kinds.filter((k) => k === 'child-sa-up').length).toBeGreaterThanOrEqual(3);
    expect(kinds).toContain('ike-sa-rekeyed');
    expect(kinds.filter((k) => k === 'ike-sa-down').length).toBe(2);
    expect(target.engine.size()).toBe(2); // the old IKE SA lingers for retransmitted Deletes
    expect(oracle.crashes).toEqual([]);
  });

  it('the seeds hold every exchange type, fragments and decrypted inner chains of each', () => {
    const exchanges = new Set(seeds.flatMap((s) => s.datagrams.map((d) => d[18])));
    expect([...exchanges].sort()).toEqual([34, 35, 36, 37]);
    expect(seeds.some((s) => s.datagrams.some((d) => d[16] === 53))).toBe(true); // SKF (RFC 7383)
    const inner = new Set(innerSeeds(seeds).map((i) => `${i.exchangeType}${i.response ? 'r' : 'q'}`));
    for (const x of ['35q', '35r', '36q', '36r', '37q', '37r']) expect(inner).toContain(x);
  });

  it('episodes are the same for the same seed', () => {
    const raw = rawDonors(seeds);
    const inner = innerSeeds(seeds);
    const draw = () => {
      const rng = createPrng(99);
      return [generateRawEpisode(rng, seeds, raw, 50), generateSkEpisode(rng, inner, innerDonors(inner), 20)];
    };
    expect(JSON.stringify(draw())).toEqual(JSON.stringify(draw()));
  });

  it('SK inputs fit one datagram however long the chain grows', () => {
    // A 1.5-million-input run stopped on an 80 160-octet SK payload the encoder refused: repeated
    // splices had grown the plaintext. Here the seeds themselves are that long.
    const vendorId = (next: number) => Buffer.concat([Buffer.from([next, 0, 0x88, 0xb8]), Buffer.alloc(35_000 - 4, 0x5a)]);
    const long = Buffer.concat([vendorId(43), vendorId(0)]);
    const inner = [false, true].map((response) => ({ exchangeType: 37, response, firstType: 43, bytes: long }));
    const rng = createPrng(7);
    const lengths = generateSkEpisode(rng, inner, innerDonors(inner), 200).inputs.map((i) => i.innerHex.length / 2);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(65_000);
  });

  it('the oracle reports an actor that throws, and a child actor that throws', () => {
    const oracle = new CrashOracle();
    const boom = setup({}).createMachine({ on: { BOOM: { actions: () => { throw new Error('boom'); } } } });
    const parent = createActor(setup({}).createMachine({}), { inspect: oracle.inspect }).start();
    const child = createActor(boom, { parent, id: 'child' }).start();
    child.send({ type: 'BOOM' });
    // The child first; XState then errs the parent too, which has no handler for the child's error.
    expect(oracle.crashes[0]?.message).toBe('actor child in error status: boom');
    expect(oracle.crashes.every((c) => c.kind === 'actor-error')).toBe(true);
    const before = oracle.crashes.length;
    const root = createActor(boom, { inspect: oracle.inspect }).start();
    root.send({ type: 'BOOM' });
    expect(oracle.crashes.length).toBe(before + 1);
  });

  it('the oracle reports an IKE SA the engine tore down because its actor threw', () => {
    const oracle = new CrashOracle();
    const down = { connection: 'lab', id: 'ike-1', spiI: '01', spiR: '02', reason: 'TypeError: boom', atMs: 0 } as const;
    oracle.onEvent({ kind: 'ike-sa-down', ...down, cause: 'peer-deleted' });
    expect(oracle.crashed).toBe(false);
    oracle.onEvent({ kind: 'ike-sa-down', ...down, cause: 'internal-error' });
    expect(oracle.crashes.map((c) => c.message)).toEqual(['IKE SA ike-1 torn down after its actor threw: TypeError: boom']);
  });

  it('a short fixed-seed run of both modes finds no crash', async () => {
    const summary = await runFuzz({ seed: 20261205, inputs: 3000, mode: 'both', crashDir: 'fuzz-crashes', rawBatch: 700, skBatch: 48 });
    expect(summary.episodes.raw).toBeGreaterThan(0);
    expect(summary.episodes.sk).toBeGreaterThan(0);
    expect(summary.crashes.map((c) => `${c.file}: ${c.crashes.map((r) => r.message).join('; ')}`)).toEqual([]);
  }, 120_000);
});
