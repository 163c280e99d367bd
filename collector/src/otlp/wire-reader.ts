// The protobuf wire format, read in place from a request body. Ingest decodes every span of every
// export, so this reads straight into the values the collector keeps (no intermediate message
// objects), and refuses what protobufjs refuses for the same schema: truncated fields, lengths past
// the end, invalid UTF-8 in strings, nesting deeper than 100, unknown wire types.

/** The bytes are not a valid protobuf message; the message says where. */
export class WireFormatError extends Error {}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

/** protoc's default recursion limit, which protobufjs also applies. */
export const MAX_DEPTH = 100;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TWO_32 = 4294967296;
/** Below this many bytes a string is read byte by byte; above, the native decoder is cheaper. */
const SHORT_STRING = 32;
/** Attribute keys up to this long are cached (the conventions' longest are about 45 bytes). */
const CACHED_KEY = 64;

export class WireReader {
  readonly bytes: Buffer;
  readonly #view: DataView;
  pos = 0;
  /** End of the message being read: no field may reach past it. */
  limit: number;

  constructor(body: Uint8Array) {
    this.bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.limit = this.bytes.length;
  }

  /** A varint's low 32 bits, unsigned: tags, lengths, uint32 and (with `| 0`) int32 and enums. */
  uint32(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    if (pos >= this.limit) throw this.#outOfRange(1);
    let byte = bytes[pos++]!;
    if (byte < 0x80) {
      this.pos = pos;
      return byte;
    }
    let value = byte & 0x7f;
    for (let shift = 7; shift < 70; shift += 7) {
      if (pos >= this.limit) throw this.#outOfRange(1);
      byte = bytes[pos++]!;
      // Bits past the 32nd are dropped, as protobufjs does for 32-bit fields.
      if (shift < 32) value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        this.pos = pos;
        return value % TWO_32;
      }
    }
    throw new WireFormatError(`invalid varint encoding at offset ${this.pos}`);
  }

  /**
   * An int64 varint as OTLP's AnyValue carries it: a number when it is a safe integer, otherwise its
   * exact signed decimal string (JavaScript numbers cannot hold it).
   */
  int64(): number | string {
    const bytes = this.bytes;
    let pos = this.pos;
    let low = 0;
    let high = 0;
    let done = false;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.limit) throw this.#outOfRange(1);
      const byte = bytes[pos++]!;
      const bits = byte & 0x7f;
      if (i < 4) low |= bits << (7 * i);
      else if (i === 4) {
        low |= (bits & 0x0f) << 28;
        high |= bits >> 4;
      } else high |= bits << (7 * i - 32);
      if (byte < 0x80) {
        done = true;
        break;
      }
    }
    if (!done) throw new WireFormatError(`invalid varint encoding at offset ${this.pos}`);
    this.pos = pos;
    low >>>= 0;
    high >>>= 0;
    if (high < 0x200000) return high * TWO_32 + low;
    if (high >= 0x80000000) {
      // Negative: the magnitude is the two's complement.
      const magnitudeLow = (~low + 1) >>> 0;
      const magnitudeHigh = (~high + (magnitudeLow === 0 ? 1 : 0)) >>> 0;
      if (magnitudeHigh < 0x200000) return -(magnitudeHigh * TWO_32 + magnitudeLow);
    }
    return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low)).toString();
  }

  /** Any set bit makes it true, even past the 32nd (protobufjs reads bools so). */
  bool(): boolean {
    const bytes = this.bytes;
    let value = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.limit) throw this.#outOfRange(1);
      const byte = bytes[this.pos++]!;
      if (byte & 0x7f) value = true;
      if (byte < 0x80) return value;
    }
    throw new WireFormatError(`invalid varint encoding at offset ${this.pos}`);
  }

  /** fixed64, exact: OTLP timestamps in nanoseconds are beyond what a number holds exactly. */
  fixed64(): bigint {
    if (this.pos + 8 > this.limit) throw this.#outOfRange(8);
    const value = this.#view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  double(): number {
    if (this.pos + 8 > this.limit) throw this.#outOfRange(8);
    const value = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** The end offset of a length-delimited field whose length comes next; `pos` is then its start. */
  delimitedEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.limit) throw this.#outOfRange(length);
    return end;
  }

  /** A string field: strict UTF-8, as protobufjs reads proto3 strings. */
  string(): string {
    const end = this.delimitedEnd();
    const start = this.pos;
    this.pos = end;
    return this.#text(start, end);
  }

  /**
   * A string that recurs in nearly every span (an attribute key): short keys come from a cache, so
   * the same key is one string, not a new one per span for the engine to hash again.
   */
  key(): string {
    const end = this.delimitedEnd();
    const start = this.pos;
    this.pos = end;
    const length = end - start;
    if (length > CACHED_KEY) return this.#text(start, end);
    const bytes = this.bytes;
    let hash = length;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 16777619);
    const known = KEY_CACHE.get(hash);
    if (known !== undefined && known.bytes.length === length) {
      const knownBytes = known.bytes;
      let i = 0;
      while (i < length && knownBytes[i] === bytes[start + i]) i++;
      if (i === length) return known.key;
    }
    const key = this.#text(start, end);
    if (KEY_CACHE.size >= KEY_CACHE_SIZE) KEY_CACHE.clear();
    KEY_CACHE.set(hash, { bytes: bytes.slice(start, end), key });
    return key;
  }

  /** Skips a field of this wire type, as protobufjs does for fields the schema does not name. */
  skip(wireType: number, fieldNumber: number, depth: number): void {
    if (depth > MAX_DEPTH) throw new WireFormatError('max depth exceeded');
    switch (wireType) {
      case WIRE_VARINT:
        this.int64();
        return;
      case WIRE_FIXED64:
        this.#advance(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.pos = this.delimitedEnd();
        return;
      case WIRE_START_GROUP:
        for (;;) {
          const tag = this.uint32();
          const field = tag >>> 3;
          if (field === 0) throw new WireFormatError('illegal tag: field number 0');
          if ((tag & 7) === WIRE_END_GROUP) {
            if (field !== fieldNumber) throw new WireFormatError('invalid end group tag');
            return;
          }
          this.skip(tag & 7, field, depth + 1);
        }
      case WIRE_FIXED32:
        this.#advance(4);
        return;
      default:
        throw new WireFormatError(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  /** Reads the next tag; throws on field number 0, as protobufjs does. */
  tag(): number {
    const tag = this.uint32();
    if (tag >>> 3 === 0) throw new WireFormatError(`illegal tag: field number 0 at offset ${this.pos}`);
    return tag;
  }

  #text(start: number, end: number): string {
    if (start === end) return '';
    const bytes = this.bytes;
    if (end - start <= SHORT_STRING) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if (bytes[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return bytes.toString('latin1', start, end);
    }
    try {
      return strictUtf8.decode(bytes.subarray(start, end));
    } catch {
      throw new WireFormatError(`invalid UTF-8 in a string field at offset ${start}`);
    }
  }

  #advance(length: number): void {
    if (this.pos + length > this.limit) throw this.#outOfRange(length);
    this.pos += length;
  }

  #outOfRange(length: number): WireFormatError {
    return new WireFormatError(`index out of range: ${this.pos} + ${length} > ${this.limit}`);
  }
}

const KEY_CACHE_SIZE = 4096;
/** Keys by a hash of their bytes; a hit is compared byte for byte, so a collision only costs a miss. */
const KEY_CACHE = new Map<number, { bytes: Uint8Array; key: string }>();
