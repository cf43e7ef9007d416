/** The supervisor's index of established IKE SAs by connection and peer (INITIAL_CONTACT, RFC 7296 2.4). */
import { describe, expect, it } from 'vitest';
import { EstablishedPeers } from '../../machines/supervisor/established-peers.js';

describe('EstablishedPeers', () => {
  it('finds the IKE SAs of one connection and peer, and only those', () => {
    const index = new EstablishedPeers();
    index.add('ike-1', 'hq', 'peer.example');
    index.add('ike-2', 'hq', 'peer.example');
    index.add('ike-3', 'hq', 'other.example');
    index.add('ike-4', 'branch', 'peer.example');
    index.add('ike-5', 'hq', undefined);
    expect(index.of('hq', 'peer.example').sort()).toEqual(['ike-1', 'ike-2']);
    expect(index.of('hq', 'other.example')).toEqual(['ike-3']);
    expect(index.of('branch', 'peer.example')).toEqual(['ike-4']);
    expect(index.of('hq', undefined)).toEqual(['ike-5']);
    expect(index.of('hq', '')).toEqual([]); // no peer ID is not an empty one
    expect(index.of('none', 'peer.example')).toEqual([]);
  });

  it('forgets deleted IKE SAs, and all of them on clear', () => {
    const index = new EstablishedPeers();
    index.add('ike-1', 'hq', 'peer.example');
    index.add('ike-2', 'hq', 'peer.example');
    index.delete('ike-1', 'hq', 'peer.example');
    index.delete('ike-9', 'hq', 'peer.example');
    index.delete('ike-2', 'branch', 'peer.example'); // not under that key: stays
    expect(index.of('hq', 'peer.example')).toEqual(['ike-2']);
    index.clear();
    expect(index.of('hq', 'peer.example')).toEqual([]);
  });

  it('hands out a copy: deleting while going through it is safe', () => {
    const index = new EstablishedPeers();
    index.add('ike-1', 'hq', 'p');
    index.add('ike-2', 'hq', 'p');
    const ids = index.of('hq', 'p');
    for (const id of ids) index.delete(id, 'hq', 'p');
    expect(ids).toEqual(['ike-1', 'ike-2']);
    expect(index.of('hq', 'p')).toEqual([]);
  });
});
