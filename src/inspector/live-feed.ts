/**
 * A live daemon as the inspector's feed: the daemon's journal stream over its control socket
 * (`watch` with `journal`: the record entries of what its machines take and send, without the
 * random draws), turned into steps as it comes.
 */
import { decodeJournalEntry } from '../control/control-client.js';
import { InspectorFeed } from './inspector-feed.js';
import { InspectorStepBuilder } from './inspector-steps.js';

/**
 * How the journal stream is read: the control client's (controlWatchJournal), or a test's. Each
 * entry comes as the JSON of a record line (Buffers as `{"hex":…}`).
 */
export type JournalWatch = (socket: string, onEntry: (entry: unknown) => void) => Promise<{ readonly ended: Promise<{ readonly reason?: string }>; close(): void }>;

/**
 * A step is complete when the next input begins; a quiet daemon would hold its last step back,
 * so it goes out once nothing has come for this long.
 */
const QUIET_MS = 50;

export async function followDaemon(socket: string, watchJournal: JournalWatch): Promise<{ readonly feed: InspectorFeed; stop(): void }> {
  const feed = new InspectorFeed({ kind: 'live', name: socket });
  const builder = new InspectorStepBuilder((step) => feed.add(step));
  let quiet: NodeJS.Timeout | undefined;
  const watch = await watchJournal(socket, (entry) => {
    builder.push(decodeJournalEntry(entry));
    clearTimeout(quiet);
    quiet = setTimeout(() => builder.flush(), QUIET_MS);
  });
  void watch.ended.then((end) => {
    clearTimeout(quiet);
    builder.flush();
    feed.end(end.reason === undefined ? 'the daemon ended the stream (it stopped)' : `the daemon ended the stream: ${end.reason}`);
  });
  return {
    feed,
    stop: () => {
      clearTimeout(quiet);
      watch.close();
    },
  };
}
