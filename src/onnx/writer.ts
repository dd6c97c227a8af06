// A small ONNX writer: graphs of standard operators with float32 weights, encoded as the ONNX
// protobuf (onnx.proto, IR version 8) by hand — only the handful of message fields a feed-forward
// graph needs, so no protobuf library or schema file is required.

/** Tensor element types used here (onnx.proto TensorProto.DataType). */
const FLOAT = 1;
const INT64 = 7;
const IR_VERSION = 8;
/** Opset 13: Reduce* take `axes` as an attribute, supported by every current runtime. */
export const OPSET = 13;

export type Attribute = number | number[] | string;

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integers become INT/INTS attributes, other numbers FLOAT; strings STRING. */
  attributes?: Record<string, Attribute>;
  /** Attributes that must be FLOAT even when their value is a whole number. */
  floatAttributes?: string[];
}

export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: float32 with the given dimensions (a string is a symbolic dimension, e.g. 'batch'). */
export interface ValueInfo {
  name: string;
  dims: Array<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/** Growable byte buffer with the protobuf wire primitives. */
class ProtoWriter {
  private chunks: Uint8Array[] = [];

  private varint(value: bigint): void {
    const bytes: number[] = [];
    let v = BigInt.asUintN(64, value);
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      bytes.push(v > 0n ? low | 0x80 : low);
    } while (v > 0n);
    this.chunks.push(Uint8Array.from(bytes));
  }

  private key(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  int(field: number, value: number | bigint): this {
    this.key(field, 0);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.chunks.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(BigInt(value.byteLength));
    this.chunks.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

function attribute(w: ProtoWriter, name: string, value: Attribute, asFloat: boolean): void {
  // AttributeProto: name=1, f=2, i=3, s=4, floats=7, ints=8, type=20 (FLOAT=1, INT=2, STRING=3, FLOATS=6, INTS=7).
  w.string(1, name);
  if (typeof value === 'string') {
    w.string(4, value).int(20, 3);
  } else if (Array.isArray(value)) {
    const floats = asFloat || value.some((v) => !Number.isInteger(v));
    for (const v of value) floats ? w.float(7, v) : w.int(8, v);
    w.int(20, floats ? 6 : 7);
  } else if (asFloat || !Number.isInteger(value)) {
    w.float(2, value).int(20, 1);
  } else {
    w.int(3, value).int(20, 2);
  }
}

function node(w: ProtoWriter, n: OnnxNode, index: number): void {
  // NodeProto: input=1, output=2, name=3, op_type=4, attribute=5.
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  w.string(3, `${n.op}_${index}`);
  w.string(4, n.op);
  for (const [name, value] of Object.entries(n.attributes ?? {})) {
    w.message(5, (a) => attribute(a, name, value, n.floatAttributes?.includes(name) ?? false));
  }
}

function tensor(w: ProtoWriter, t: Initializer): void {
  // TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian).
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) throw new Error(`ONNX initializer ${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function valueInfo(w: ProtoWriter, v: ValueInfo): void {
  // ValueInfoProto{name=1, type=2}; TypeProto{tensor_type=1}; Tensor{elem_type=1, shape=2};
  // TensorShapeProto{dim=1}; Dimension{dim_value=1, dim_param=2}.
  w.string(1, v.name);
  w.message(2, (type) => type.message(1, (t) => {
    t.int(1, FLOAT);
    t.message(2, (shape) => {
      for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'string' ? dim.string(2, d) : dim.int(1, d)));
    });
  }));
}

/** The serialised ModelProto of `graph`, ready to write to a .onnx file. */
export function encodeModel(graph: OnnxGraph, producer = 'vasg'): Uint8Array {
  // ModelProto: ir_version=1, producer_name=2, graph=7, opset_import=8 (OperatorSetIdProto{domain=1, version=2}).
  // GraphProto: node=1, name=2, initializer=5, input=11, output=12.
  return new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, producer)
    .message(7, (g) => {
      graph.nodes.forEach((n, k) => g.message(1, (w) => node(w, n, k)));
      g.string(2, graph.name);
      for (const t of graph.initializers) g.message(5, (w) => tensor(w, t));
      for (const v of graph.inputs) g.message(11, (w) => valueInfo(w, v));
      for (const v of graph.outputs) g.message(12, (w) => valueInfo(w, v));
    })
    .message(8, (o) => o.string(1, '').int(2, OPSET))
    .finish();
}
