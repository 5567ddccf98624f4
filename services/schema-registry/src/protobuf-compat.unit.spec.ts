import { describe, expect, it } from 'vitest';
import { parseProtobuf, type ProtoDependency } from './protobuf.js';
import { protobufDifferences, protobufIncompatibilities } from './protobuf-compat.js';

const v1 = `syntax = "proto3";
package acme;
message Order {
  string id = 1;
  int32 qty = 2;
  Item item = 3;
  oneof pay { string card = 4; string iban = 5; }
  Status status = 6;
  message Item { string sku = 1; }
}
enum Status { UNKNOWN = 0; DONE = 1; }
`;

const parse = (text: string, deps: ProtoDependency[] = []): ReturnType<typeof parseProtobuf> => parseProtobuf(text, deps);
const diff = (before: string, after: string): Array<{ type: string; path: string }> => protobufDifferences(parse(before), parse(after));
const incompatible = (before: string, after: string): string[] => protobufIncompatibilities(parse(after), parse(before));

describe('Confluent protobuf differences', () => {
  it('finds none between a file and itself', () => {
    expect(diff(v1, v1)).toEqual([]);
  });

  it.each([
    ['adding a field', v1.replace('Status status = 6;', 'Status status = 6; string note = 7;'), [{ type: 'FIELD_ADDED', path: '#/Order/7' }]],
    ['removing a field', v1.replace('int32 qty = 2;', ''), [{ type: 'FIELD_REMOVED', path: '#/Order/2' }]],
    ['renaming a field (same number)', v1.replace('int32 qty = 2;', 'int32 quantity = 2;'), [{ type: 'FIELD_NAME_CHANGED', path: '#/Order/2' }]],
    ['a compatible scalar change (int32 to int64)', v1.replace('int32 qty = 2;', 'int64 qty = 2;'), []],
    ['an enum field to int32 (both general numbers)', v1.replace('Status status = 6;', 'int32 status = 6;'), []],
    ['string to bytes', v1.replace('string id = 1;', 'bytes id = 1;'), []],
    ['adding a message', v1 + 'message Extra { int32 x = 1; }\n', [{ type: 'MESSAGE_ADDED', path: '#/Extra' }]],
    ['adding an enum constant', v1.replace('DONE = 1;', 'DONE = 1; LOST = 2;'), [{ type: 'ENUM_CONST_ADDED', path: '#/Status/2' }]],
    ['removing an enum', v1.replace('enum Status { UNKNOWN = 0; DONE = 1; }', '').replace('Status status = 6;', 'int32 status = 6;'), [{ type: 'ENUM_REMOVED', path: '#/Status' }]],
    ['adding a field to a oneof', v1.replace('string iban = 5;', 'string iban = 5; string paypal = 7;'), [{ type: 'ONEOF_FIELD_ADDED', path: '#/Order/pay/7' }]],
    ['moving a oneof member to the top level', v1.replace('oneof pay { string card = 4; string iban = 5; }', 'oneof pay { string card = 4; } string iban = 5;'), [{ type: 'ONEOF_FIELD_MOVED_TO_TOP_LEVEL', path: '#/Order/5' }]],
  ])('%s is compatible', (_what, after, expected) => {
    expect(diff(v1, after)).toEqual(expected);
    expect(incompatible(v1, after)).toEqual([]);
  });

  it.each([
    ['reusing a field number with another scalar kind', v1.replace('int32 qty = 2;', 'string qty = 2;'), 'FIELD_SCALAR_KIND_CHANGED', '#/Order/2'],
    ['changing a scalar to a message', v1.replace('int32 qty = 2;', 'Item qty = 2;'), 'FIELD_KIND_CHANGED', '#/Order/2'],
    ['changing sint32 to int32 (different encodings)', v1.replace('int32 qty = 2;', 'sint32 qty = 2;'), 'FIELD_SCALAR_KIND_CHANGED', '#/Order/2'],
    ['changing a message field to another message', v1.replace('Item item = 3;', 'Other item = 3;') + 'message Other { string sku = 1; }\n', 'FIELD_NAMED_TYPE_CHANGED', '#/Order/3'],
    ['renaming a message (the old name is removed)', v1.replace(/\bOrder\b/, 'Purchase'), 'MESSAGE_REMOVED', '#/Order'],
    ['changing the package', v1.replace('package acme;', 'package acme.v2;'), 'PACKAGE_CHANGED', '#/'],
    ['moving two top-level fields into one oneof', v1.replace('string id = 1;\n  int32 qty = 2;', 'oneof both { string id = 1; int32 qty = 2; }'), 'MULTIPLE_FIELDS_MOVED_TO_ONEOF', '#/Order/both'],
    ['moving a field into an existing oneof', v1.replace('string id = 1;', '').replace('string iban = 5;', 'string iban = 5; string id = 1;'), 'FIELD_MOVED_TO_EXISTING_ONEOF', '#/Order/pay'],
    ['removing a oneof member', v1.replace('string iban = 5;', ''), 'ONEOF_FIELD_REMOVED', '#/Order/pay/5'],
  ])('%s is incompatible', (_what, after, type, path) => {
    const found = diff(v1, after).filter((d) => d.type === type);
    expect(found).toEqual([{ type, path }]);
    expect(incompatible(v1, after).some((m) => m.startsWith(`{errorType:"${type}", description:"`))).toBe(true);
  });

  it('a nested message type changing incompatibly makes the field that uses it incompatible too', () => {
    const after = v1.replace('message Item { string sku = 1; }', 'message Item { int64 sku = 1; }');
    expect(diff(v1, after)).toEqual(
      expect.arrayContaining([
        { type: 'FIELD_SCALAR_KIND_CHANGED', path: '#/Order/3/1' },
        { type: 'FIELD_NAMED_TYPE_CHANGED', path: '#/Order/3' },
        { type: 'FIELD_SCALAR_KIND_CHANGED', path: '#/Order/Item/1' },
      ]),
    );
  });

  it('proto2: adding or removing a required field, and a numeric label change, are incompatible', () => {
    const p2 = 'syntax = "proto2"; message A { required int32 a = 1; optional int32 b = 2; }';
    expect(diff(p2, 'syntax = "proto2"; message A { optional int32 b = 2; }')).toEqual([{ type: 'REQUIRED_FIELD_REMOVED', path: '#/A/1' }]);
    expect(diff(p2, 'syntax = "proto2"; message A { required int32 a = 1; optional int32 b = 2; required int32 c = 3; }')).toEqual([{ type: 'REQUIRED_FIELD_ADDED', path: '#/A/3' }]);
    expect(diff(p2, 'syntax = "proto2"; message A { required int32 a = 1; repeated int32 b = 2; }')).toEqual([{ type: 'FIELD_NUMERIC_LABEL_CHANGED', path: '#/A/2' }]);
  });

  it('moving a message is compatible: data carries the indexes of its own schema id', () => {
    const moved = 'syntax = "proto3"; message B { int32 b = 1; } message A { int32 a = 1; }';
    expect(diff('syntax = "proto3"; message A { int32 a = 1; } message B { int32 b = 1; }', moved)).toEqual([
      { type: 'MESSAGE_MOVED', path: '#/A' },
      { type: 'MESSAGE_MOVED', path: '#/B' },
    ]);
  });

  it('recursive messages terminate', () => {
    const tree = 'syntax = "proto3"; message Node { string v = 1; repeated Node children = 2; }';
    expect(diff(tree, tree)).toEqual([]);
    expect(diff(tree, tree.replace('string v = 1;', 'int64 v = 1;'))).toEqual([{ type: 'FIELD_SCALAR_KIND_CHANGED', path: '#/Node/1' }]);
  });

  it('does not look inside a referenced message when both sides use the same subject version', () => {
    const money = { name: 'money.proto', schema: 'syntax = "proto3"; package m; message Money { int64 units = 1; }', reference: { subject: 'money', version: 1 } };
    const text = 'syntax = "proto3"; import "money.proto"; message P { m.Money price = 1; }';
    expect(protobufDifferences(parse(text, [money]), parse(text, [money]))).toEqual([]);
    const money2 = { ...money, schema: money.schema.replace('int64', 'string'), reference: { subject: 'money', version: 2 } };
    expect(protobufDifferences(parse(text, [money]), parse(text, [money2]))).toEqual([
      { type: 'FIELD_SCALAR_KIND_CHANGED', path: '#/P/1/1' },
      { type: 'FIELD_NAMED_TYPE_CHANGED', path: '#/P/1' },
    ]);
  });

  it('describes incompatibilities in Confluent words, naming the new and the old schema', () => {
    expect(incompatible(v1, v1.replace('int32 qty = 2;', 'string qty = 2;'))).toEqual([
      `{errorType:"FIELD_SCALAR_KIND_CHANGED", description:"The kind of a SCALAR field at path '#/Order/2' in the new schema does not match its kind in the old schema"}`,
    ]);
    expect(protobufIncompatibilities(parse(v1), parse(v1.replace(/\bOrder\b/, 'Purchase')), 'old', 'new')).toEqual([
      `{errorType:"MESSAGE_REMOVED", description:"The old schema is missing a MESSAGE type at path '#/Purchase' in the new schema"}`,
    ]);
  });
});
