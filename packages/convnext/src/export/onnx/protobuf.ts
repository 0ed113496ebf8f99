/**
 * A minimal protocol-buffers encoder: just what ONNX's messages need (varints, 32-bit
 * floats, length-delimited bytes/strings/sub-messages, packed repeated int64). Fields are
 * written in the order they are added; protobuf readers accept any order.
 */

const enc = new TextEncoder();

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const FIXED32 = 5;
const LEN = 2;

/** Builds one message's bytes field by field. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(v: bigint): void {
    // int64 fields use two's complement: a negative value takes 10 bytes.
    let x = BigInt.asUintN(64, v);
    const out: number[] = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      out.push(b);
    } while (x !== 0n);
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt(field * 8 + wire));
  }

  /** An int32/int64/enum/bool field (`value` must be an integer). */
  int(field: number, value: number | bigint): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`protobuf: field ${field} needs an integer, got ${value}`);
    this.tag(field, VARINT);
    this.varint(BigInt(value));
    return this;
  }

  /** A `float` field (32-bit, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  /** A `bytes` field. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LEN);
    this.varint(BigInt(value.length));
    this.push(value);
    return this;
  }

  /** A `string` field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, enc.encode(value));
  }

  /** An embedded message field. */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** A packed `repeated int64` field (nothing is written for an empty list). */
  packedInts(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) {
      if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf: field ${field} needs integers, got ${v}`);
      inner.varint(BigInt(v));
    }
    return this.bytes(field, inner.finish());
  }

  /** The message's bytes. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}
