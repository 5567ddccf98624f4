import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { canonicalProto, decodeMessageIndexes, encodeMessageIndexes, messageAt, messageIndexes, parseProtobuf, printProto, ProtobufError } from './protobuf.js';

const money = `syntax = "proto3";
package acme.common;
message Money { string currency = 1; int64 units = 2; }
`;

const orders = `syntax = "proto3";
package acme.orders;

import "google/protobuf/timestamp.proto";
import "acme/common/money.proto";

// An order, with comments the canonical form leaves out.
message Order {
  string id = 1;
  optional int32 qty = 2;
  map<string, int64> counts = 3;
  repeated Line lines = 4;
  oneof payment {
    string card = 5;
    string iban = 6;
  }
  google.protobuf.Timestamp placed_at = 7;
  acme.common.Money total = 8;
  message Line {
    string sku = 1;
    Kind kind = 2;
    message Discount { int32 percent = 1; }
  }
  enum Kind { KIND_UNSPECIFIED = 0; GOODS = 1; }
}
enum Status { STATUS_UNSPECIFIED = 0; DONE = 1; }
message Shipment { Order.Line line = 1; }
`;

const deps = [{ name: 'acme/common/money.proto', schema: money, reference: { subject: 'money', version: 1 } }];

describe('parsing .proto files', () => {
  it('reads proto3 with references, a well-known import, nested types, maps, oneofs and proto3 optional', () => {
    const { file, types } = parseProtobuf(orders, deps);
    expect(file.syntax).toBe('proto3');
    expect(file.package).toBe('acme.orders');
    expect(file.imports).toEqual(['google/protobuf/timestamp.proto', 'acme/common/money.proto']);
    expect(file.types.map((t) => `${t.kind}:${t.name}`)).toEqual(['message:Order', 'enum:Status', 'message:Shipment']);
    const order = file.types[0]!;
    if (order.kind !== 'message') throw new Error('Order is a message');
    const byName = Object.fromEntries(order.fields.map((f) => [f.name, f]));
    expect(byName['qty']).toMatchObject({ tag: 2, label: 'optional' });
    expect(byName['qty']!.oneof).toBeUndefined(); // proto3 optional is not a real oneof
    expect(byName['counts']).toMatchObject({ keyType: 'string', type: 'int64' });
    expect(byName['card']).toMatchObject({ oneof: 'payment' });
    expect(byName['placed_at']!.resolved).toBe('google.protobuf.Timestamp');
    expect(byName['total']!.resolved).toBe('acme.common.Money');
    expect(order.oneofs.map((o) => o.name)).toEqual(['payment']);
    expect(types.get('acme.common.Money')?.reference).toEqual({ subject: 'money', version: 1 });
    expect(types.get('acme.orders.Order.Line')?.reference).toBeUndefined();
  });

  it('reads proto2 labels, required fields and extension ranges', () => {
    const { file } = parseProtobuf('syntax = "proto2"; message A { required int32 a = 1; optional string b = 2; repeated int32 c = 3; extensions 100 to max; }');
    const a = file.types[0]!;
    if (a.kind !== 'message') throw new Error('A is a message');
    expect(file.syntax).toBe('proto2');
    expect(a.fields.map((f) => f.label)).toEqual(['required', 'optional', 'repeated']);
    expect(a.extensions).toEqual([[100, 536870911]]);
  });

  it('keeps extension fields with the extend block that declares them, not in the extended message', () => {
    const { file } = parseProtobuf('syntax = "proto2"; message A { optional int32 a = 1; extensions 10 to 20; } extend A { optional int32 e = 10; }');
    const a = file.types[0]!;
    expect(a.kind === 'message' && a.fields.map((f) => f.name)).toEqual(['a']);
    expect(file.extend.map((e) => `${e.extendee}.${e.field.name}=${e.field.tag}`)).toEqual(['A.e=10']);
  });

  it('treats a file without a syntax line as proto2, as protoc does', () => {
    expect(parseProtobuf('message A { optional int32 a = 1; }').file.syntax).toBe('proto2');
  });

  it.each([
    ['a syntax error', 'syntax = "proto3"; message A { int32 a = 1 }', /not a valid \.proto file.*';' expected/],
    ['an unknown type', 'syntax = "proto3"; message A { Missing m = 1; }', /no such Type or Enum 'Missing'/],
    ['an import with no reference', 'syntax = "proto3"; import "other.proto"; message A { int32 a = 1; }', /imports "other.proto", which is neither among the schema's references nor a well-known type/],
    ['a type defined twice', 'syntax = "proto3"; message A { int32 a = 1; } message A { int32 b = 1; }', /duplicate name 'A'/],
    ['an unknown syntax', 'syntax = "proto4"; message A { int32 a = 1; }', /declares syntax "proto4"; only proto2 and proto3 exist/],
    ['field number 0', 'syntax = "proto3"; message A { int32 a = 0; }', /field A.a has number 0, outside 1..536870911/],
    ['a number reserved for the implementation', 'syntax = "proto3"; message A { message B { int32 a = 19001; } }', /field B.a has number 19001, which is reserved/],
  ])('refuses %s, saying what is wrong', (_what, text, message) => {
    expect(() => parseProtobuf(text)).toThrow(ProtobufError);
    expect(() => parseProtobuf(text)).toThrow(message);
  });
});

describe('canonical form', () => {
  it('ignores comments, whitespace and layout, so reformatting keeps the id', () => {
    const compact = orders.replace(/\/\/[^\n]*\n/g, '').replace(/\s+/g, ' ');
    expect(canonicalProto(compact)).toBe(canonicalProto(orders));
    expect(printProto(parseProtobuf(compact, deps).file)).toBe(canonicalProto(orders));
  });

  it('without normalizing, field order and type spelling count; normalized, they do not', () => {
    const a = 'syntax = "proto3"; package p; message M { int32 a = 1; string b = 2; N n = 3; } message N { int32 x = 1; }';
    const b = 'syntax = "proto3"; package p; message M { .p.N n = 3; string b = 2; int32 a = 1; } message N { int32 x = 1; }';
    expect(canonicalProto(a)).not.toBe(canonicalProto(b));
    expect(printProto(parseProtobuf(a).file, true)).toBe(printProto(parseProtobuf(b).file, true));
  });

  it('normalizing sorts imports and options but keeps message order, which message indexes depend on', () => {
    const a = 'syntax = "proto3"; import "google/protobuf/timestamp.proto"; import "google/protobuf/duration.proto"; option java_package = "x"; option go_package = "y"; message A { google.protobuf.Timestamp t = 1; } message B { google.protobuf.Duration d = 1; }';
    const normalized = printProto(parseProtobuf(a).file, true);
    expect(normalized.indexOf('duration.proto')).toBeLessThan(normalized.indexOf('timestamp.proto'));
    expect(normalized.indexOf('go_package')).toBeLessThan(normalized.indexOf('java_package'));
    expect(normalized.indexOf('message A')).toBeLessThan(normalized.indexOf('message B'));
    expect(normalized).toContain('.google.protobuf.Timestamp t = 1;');
  });

  it('drops the implicit proto2 syntax line when normalizing, as Confluent does', () => {
    expect(printProto(parseProtobuf('syntax = "proto2"; message A { optional int32 a = 1; }').file, true)).toBe(printProto(parseProtobuf('message A { optional int32 a = 1; }').file, true));
  });

  it('is itself a valid .proto file that parses to the same schema', () => {
    const printed = printProto(parseProtobuf(orders, deps).file);
    expect(printProto(parseProtobuf(printed, deps).file)).toBe(printed);
  });
});

describe('message indexes (Confluent wire format)', () => {
  const { file } = parseProtobuf(orders, deps);

  it('counts messages, not enums, per scope, outermost first', () => {
    expect(messageIndexes(file, 'acme.orders.Order')).toEqual([0]);
    expect(messageIndexes(file, 'Shipment')).toEqual([1]); // the enum Status between them does not count
    expect(messageIndexes(file, 'Order.Line')).toEqual([0, 0]);
    expect(messageIndexes(file, 'acme.orders.Order.Line.Discount')).toEqual([0, 0, 0]);
    expect(() => messageIndexes(file, 'Order.Nope')).toThrow(/no message Order.Nope/);
  });

  it('maps indexes back to names; none means the first message', () => {
    expect(messageAt(file, [1])).toBe('acme.orders.Shipment');
    expect(messageAt(file, [0, 0, 0])).toBe('acme.orders.Order.Line.Discount');
    expect(messageAt(file, [])).toBe('acme.orders.Order');
    expect(() => messageAt(file, [5])).toThrow(/invalid message indexes \[5\]/);
  });

  it('frames [0] as the single byte 0 and anything else as zig-zag varints, and reads both back', () => {
    expect([...encodeMessageIndexes([0])]).toEqual([0]);
    expect([...encodeMessageIndexes([1])]).toEqual([2, 2]);
    expect([...encodeMessageIndexes([0, 0])]).toEqual([4, 0, 0]);
    expect([...encodeMessageIndexes([1, 70])]).toEqual([4, 2, 140, 1]);
    for (const idx of [[0], [1], [0, 0], [3, 1, 200]]) {
      const framed = Buffer.concat([Buffer.from([9]), encodeMessageIndexes(idx), Buffer.from([8, 1])]);
      expect(decodeMessageIndexes(framed, 1)).toEqual({ indexes: idx, offset: framed.length - 2 });
    }
    expect(() => decodeMessageIndexes(Buffer.from([0x80]))).toThrow(/past the end/);
  });

  it('frames a nested message so that its payload decodes with the type the indexes name', () => {
    const root = protobuf.parse(orders.replace('import "acme/common/money.proto";', '').replace('acme.common.Money total = 8;', ''), { keepCase: true }).root;
    root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')!['nested']!);
    const line = root.lookupType('acme.orders.Order.Line');
    const payload = line.encode(line.create({ sku: 'sku-1', kind: 1 })).finish();
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), encodeMessageIndexes(messageIndexes(file, 'Order.Line')), payload]);
    const { indexes, offset } = decodeMessageIndexes(framed, 5);
    const type = root.lookupType(messageAt(file, indexes));
    expect(type.toObject(type.decode(framed.subarray(offset)))).toEqual({ sku: 'sku-1', kind: 1 });
  });
});
