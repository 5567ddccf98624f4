// connector-preflight: this file replaces kafkajs 2.2.4's src/protocol/recordBatch/record/v0/index.js
// (scripts/patch-deps.mjs writes it at install). The original encodes every header with its own
// `new Encoder()`, and an Encoder starts with a zero-filled, unpooled 512-byte Buffer; with the ten
// CloudEvents headers each record made eleven such buffers and copied ten of them again. Here the
// record's one encoder is sized to the record and the headers are written straight into it. The
// bytes are the same (packages/bus/src/kafkajs-patch.unit.spec.ts compares them with the original
// encoding); see docs/performance.md, "The headers: one encoder per record".
const Encoder = require('../../../encoder')

/**
 * v0
 * Record =>
 *   Length => Varint
 *   Attributes => Int8
 *   TimestampDelta => Varlong
 *   OffsetDelta => Varint
 *   Key => varInt|Bytes
 *   Value => varInt|Bytes
 *   Headers => [HeaderKey HeaderValue]
 *     HeaderKey => VarInt|String
 *     HeaderValue => VarInt|Bytes
 */
module.exports = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
  const headersArray = Object.keys(headers).flatMap(headerKey =>
    !Array.isArray(headers[headerKey])
      ? [{ key: headerKey, value: headers[headerKey] }]
      : headers[headerKey].map(headerValue => ({ key: headerKey, value: headerValue }))
  )

  const sizeOfBody =
    1 + // always one byte for attributes
    Encoder.sizeOfVarLong(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    sizeOfHeaders(headersArray)

  const encoder = new Encoder(Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody)
    .writeVarInt(sizeOfBody)
    .writeInt8(0) // no used record attributes at the moment
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarInt(headersArray.length)
  for (const header of headersArray) {
    encoder.writeVarIntString(header.key).writeVarIntBytes(header.value)
  }
  return encoder
}

const sizeOfHeaders = headersArray => {
  let size = Encoder.sizeOfVarInt(headersArray.length)

  for (const header of headersArray) {
    const keySize = Buffer.byteLength(header.key)
    const valueSize = Buffer.byteLength(header.value)

    size += Encoder.sizeOfVarInt(keySize) + keySize

    if (header.value === null) {
      size += Encoder.sizeOfVarInt(-1)
    } else {
      size += Encoder.sizeOfVarInt(valueSize) + valueSize
    }
  }

  return size
}
