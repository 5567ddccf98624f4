import { columnName, datasetName, isPii, parseContract, type ContractObject, type ContractProperty, type DataContract } from '@preflight/contracts';
import type { Metadata } from './contract.js';

/**
 * A connector's ODCS contract published to the registry: one subject per dataset, holding an
 * Avro record of the dataset's columns, with the contract's classifications as Confluent
 * `metadata` tags — so Kafka-side tools (Confluent's rule executors, catalogues, stream
 * governance) see the same PII facts the preflight checks.
 */

export interface ContractSubject {
  subject: string;
  /** Avro record schema, as JSON text. */
  schema: string;
  metadata: Metadata;
}

/** Avro names allow [A-Za-z0-9_] and may not start with a digit. */
function avroName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

const AVRO_TYPES: Record<string, unknown> = {
  string: 'string',
  integer: 'long',
  number: 'double',
  boolean: 'boolean',
  date: { type: 'int', logicalType: 'date' },
  timestamp: { type: 'long', logicalType: 'timestamp-millis' },
  time: { type: 'long', logicalType: 'time-micros' },
  // Nested values travel as their JSON text: the contract does not describe their inside.
  object: 'string',
  array: 'string',
};

/** The tags a column carries: `PII` when the contract says so, its classification, and its own tags. */
export function columnTags(p: ContractProperty): string[] {
  const tags = new Set<string>();
  if (isPii(p)) tags.add('PII');
  if (p.classification) tags.add(p.classification.toUpperCase());
  for (const t of p.tags ?? []) tags.add(t);
  return [...tags].sort();
}

function subjectFor(o: ContractObject, contract: DataContract, connectorId: string): ContractSubject {
  const namespace = `preflight.${avroName(connectorId)}`;
  const name = avroName(datasetName(o));
  const tags: Record<string, string[]> = {};
  const fields = o.properties.map((p) => {
    const field = avroName(columnName(p));
    const base = AVRO_TYPES[p.logicalType ?? 'string'] ?? 'string';
    const t = columnTags(p);
    // Confluent's rule executors address a field by its record's full name and the field name.
    if (t.length) tags[`${namespace}.${name}.${field}`] = t;
    return p.required ? { name: field, type: base } : { name: field, type: ['null', base], default: null };
  });
  const schema = { type: 'record', name, namespace, doc: `Dataset ${datasetName(o)} of data contract ${contract.id} ${contract.version}`, fields };
  const metadata: Metadata = {
    properties: { 'preflight.connector': connectorId, 'contract.id': contract.id, 'contract.version': contract.version, 'contract.status': contract.status, ...(contract.domain ? { 'contract.domain': contract.domain } : {}) },
    ...(Object.keys(tags).length ? { tags } : {}),
  };
  return { subject: `${connectorId}.${datasetName(o)}-value`, schema: JSON.stringify(schema), metadata };
}

/** The subjects a contract publishes, one per dataset. */
export function contractSubjects(contract: DataContract, connectorId: string): ContractSubject[] {
  return contract.schema.map((o) => subjectFor(o, contract, connectorId));
}

export type PublishOutcome = { subject: string; id: number } | { subject: string; error: string };

/**
 * Registers every dataset of `contractYaml` under its subject on the registry at `url` (this one
 * or any Confluent-compatible registry that accepts `metadata`). A dataset the registry refuses
 * (an incompatible change to the contract, say) is reported, not thrown, so the others still go.
 */
export async function publishContractFacts(url: string, connectorId: string, contractYaml: string, fetchFn: typeof fetch = fetch): Promise<PublishOutcome[]> {
  const subjects = contractSubjects(parseContract(contractYaml), connectorId);
  const out: PublishOutcome[] = [];
  for (const s of subjects) {
    const res = await fetchFn(`${url}/subjects/${encodeURIComponent(s.subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: s.schema, metadata: s.metadata }),
    });
    const body = (await res.json().catch(() => ({}))) as { id?: number; message?: string };
    out.push(res.ok && typeof body.id === 'number' ? { subject: s.subject, id: body.id } : { subject: s.subject, error: `${res.status}: ${body.message ?? 'no message'}` });
  }
  return out;
}
