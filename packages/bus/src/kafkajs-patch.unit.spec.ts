import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The project patches one file of kafkajs (scripts/patch-deps.mjs, at install): its record encoder,
// so a record's headers are written into the record's own encoder instead of one 512-byte encoder
// each. These tests hold that the patch is installed (the benches and CI measure it) and that it
// writes exactly the bytes kafkajs's own encoding writes, built here from kafkajs's unpatched
// `Encoder` and header encoder the way its original record encoder did.
const require = createRequire(import.meta.url);
type Enc = { buffer: Buffer; writeVarInt(v: number): Enc; writeInt8(v: number): Enc; writeVarLong(v: number): Enc; writeVarIntBytes(v: unknown): Enc; writeVarIntArray(a: Enc[]): Enc };
type EncoderClass = { new (size?: number): Enc; sizeOfVarLong(v: number): number; sizeOfVarInt(v: number): number; sizeOfVarIntBytes(v: unknown): number };
const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
const Header = require('kafkajs/src/protocol/recordBatch/header/v0') as (h: { key: string; value: unknown }) => Enc;
type RecordInput = { offsetDelta?: number; timestampDelta?: number; key: unknown; value: unknown; headers?: Record<string, unknown> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: RecordInput) => Enc;

/** kafkajs 2.2.4's record encoding, as its original `record/v0` wrote it. */
function original({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): Buffer {
  const list = Object.keys(headers).flatMap((k) => {
    const v = headers[k];
    return Array.isArray(v) ? v.map((x: unknown) => ({ key: k, value: x })) : [{ key: k, value: v }];
  });
  const body = new Encoder()
    .writeInt8(0)
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarIntArray(list.map(Header)).buffer;
  return Buffer.concat([new Encoder().writeVarInt(body.length).buffer, body]);
}

const text = (n: number): string => {
  const alphabet = ['a', 'Z', '0', '-', 'é', '€', '𝄞', ' ', '"'];
  return Array.from({ length: n }, (_, i) => alphabet[(i * 7 + n) % alphabet.length]).join('');
};

describe('the patched kafkajs record encoder', () => {
  it('is the one installed', () => {
    const installed = readFileSync(require.resolve('kafkajs/src/protocol/recordBatch/record/v0'), 'utf8');
    const patch = readFileSync(fileURLToPath(new URL('../../../patches/kafkajs/record-v0.js', import.meta.url)), 'utf8');
    expect(installed).toBe(patch);
  });

  it('writes the bytes kafkajs wrote for the bus\'s CloudEvents headers', () => {
    const headers = {
      ce_specversion: '1.0',
      ce_id: '0d2b7a2e-6f59-4e0b-9a8a-6c1f5e9d1c11',
      ce_source: 'urn:preflight:handshake',
      ce_type: 'connector.handshake',
      ce_time: '2026-12-03T02:00:00.000Z',
      ce_subject: 'acme/pg-orders',
      'content-type': 'application/avro',
      ce_tenantid: 'acme',
      ce_correlationid: 'corr-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const input = { offsetDelta: 17, timestampDelta: 3, key: 'acme/pg-orders', value: randomBytes(1500), headers };
    expect(Record(input).buffer.equals(original(input))).toBe(true);
  });

  it('writes the same bytes as kafkajs for any keys, values and headers', () => {
    for (let i = 0; i < 500; i++) {
      const headers: Record<string, unknown> = {};
      for (let h = 0; h < i % 13; h++) {
        const name = `h${h}${text(h % 5)}`;
        headers[name] = h % 4 === 0 ? randomBytes((i * h) % 300) : h % 4 === 1 ? [text(h), randomBytes(h), ''] : text((i + h * 31) % 700);
      }
      const input: RecordInput = {
        offsetDelta: (i * 7919) % 70_000,
        timestampDelta: (i * 104_729) % 5_000_000,
        key: i % 5 === 0 ? null : i % 2 ? text(i % 40) : randomBytes(i % 40),
        value: i % 11 === 0 ? null : i % 3 ? randomBytes((i * 37) % 5000) : text((i * 13) % 3000),
        headers,
      };
      expect(Record(input).buffer.equals(original(input)), `record ${i}`).toBe(true);
    }
  });
});
