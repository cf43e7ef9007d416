/**
 * The lab the `ikekm-*.test.ts` files share: ikekm on side a, charon on side b, set up once per
 * `describeInterop` body. `useIkekmCharonLab(options)` registers the hooks (call it inside the
 * describe body):
 * - beforeAll (60 s): createLab; optionally a capture of side a's veth (`LABDIR/a.pcapng`, UDP
 *   only); charon and ikekm started together; then `afterStart` (e.g. a first SA);
 * - afterEach: keep the lab's artifacts when the test failed;
 * - afterAll (60 s): `beforeStop`, stop the capture, stop both peers, destroy the lab.
 * It returns accessors, and the blocks the tests repeat: configuring both sides for a case,
 * ikekm initiating and waiting for the SA on both sides, waiting until nothing is left, and
 * checking every key of a fresh SA.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { SaEvent } from '../../../src/engine/engine-ports.js';
import { startCapture, type Capture } from '../harness/capture.js';
import type { DerivedKeys } from '../harness/charon-log.js';
import { startCharon, type Charon } from '../harness/charon.js';
import { labIkekmConnection, startIkekm, type Ikekm, type LabIkekmOptions } from '../harness/ikekm.js';
import { createLab, type Lab } from '../harness/netns.js';
import { labPskConf, type LabPskOptions } from '../harness/swanctl-conf.js';
import type { IkeSaInfo } from '../harness/vici.js';
import type { PeerConnectionJson } from './ikekm-peer-config.js';
import {
  IDS,
  charonChildKeys,
  charonInstalled,
  charonIkeKeys,
  expectChildKeysMatch,
  expectIkeKeysMatch,
  expectKernelEmpty,
  ikekmHasNoLiveSa,
  ikekmKeyTables,
  type EspCase,
  type IkeCase,
} from './ikekm-expect.js';

export interface Peers {
  readonly lab: Lab;
  readonly charon: Charon;
  readonly ikekm: Ikekm;
}

export interface IkekmCharonLabOptions {
  /** createLab's `ipv6` (default false). */
  readonly ipv6?: boolean;
  /** Capture side a's veth (UDP) into `LABDIR/a.pcapng` from the start (default false). */
  readonly capture?: boolean;
  /** charon's swanctl.conf (default `labPskConf(lab, 'b', { ids: IDS })`). */
  readonly charon?: (lab: Lab) => string;
  /** charon's `charonSettings`. */
  readonly charonSettings?: string;
  /** ikekm's connections (default `[labIkekmConnection(lab, 'a', { ids: IDS })]`). */
  readonly ikekm?: (lab: Lab) => PeerConnectionJson[];
  /** Runs at the end of beforeAll, once both peers are up. */
  readonly afterStart?: (peers: Peers) => Promise<void>;
  /** Runs first in afterAll (the lab is there, the peers may not be). */
  readonly beforeStop?: (lab: Lab | undefined) => Promise<unknown>;
}

export interface IkekmCharonLab {
  /** The lab, charon and ikekm; throws if they did not start. */
  peers(): Peers;
  /** The capture, if `capture` was set and it started. */
  capture(): Capture | undefined;
  /** charon's swanctl.conf `labPskConf(lab, 'b', { ids: IDS, ...theirs })` loaded, and ikekm reloaded with `labIkekmConnection(lab, 'a', { ids: IDS, ...ours })`. */
  configure(theirs: LabPskOptions, ours: LabIkekmOptions): Promise<void>;
  /** `configure` for one IKE proposal and one ESP proposal on both sides. */
  configureCase(ike: IkeCase, esp: EspCase, ours?: LabIkekmOptions): Promise<void>;
}

export function useIkekmCharonLab(options: IkekmCharonLabOptions = {}): IkekmCharonLab {
  let lab: Lab | undefined;
  let capture: Capture | undefined;
  let charon: Charon | undefined;
  let ikekm: Ikekm | undefined;

  beforeAll(async () => {
    lab = await createLab({ ipv6: options.ipv6 ?? false });
    const started = lab;
    if (options.capture === true) capture = await startCapture(started.a.ns, started.a.iface, join(started.dir, 'a.pcapng'), { filter: 'udp' });
    [charon, ikekm] = await Promise.all([
      startCharon(started.b.ns, {
        dir: join(started.dir, 'b'),
        conf: options.charon?.(started) ?? labPskConf(started, 'b', { ids: IDS }),
        ...(options.charonSettings === undefined ? {} : { charonSettings: options.charonSettings }),
      }),
      startIkekm(started, 'a', { connections: options.ikekm?.(started) ?? [labIkekmConnection(started, 'a', { ids: IDS })] }),
    ]);
    await options.afterStart?.({ lab: started, charon, ikekm });
  }, 60_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') lab?.keepArtifacts();
  });

  afterAll(async () => {
    await options.beforeStop?.(lab);
    await capture?.stop();
    await Promise.all([ikekm?.stop(), charon?.stop()]);
    await lab?.destroy();
  }, 60_000);

  const peers = (): Peers => {
    if (!charon || !ikekm) throw new Error('charon or ikekm did not start');
    return { lab: lab as Lab, charon, ikekm };
  };

  const configure = async (theirs: LabPskOptions, ours: LabIkekmOptions): Promise<void> => {
    const { lab, charon, ikekm } = peers();
    charon.writeConf(labPskConf(lab, 'b', { ids: IDS, ...theirs }));
    await charon.loadAll();
    await ikekm.reload([labIkekmConnection(lab, 'a', { ids: IDS, ...ours })]);
  };

  return {
    peers,
    capture: () => capture,
    configure,
    configureCase: (ike, esp, ours = {}) => configure({ proposals: ike.proposal, espProposals: esp.proposal }, { ike: [ike.proposal], esp: [esp.proposal], ...ours }),
  };
}

