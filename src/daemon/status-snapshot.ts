/**
 * The engine's status (IANA IDs, absolute deadlines in ms, machine state names) turned into the
 * stable status JSON (daemon-status.ts): strongSwan keywords, seconds from now,
 * strongSwan-like state names, byte counters and last use as the kernel port read them
 * (statusWithUsage). The kernel's times of last use are on the wall clock: `nowMs` must be too
 * (the daemon's clock is Date.now()).
 *
 * IKE SAs that are already gone for the user (lingering to answer retransmitted Deletes, or
 * closed) are left out.
 */
import type { ChildSaStatus, ChildSaStatusWithUsage, IkeSaStatusWithUsage } from '../engine/ike-engine.js';
import type { ChildSaStateName, ChildSaStatusJson, DaemonStatus, IkeSaStateName, IkeSaStatusJson } from '../control/daemon-status.js';
import { childAlgorithmNames, ikeAlgorithmNames } from './algorithm-names.js';

export interface StatusSources {
  readonly nowMs: number;
}

export function ikeStateName(machineState: string): IkeSaStateName | undefined {
  if (machineState === 'established' || machineState.startsWith('{"established"')) return 'ESTABLISHED';
  if (machineState === 'closing' || machineState.startsWith('{"closing"')) return 'DELETING';
  if (machineState === 'lingering' || machineState === 'closed' || machineState.startsWith('{"lingering"')) return undefined;
  return 'CONNECTING';
}

const CHILD_STATES: Readonly<Record<ChildSaStatus['state'], ChildSaStateName>> = {
  installing: 'INSTALLING',
  installed: 'INSTALLED',
  rekeying: 'REKEYING',
  rekeyed: 'REKEYED',
  deleting: 'DELETING',
};

function childStateName(state: string): ChildSaStateName {
  return CHILD_STATES[state as ChildSaStatus['state']] ?? 'INSTALLING';
}

const sinceSeconds = (nowMs: number, atMs: number | undefined): number | null => (atMs === undefined ? null : Math.max(0, Math.floor((nowMs - atMs) / 1000)));
const untilSeconds = (nowMs: number, atMs: number | undefined): number | null => (atMs === undefined ? null : Math.max(0, Math.ceil((atMs - nowMs) / 1000)));

/** `192.0.2.2:500` or `2001:db8::2:4500` (the engine's endpoint text) into its parts. */
export function parseEndpoint(text: string): { address: string; port: number } {
  const split = text.lastIndexOf(':');
  return { address: text.slice(0, split), port: Number(text.slice(split + 1)) };
}

function childJson(child: ChildSaStatusWithUsage, sources: StatusSources): ChildSaStatusJson {
  return {
    state: childStateName(child.state),
    mode: child.mode,
    spiIn: child.inboundSpi,
    spiOut: child.outboundSpi,
    algorithms: childAlgorithmNames(child.transforms),
    localTs: [...child.localTs],
    remoteTs: [...child.remoteTs],
    // 0 when the kernel knows neither ESP SA (not installed yet, or already gone).
    bytesIn: child.usage?.bytesIn ?? 0,
    bytesOut: child.usage?.bytesOut ?? 0,
    lastInSeconds: sinceSeconds(sources.nowMs, child.usage?.lastInAtMs),
    lastOutSeconds: sinceSeconds(sources.nowMs, child.usage?.lastOutAtMs),
    establishedSeconds: sinceSeconds(sources.nowMs, child.establishedAtMs),
    rekeySeconds: untilSeconds(sources.nowMs, child.rekeyAtMs),
    expiresSeconds: untilSeconds(sources.nowMs, child.expireAtMs),
  };
}

/** One IKE SA of the status JSON; undefined when it is gone for the user (lingering, closed). */
export function ikeSaStatusJson(sa: IkeSaStatusWithUsage, sources: StatusSources): IkeSaStatusJson | undefined {
  const state = ikeStateName(sa.state);
  return state === undefined ? undefined : ikeJson(sa, state, sources);
}

function ikeJson(sa: IkeSaStatusWithUsage, state: IkeSaStateName, sources: StatusSources): IkeSaStatusJson {
  const remote = parseEndpoint(sa.remote);
  return {
    connection: sa.connection ?? null,
    peer: { address: remote.address, port: remote.port, id: sa.peerId ?? null },
    state,
    role: sa.role,
    spiI: sa.spiI,
    spiR: sa.spiR,
    algorithms: sa.transforms === undefined ? null : ikeAlgorithmNames(sa.transforms),
    establishedSeconds: sinceSeconds(sources.nowMs, sa.establishedAtMs),
    rekeySeconds: untilSeconds(sources.nowMs, sa.rekeyAtMs),
    expiresSeconds: untilSeconds(sources.nowMs, sa.expireAtMs),
    natDetected: sa.nat.localBehindNat || sa.nat.remoteBehindNat,
    childSas: sa.children.map((c) => childJson(c, sources)),
  };
}

export function statusSnapshot(engineStatus: readonly IkeSaStatusWithUsage[], sources: StatusSources): DaemonStatus {
  const ikeSas: IkeSaStatusJson[] = [];
  for (const sa of engineStatus) {
    const state = ikeStateName(sa.state);
    if (state !== undefined) ikeSas.push(ikeJson(sa, state, sources));
  }
  return { ikeSas };
}
