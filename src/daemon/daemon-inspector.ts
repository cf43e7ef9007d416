/**
 * `ikekm daemon --inspect URL`: the engine's XState inspection events (the supervisor, each IKE
 * SA and Child SA actor: their registration, the events between them, their snapshots) sent
 * over a WebSocket to URL with `@statelyai/inspect`'s WebSocket inspector, so that Stately's
 * inspector (or any receiver) follows the daemon live.
 *
 * - `connection`: only the actors of that connection's IKE SAs (and their Child SAs) are sent;
 *   a daemon with thousands of SAs would drown a receiver.
 * - Secrets never leave: everything goes out as JSON, where the objects that hold keys (key
 *   sets, DH key pairs, the PSK) print as "[redacted]" (their toJSON); the snapshots are made
 *   JSON by the inspector itself, and every event is rewritten by `inspectionSafe` too, so that
 *   the messages inside events go as their header and payload types only, and a decrypted AUTH
 *   payload's data (a MAC keyed by the PSK: offline guessing material) as "[redacted]".
 */
import { createWebSocketInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import { jsonView } from '../replay/json-view.js';
import { PayloadType } from '../wire/index.js';

export interface DaemonInspector {
  readonly inspect: (event: InspectionEvent) => void;
  stop(): void;
}

/** Actor ids of one IKE SA and its Child SAs share its prefix (`ike-<SPI>`, `ike-<SPI>/child-…`). */
const ikeSaOf = (actorId: string): string => actorId.split('/')[0] ?? actorId;

export function createDaemonInspector(options: {
  readonly url: string;
  readonly connection?: string;
  /** Events held while the WebSocket is not open, the oldest dropped beyond (default 200: a daemon's memory stays bounded). */
  readonly maxDeferredEvents?: number;
}): DaemonInspector {
  /** IKE SA actor id → its connection, learned from its snapshots. */
  const connectionOf = new Map<string, string | undefined>();
  const wanted = (actorId: string | undefined): boolean => {
    if (options.connection === undefined || actorId === undefined) return true;
    const sa = ikeSaOf(actorId);
    return connectionOf.get(sa) === options.connection;
  };
  const inspector = createWebSocketInspector({
    url: options.url,
    ...(options.maxDeferredEvents === undefined ? {} : { maxDeferredEvents: options.maxDeferredEvents }),
    filter: (event: StatelyInspectionEvent) => {
      const id = (event as { sessionId?: string }).sessionId;
      return options.connection === undefined || (id !== undefined && wanted(actorIdOfSession.get(id)));
    },
    serialize: (event: StatelyInspectionEvent) => inspectionSafe(event) as StatelyInspectionEvent,
  });
  /** XState's session id → actor id, for the filter (Stately's events carry the session id). */
  const actorIdOfSession = new Map<string, string>();
  return {
    inspect(event: InspectionEvent): void {
      const ref = event.actorRef as { id?: string; sessionId?: string };
      if (ref.sessionId !== undefined && ref.id !== undefined) actorIdOfSession.set(ref.sessionId, ref.id);
      if (event.type === '@xstate.snapshot' && ref.id?.startsWith('ike-') === true && !ref.id.includes('/')) {
        const connection = (event.snapshot as { context?: { connection?: string } }).context?.connection;
        if (connection !== undefined) connectionOf.set(ref.id, connection);
      }
      inspector.inspect.next?.(event);
    },
    stop: () => inspector.stop(),
  };
}

/**
 * `value` as it may leave the daemon: its JSON view (src/replay/json-view.ts: toJSON honoured, so
 * redacted secrets stay "[redacted]", Buffers as hex), with any IKE message (an object with
 * `header` and `payloads`) as its header and the list of its payload types.
 */
export function inspectionSafe(value: unknown): unknown {
  return jsonView(value, {
    maxDepth: 24,
    rewrite: (record, view) => {
      // A decrypted AUTH payload (RFC 7296 3.8): its data is a MAC keyed by the PSK.
      if (record['type'] === PayloadType.AUTH && 'data' in record) return { ...record, data: '[redacted]' };
      if (typeof record['header'] === 'object' && Array.isArray(record['payloads'])) {
        return { header: view(record['header']), payloadTypes: (record['payloads'] as { type?: unknown }[]).map((p) => p.type) };
      }
      return undefined;
    },
  });
}
