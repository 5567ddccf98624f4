import { describe, expect, it } from 'vitest';
import { Projection } from './projection.js';
import { chooseSnapshot, connectorRecordKeys, digestOf, parseRecordJson, versionOf, type ConnectorRecordJson, type LoadedRecord, type ProjectionRecordJson } from './snapshot.js';
import type { ConnectorState } from './state.js';

const state = (id: string, status: ConnectorState['status']): ConnectorState => ({ connectorId: id, status }) as ConnectorState;
const conn = (id: string, seq: number, status: ConnectorState['status'], instance = ''): LoadedRecord => ({ kind: 'CONNECTOR', key: id, json: { v: 2, instance, seq, state: state(id, status) } });
function proj(seq: number, written: Array<[string, number]>, instance = ''): LoadedRecord {
  const { connectors: _c, ...rest } = new Projection().toSnapshot();
  return { kind: 'PROJECTION', key: '__projection__', json: { v: 2, instance, seq, digest: digestOf(written), connectors: written.length, projection: { ...rest, offsets: { 't:0': String(seq) } } } };
}

describe('snapshot versions', () => {
  it('a version is the sum of the offsets a snapshot covers, so a later fold is always newer', () => {
    expect(versionOf({})).toBe(0);
    expect(versionOf({ 'a:0': '10', 'a:1': '5', 'b:0': '0' })).toBe(15);
  });

  it('the digest does not depend on order and changes with any version', () => {
    expect(digestOf([['a', 1], ['b', 2]])).toBe(digestOf([['b', 2], ['a', 1]]));
    expect(digestOf([['a', 1], ['b', 2]])).not.toBe(digestOf([['a', 1], ['b', 3]]));
  });

  it('a late retried send does not win: the newest version per key is taken, not the last record written', () => {
    // Snapshot 10 wrote c1 VALIDATING; snapshot 20 wrote c1 READY; then snapshot 10's retry landed again.
    const records = [conn('c1', 10, 'VALIDATING'), proj(10, [['c1', 10]]), conn('c1', 20, 'READY'), proj(20, [['c1', 20]]), conn('c1', 10, 'VALIDATING'), proj(10, [['c1', 10]])];
    const choice = chooseSnapshot(records, '');
    expect(choice.kind).toBe('OK');
    if (choice.kind !== 'OK') return;
    expect(choice.seq).toBe(20);
    expect(choice.snapshot.offsets).toEqual({ 't:0': '20' });
    expect(choice.snapshot.connectors.map((c) => c.status)).toEqual(['READY']);
    expect(choice.written).toEqual(new Map([['c1', 20]]));
  });

  it('connectors untouched since an older snapshot keep that version and still verify', () => {
    const choice = chooseSnapshot([conn('c1', 5, 'READY'), conn('c2', 5, 'FAILED'), proj(5, [['c1', 5], ['c2', 5]]), conn('c2', 9, 'READY'), proj(9, [['c1', 5], ['c2', 9]])], '');
    expect(choice.kind).toBe('OK');
    if (choice.kind === 'OK') expect(choice.snapshot.connectors.map((c) => `${c.connectorId}:${c.status}`).sort()).toEqual(['c1:READY', 'c2:READY']);
  });

  it('a newer record lost to compaction behind a stale one does not verify: the state would go backwards', () => {
    // Compaction kept only the last record per key: c1's stale 10 instead of its 20.
    const choice = chooseSnapshot([conn('c1', 10, 'VALIDATING'), proj(20, [['c1', 20]])], '');
    expect(choice).toMatchObject({ kind: 'INCONSISTENT' });
  });

  it('connector records newer than every projection record (a crash between the two writes) do not verify', () => {
    expect(chooseSnapshot([conn('c1', 10, 'VALIDATING'), proj(10, [['c1', 10]]), conn('c1', 20, 'READY'), conn('c2', 20, 'READY')], '')).toMatchObject({ kind: 'INCONSISTENT' });
    expect(chooseSnapshot([conn('c1', 10, 'READY')], '')).toMatchObject({ kind: 'INCONSISTENT' });
  });

  it('a tombstone removes a connector; other instances\' records are ignored; nothing is EMPTY', () => {
    expect(chooseSnapshot([], '')).toEqual({ kind: 'EMPTY' });
    const choice = chooseSnapshot([conn('c1', 3, 'READY'), conn('c9', 4, 'READY'), { kind: 'TOMBSTONE', key: 'c9' }, proj(4, [['c1', 3]]), conn('c1', 50, 'FAILED', 'p2'), proj(50, [['c1', 50]], 'p2')], '');
    expect(choice.kind).toBe('OK');
    if (choice.kind === 'OK') {
      expect(choice.seq).toBe(4);
      expect(choice.snapshot.connectors.map((c) => c.status)).toEqual(['READY']);
    }
  });

  it('records of the first format (no version) load as version 0 and are beaten by any versioned record', () => {
    const legacy = parseRecordJson('CONNECTOR', JSON.stringify(state('c1', 'VALIDATING'))) as ConnectorRecordJson;
    expect(legacy).toMatchObject({ seq: 0, instance: '', state: { connectorId: 'c1' } });
    const legacyProj = parseRecordJson('PROJECTION', JSON.stringify({ version: 1, offsets: {} })) as ProjectionRecordJson;
    expect(legacyProj.seq).toBe(0);
    const choice = chooseSnapshot([conn('c1', 7, 'READY'), { kind: 'CONNECTOR', key: 'c1', json: legacy }, proj(7, [['c1', 7]])], '');
    expect(choice.kind === 'OK' && choice.snapshot.connectors[0]!.status).toBe('READY');
  });
});

describe('retired connectors on the state topic', () => {
  it('a retired connector tombstones its live key and keeps its state under a key of its own, which still verifies', () => {
    expect(connectorRecordKeys('', { connectorId: 'c1', status: 'READY' })).toEqual({ key: 'c1', tombstone: null });
    const keys = connectorRecordKeys('p1', { connectorId: 'c1', status: 'RETIRED' });
    expect(keys).toEqual({ key: 'p1|retired|c1', tombstone: 'p1|c1' });
    const retired: LoadedRecord = { kind: 'CONNECTOR', key: 'retired|c1', json: { v: 2, instance: '', seq: 9, state: state('c1', 'RETIRED') } };
    const choice = chooseSnapshot([conn('c1', 5, 'READY'), proj(5, [['c1', 5]]), { kind: 'TOMBSTONE', key: 'c1' }, retired, proj(9, [['c1', 9]])], '');
    expect(choice.kind).toBe('OK');
    if (choice.kind === 'OK') expect(choice.snapshot.connectors.map((c) => `${c.connectorId}:${c.status}`)).toEqual(['c1:RETIRED']);
  });
});
