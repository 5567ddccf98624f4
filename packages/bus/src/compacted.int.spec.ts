import { afterEach, describe, expect, it } from 'vitest';
import type avro from 'avsc';
import { subjectFor } from '@preflight/events';
import type { PreflightError } from '@preflight/core';
import { testBus } from './testing/test-bus.js';
import type { Bus, CompactedRecord, DeadLetterSource } from './index.js';

const ROW: avro.Schema = { type: 'record', name: 'Row', namespace: 'dev.preflight.test', fields: [{ name: 'n', type: 'int' }, { name: 'text', type: 'string' }] };
interface Row {
  n: number;
  text: string;
}

const buses: Bus[] = [];
afterEach(async () => {
  while (buses.length) await buses.pop()!.stop();
});

async function readAll(bus: Bus): Promise<{ records: Array<CompactedRecord<Row>>; undecodable: Array<{ source: DeadLetterSource; reason: PreflightError }> }> {
  const records: Array<CompactedRecord<Row>> = [];
  const undecodable: Array<{ source: DeadLetterSource; reason: PreflightError }> = [];
  // A fresh instance: what a restarted reader sees.
  await bus.compacted<Row>(bus.topics.state, ROW).read(
    (r) => void records.push({ key: r.key, value: r.value && { n: r.value.n, text: r.value.text } }),
    async (source, reason) => void undecodable.push({ source, reason }),
  );
  return { records, undecodable };
}

describe('a compacted topic through the bus producer and codec', () => {
  it('writes keyed records, tombstones and more than one broker batch in order, in the wire format under the topic schema, and reads them back', async () => {
    const bus = await testBus({ partitions: 1 });
    buses.push(bus);
    const topic = bus.compacted<Row>(bus.topics.state, ROW);
    await topic.start();
    // 24 records of 64 KiB: more than the 512 KiB a chunk may carry and the broker's 1 MiB batch limit.
    const big = Array.from({ length: 24 }, (_, i): CompactedRecord<Row> => ({ key: `big-${i}`, value: { n: i, text: 'x'.repeat(64 * 1024) } }));
    await topic.write([{ key: 'a', value: { n: 1, text: 'first' } }, { key: 'b', value: { n: 2, text: 'second' } }, ...big, { key: 'a', value: { n: 3, text: 'newer' } }, { key: 'b', value: null }]);

    const { records, undecodable } = await readAll(bus);
    expect(undecodable).toEqual([]);
    expect(records.filter((r) => !r.key.startsWith('big-'))).toEqual([
      { key: 'a', value: { n: 1, text: 'first' } },
      { key: 'b', value: { n: 2, text: 'second' } },
      { key: 'a', value: { n: 3, text: 'newer' } },
      { key: 'b', value: null },
    ]);
    expect(records.filter((r) => r.key.startsWith('big-')).map((r) => r.value?.n)).toEqual(big.map((r) => r.value!.n));

    const schemaId = await bus.codec.registry.getLatestSchemaId(subjectFor(bus.topics.state));
    const raw: Buffer[] = [];
    await bus.readTopics([bus.topics.state], (_t, _p, _o, value) => void (value && raw.push(value)));
    expect(raw.length).toBe(records.length - 1);
    for (const v of raw) expect([v[0], v.readUInt32BE(1)]).toEqual([0, schemaId]);
  });

  it('hands a record it cannot decode to the caller with DECODE and reads on; write before start is refused', async () => {
    const bus = await testBus({ partitions: 1 });
    buses.push(bus);
    const topic = bus.compacted<Row>(bus.topics.state, ROW);
    await expect(topic.write([{ key: 'a', value: { n: 1, text: 'x' } }])).rejects.toThrow(/before start/);
    await topic.start();
    await topic.write([{ key: 'a', value: { n: 1, text: 'before' } }]);
    const raw = bus.kafka.producer();
    await raw.connect();
    await raw.send({ topic: bus.topics.state, acks: -1, messages: [{ key: 'poison', value: Buffer.from('not avro') }] });
    await raw.disconnect();
    await topic.write([{ key: 'a', value: { n: 2, text: 'after' } }]);

    const { records, undecodable } = await readAll(bus);
    expect(records).toEqual([
      { key: 'a', value: { n: 1, text: 'before' } },
      { key: 'a', value: { n: 2, text: 'after' } },
    ]);
    expect(undecodable.map((u) => [u.source.key?.toString(), u.source.offset, u.reason.code, u.reason.retriable])).toEqual([['poison', '1', 'DECODE', false]]);

    // Set aside through the bus: original bytes, why, and which group gave up.
    await bus.deadLetter(undecodable[0]!.source, undecodable[0]!.reason, 'g-test');
    const dlq: Array<{ value: string | undefined; key: string | undefined }> = [];
    await bus.readTopics([bus.topics.dlq(bus.topics.state)], (_t, _p, _o, value, key) => void dlq.push({ value: value?.toString(), key: key?.toString() }));
    expect(dlq).toEqual([{ key: 'poison', value: 'not avro' }]);
  });
});
