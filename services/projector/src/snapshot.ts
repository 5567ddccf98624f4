import { createHash } from 'node:crypto';
import type { ProjectionSnapshot } from './projection.js';
import type { ConnectorState } from './state.js';

/**
 * Snapshot versioning on the compacted state topic.
 *
 * A record's version is the sum of the next offsets the projection had consumed when it was
 * taken: offsets only move forward, so a later fold has a higher version, whatever the order in
 * which the writes land. A send that was still being retried when a newer snapshot was written can
 * land after it; on load the highest version per key wins, not the last record written.
 *
 * The projection record (counters, operations, offsets) names, as a digest, the version of every
 * connector record it was taken with. Compaction may still drop a newer record in favour of a later
 * stale one; the digest then does not match and the loader rebuilds from the log instead of resuming
 * from a state that went backwards.
 */

export const PROJECTION_KEY = '__projection__';

/** The `stateJson` of a connector record. */
export interface ConnectorRecordJson {
  v: 2;
  instance: string;
  seq: number;
  state: ConnectorState;
}

/** The `stateJson` of the projection record. */
export interface ProjectionRecordJson {
  v: 2;
  instance: string;
  seq: number;
  /** Digest over every connector record this projection was taken with (id and version). */
  digest: string;
  connectors: number;
  projection: Omit<ProjectionSnapshot, 'connectors'>;
}

export type LoadedRecord = { kind: 'CONNECTOR'; key: string; json: ConnectorRecordJson } | { kind: 'PROJECTION'; key: string; json: ProjectionRecordJson } | { kind: 'TOMBSTONE'; key: string };

/** The snapshot version of a projection at these offsets. */
export function versionOf(offsets: Record<string, string>): number {
  let n = 0;
  for (const o of Object.values(offsets)) n += Number(o);
  return n;
}

/** Digest of connector id → record version, independent of map order. */
export function digestOf(written: Iterable<[string, number]>): string {
  const lines = [...written].map(([id, seq]) => `${id}\t${seq}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** The record key of a connector (or the projection) for one projector instance. */
export function snapshotKey(instance: string, id: string): string {
  return instance ? `${instance}|${id}` : id;
}

/**
 * Where a connector's record goes. A retired connector's live key gets a tombstone, so a reader of
 * the compacted topic sees it gone, and its state (history, receipts) moves to a key of its own,
 * so the projector still answers for it by id after a restart.
 */
export function connectorRecordKeys(instance: string, c: Pick<ConnectorState, 'connectorId' | 'status'>): { key: string; tombstone: string | null } {
  const live = snapshotKey(instance, c.connectorId);
  if (c.status !== 'RETIRED') return { key: live, tombstone: null };
  return { key: snapshotKey(instance, `retired|${c.connectorId}`), tombstone: live };
}

/**
 * Parses a record's `stateJson`. A record of the first format (the bare state, no version) counts
 * as version 0, so any versioned record beats it.
 */
export function parseRecordJson(kind: 'CONNECTOR' | 'PROJECTION', stateJson: string): ConnectorRecordJson | ProjectionRecordJson {
  const raw = JSON.parse(stateJson) as Record<string, unknown>;
  if (raw['v'] === 2) return raw as unknown as ConnectorRecordJson | ProjectionRecordJson;
  if (kind === 'CONNECTOR') return { v: 2, instance: '', seq: 0, state: raw as unknown as ConnectorState };
  return { v: 2, instance: '', seq: 0, digest: '', connectors: -1, projection: raw as unknown as ProjectionRecordJson['projection'] };
}

export type SnapshotChoice =
  | { kind: 'EMPTY' }
  | { kind: 'OK'; snapshot: ProjectionSnapshot; seq: number; written: Map<string, number> }
  | { kind: 'INCONSISTENT'; reason: string };

/**
 * Picks, from the records of one instance in log order, the newest version per key and checks that
 * the connector records are the ones the newest projection record was taken with.
 */
export function chooseSnapshot(records: Iterable<LoadedRecord>, instance: string): SnapshotChoice {
  const connectors = new Map<string, ConnectorRecordJson>();
  let projection: ProjectionRecordJson | undefined;
  for (const r of records) {
    if (r.kind === 'TOMBSTONE') {
      connectors.delete(r.key);
      continue;
    }
    if (r.json.instance !== instance) continue;
    if (r.kind === 'PROJECTION') {
      if (!projection || r.json.seq >= projection.seq) projection = r.json;
    } else {
      const prev = connectors.get(r.key);
      if (!prev || r.json.seq >= prev.seq) connectors.set(r.key, r.json);
    }
  }
  if (!projection) return connectors.size === 0 ? { kind: 'EMPTY' } : { kind: 'INCONSISTENT', reason: `${connectors.size} connector record(s) without a projection record` };
  // Records of the first format carry no digest: nothing to verify them against.
  if (projection.seq > 0) {
    const written = [...connectors.values()].map((c) => [c.state.connectorId, c.seq] as [string, number]);
    if (written.length !== projection.connectors || digestOf(written) !== projection.digest) {
      const newer = [...connectors.values()].filter((c) => c.seq > projection.seq).length;
      return { kind: 'INCONSISTENT', reason: `the connector records (${written.length}, ${newer} newer than the projection record) are not the ${projection.connectors} the projection record at version ${projection.seq} was taken with` };
    }
  }
  const written = new Map([...connectors.values()].map((c) => [c.state.connectorId, c.seq]));
  return { kind: 'OK', seq: projection.seq, written, snapshot: { ...projection.projection, connectors: [...connectors.values()].map((c) => c.state) } };
}
