/**
 * A record file (`ikekm daemon --record`) as the inspector's feed: every step at once, then the
 * end. Nothing is replayed: the record holds each datagram in and out and each actor's state
 * value as the daemon saw them, which is what the page shows.
 */
import { readRecordFile } from '../replay/record-file.js';
import { InspectorFeed } from './inspector-feed.js';
import { recordSteps } from './inspector-steps.js';

export async function recordFeed(file: string): Promise<InspectorFeed> {
  const entries = await readRecordFile(file);
  if (entries[0]?.t !== 'header') throw new RangeError(`${file} is not an ikekm record: it does not start with an ikekm-record header`);
  const steps = recordSteps(entries);
  // A record is what the user chose to look at: all of it is kept.
  const feed = new InspectorFeed({ kind: 'record', name: file }, Number.POSITIVE_INFINITY);
  for (const step of steps) feed.add(step);
  feed.end(`the whole record: ${steps.length} steps`);
  return feed;
}