export type ChildUp = Extract<SaEvent, { kind: 'child-sa-up' }>;

/** charon's list-sas predicates the tests wait on once ikekm's Child SA is up. */
export const CHARON_READY = {
  /** The first Child SA of the first IKE SA is INSTALLED. */
  firstChildInstalled: (sas: readonly IkeSaInfo[]): boolean => sas[0]?.childSas[0]?.state === 'INSTALLED',
  /** One IKE SA, its first Child SA INSTALLED. */
  oneSaFirstChildInstalled: (sas: readonly IkeSaInfo[]): boolean => sas.length === 1 && sas[0]?.childSas[0]?.state === 'INSTALLED',
  /** One IKE SA with some Child SA INSTALLED. */
  oneSaSomeChildInstalled: (sas: readonly IkeSaInfo[]): boolean => sas.length === 1 && sas[0]?.childSas.some((c) => c.state === 'INSTALLED') === true,
  /** Exactly one INSTALLED Child SA on the first IKE SA. */
  oneInstalled: (sas: readonly IkeSaInfo[]): boolean => charonInstalled(sas[0]).length === 1,
  /** One IKE SA with exactly one INSTALLED Child SA. */
  oneSaOneInstalled: (sas: readonly IkeSaInfo[]): boolean => sas.length === 1 && charonInstalled(sas[0]).length === 1,
} as const;

export interface InitiateOptions {
  /** ikekm's events from this index on (default: none given, i.e. from the first). */
  readonly since?: number;
  /** Only a child-sa-up of the IKE SA just initiated (default false: any child-sa-up). */
  readonly thisSa?: boolean;
  /** Also resolve on ike-sa-failed, and expect the outcome to be child-sa-up (default false). */
  readonly orFailed?: boolean;
  /** ikekm's wait label (default 'the Child SA'). */
  readonly what?: string;
  /** charon's wait label (default 'responder Child SA INSTALLED'). */
  readonly charonWhat?: string;
  /** What charon's list-sas must show (one of CHARON_READY). */
  readonly charonReady: (sas: readonly IkeSaInfo[]) => boolean;
  /** Between ikekm's event and charon's wait (checks on ikekm's events). */
  readonly then?: (up: SaEvent, id: string) => void;
}

/**
 * ikekm initiates connection 'lab', waits (10 s) for the Child SA, then for charon's side of it.
 * Returns the IKE SA id, ikekm's event and charon's list-sas.
 */
export async function ikekmInitiates(peers: Peers, options: InitiateOptions): Promise<{ id: string; up: SaEvent; sas: IkeSaInfo[] }> {
  const { charon, ikekm } = peers;
  const id = await ikekm.initiate('lab');
  const up = await ikekm.waitForEvent(
    (e) => (e.kind === 'child-sa-up' && (options.thisSa !== true || e.ikeSa === id)) || (options.orFailed === true && e.kind === 'ike-sa-failed'),
    10_000,
    { since: options.since, what: options.what ?? 'the Child SA' },
  );
  if (options.orFailed === true) expect(up.kind).toBe('child-sa-up');
  options.then?.(up, id);
  const sas = await charon.waitForSas(options.charonWhat ?? 'responder Child SA INSTALLED', options.charonReady);
  return { id, up, sas };
}

/**
 * Nothing left on either side: charon lists no SA, ikekm has no SA (`live`: no live SA, a
 * lingering one allowed), ikekm's kernel is empty.
 */
export async function nothingLeft(peers: Peers, options: { readonly live?: boolean; readonly charonWhat?: string } = {}): Promise<void> {
  const { charon, ikekm } = peers;
  await charon.waitForSas(options.charonWhat ?? 'charon: no SA', (sas) => sas.length === 0);
  if (options.live === true) await ikekm.waitForStatus('ikekm: no live SA', ikekmHasNoLiveSa);
  else await ikekm.waitForStatus('ikekm: no SA', (sas) => sas.length === 0);
  await expectKernelEmpty(ikekm);
}

/**
 * The IKE SA charon lists as `theirs` and its first Child SA: ikekm's key tables equal charon's
 * logged keys. Returns charon's keys.
 */
export async function expectFreshKeysMatch(
  peers: Peers,
  theirs: IkeSaInfo | undefined,
  expected: { readonly ike: IkeCase; readonly esp: EspCase; readonly initiator: 'ikekm' | 'charon'; readonly ipv6?: boolean },
): Promise<DerivedKeys> {
  const { lab, charon, ikekm } = peers;
  await ikekm.waitForIkeKeylog(theirs?.spiI ?? '', theirs?.spiR ?? '');
  const tables = await ikekmKeyTables(ikekm);
  const keys = charon.derivedKeys();
  expectIkeKeysMatch(tables.ike, charonIkeKeys(keys, theirs?.spiI ?? '', theirs?.spiR ?? ''), expected.ike);
  const child = { esp: expected.esp, initiator: expected.initiator, ...(expected.ipv6 === undefined ? {} : { ipv6: expected.ipv6 }) };
  expectChildKeysMatch(lab, tables.esp, charonChildKeys(keys, theirs?.childSas[0]?.spiIn ?? ''), child);
  return keys;
}
