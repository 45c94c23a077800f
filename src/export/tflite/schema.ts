/**
 * The part of TensorFlow Lite's flatbuffer schema (tensorflow/lite/schema/schema.fbs, file identifier
 * "TFL3", schema version 3) that our exporter writes, coded by hand for the `flatbuffers` package.
 *
 * Field ids are the declaration order in schema.fbs (flatbuffers slot = 4 + 2 * id); the enum numbers
 * are copied from the same file. Only fields we set are listed; readers skip absent fields, so the
 * tables stay valid for every TFLite and TFLite Micro version since 2.2.
 */
import { Builder, ByteBuffer, type Offset } from 'flatbuffers';

export const TFLITE_FILE_IDENTIFIER = 'TFL3';
export const TFLITE_SCHEMA_VERSION = 3;

export enum TensorType {
  FLOAT32 = 0,
  INT32 = 2,
  INT8 = 9,
}

export enum BuiltinOperator {
  ADD = 0,
  AVERAGE_POOL_2D = 1,
  CONV_2D = 3,
  FULLY_CONNECTED = 9,
  LOGISTIC = 14,
  MAX_POOL_2D = 17,
  MUL = 18,
  RELU = 19,
  RESHAPE = 22,
  SOFTMAX = 25,
  TANH = 28,
}

/** The BuiltinOptions union's type tags. */
export enum BuiltinOptions {
  NONE = 0,
  Conv2DOptions = 1,
  Pool2DOptions = 5,
  FullyConnectedOptions = 8,
  SoftmaxOptions = 9,
  AddOptions = 11,
  ReshapeOptions = 17,
  MulOptions = 21,
}

export enum Padding {
  SAME = 0,
  VALID = 1,
}

export enum ActivationFunctionType {
  NONE = 0,
  RELU = 1,
}

export interface QuantizationSpec {
  scale: number[];
  zeroPoint: number[];
  /** The axis the per-channel scales run along (0 for conv/dense weights). */
  quantizedDimension?: number;
}

export interface TensorSpec {
  shape: number[];
  type: TensorType;
  /** Index into the model's buffers; 0 is the empty buffer every activation tensor points to. */
  buffer: number;
  name: string;
  quantization?: QuantizationSpec;
}

export type OptionsSpec =
  | { type: BuiltinOptions.NONE }
  | {
      type: BuiltinOptions.Conv2DOptions;
      padding: Padding;
      strideW: number;
      strideH: number;
      activation: ActivationFunctionType;
    }
  | {
      type: BuiltinOptions.Pool2DOptions;
      padding: Padding;
      strideW: number;
      strideH: number;
      filterWidth: number;
      filterHeight: number;
    }
  | { type: BuiltinOptions.FullyConnectedOptions; activation: ActivationFunctionType }
  | { type: BuiltinOptions.SoftmaxOptions; beta: number }
  | { type: BuiltinOptions.AddOptions | BuiltinOptions.MulOptions; activation: ActivationFunctionType }
  | { type: BuiltinOptions.ReshapeOptions; newShape: number[] };

export interface OperatorCodeSpec {
  code: BuiltinOperator;
  version: number;
}

export interface OperatorSpec {
  opcodeIndex: number;
  inputs: number[];
  outputs: number[];
  options: OptionsSpec;
}

export interface ModelSpec {
  description: string;
  operatorCodes: OperatorCodeSpec[];
  tensors: TensorSpec[];
  inputs: number[];
  outputs: number[];
  operators: OperatorSpec[];
  /** buffers[0] must be empty (the convention for tensors without constant data). */
  buffers: Uint8Array[];
  subgraphName: string;
}

/** Serialises a model to the bytes of a .tflite file. */
export function writeTfliteModel(model: ModelSpec): Uint8Array {
  const b = new Builder(1024);

  const buffers = model.buffers.map((data) => {
    const dataOffset = data.length > 0 ? ubyteVector(b, data, 16) : 0;
    b.startObject(1);
    if (dataOffset) b.addFieldOffset(0, dataOffset, 0); // Buffer.data
    return b.endObject();
  });

  const tensors = model.tensors.map((t) => {
    const shape = int32Vector(b, t.shape);
    const name = b.createString(t.name);
    const quant = t.quantization ? quantization(b, t.quantization) : 0;
    b.startObject(5);
    b.addFieldOffset(0, shape, 0); // shape
    b.addFieldInt8(1, t.type, -1); // type (always written, FLOAT32 = 0 is the default)
    b.addFieldInt32(2, t.buffer, -1); // buffer
    b.addFieldOffset(3, name, 0); // name
    if (quant) b.addFieldOffset(4, quant, 0); // quantization
    return b.endObject();
  });

  const operators = model.operators.map((op) => {
    const inputs = int32Vector(b, op.inputs);
    const outputs = int32Vector(b, op.outputs);
    const options = builtinOptions(b, op.options);
    b.startObject(5);
    b.addFieldInt32(0, op.opcodeIndex, -1); // opcode_index (uint)
    b.addFieldOffset(1, inputs, 0); // inputs
    b.addFieldOffset(2, outputs, 0); // outputs
    if (options) {
      b.addFieldInt8(3, op.options.type, 0); // builtin_options_type
      b.addFieldOffset(4, options, 0); // builtin_options
    }
    return b.endObject();
  });

  const subgraphName = b.createString(model.subgraphName);
  const tensorVec = offsetVector(b, tensors);
  const inputVec = int32Vector(b, model.inputs);
  const outputVec = int32Vector(b, model.outputs);
  const operatorVec = offsetVector(b, operators);
  b.startObject(5);
  b.addFieldOffset(0, tensorVec, 0); // tensors
  b.addFieldOffset(1, inputVec, 0); // inputs
  b.addFieldOffset(2, outputVec, 0); // outputs
  b.addFieldOffset(3, operatorVec, 0); // operators
  b.addFieldOffset(4, subgraphName, 0); // name
  const subgraph = b.endObject();

  const codes = model.operatorCodes.map((c) => {
    b.startObject(4);
    // deprecated_builtin_code (int8) is what TFLite < 2.4 and TFLite Micro of that era read; builtin_code
    // (int32) is what newer readers prefer. All our codes are < 127, so both carry the same number.
    b.addFieldInt8(0, c.code, -1);
    b.addFieldInt32(2, c.version, -1); // version
    b.addFieldInt32(3, c.code, -1); // builtin_code
    return b.endObject();
  });

  const description = b.createString(model.description);
  const codeVec = offsetVector(b, codes);
  const subgraphVec = offsetVector(b, [subgraph]);
  const bufferVec = offsetVector(b, buffers);
  b.startObject(5);
  b.addFieldInt32(0, TFLITE_SCHEMA_VERSION, -1); // version
  b.addFieldOffset(1, codeVec, 0); // operator_codes
  b.addFieldOffset(2, subgraphVec, 0); // subgraphs
  b.addFieldOffset(3, description, 0); // description
  b.addFieldOffset(4, bufferVec, 0); // buffers
  const root = b.endObject();
  b.finish(root, TFLITE_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

function quantization(b: Builder, q: QuantizationSpec): Offset {
  const scale = float32Vector(b, q.scale);
  const zeroPoint = int64Vector(b, q.zeroPoint);
  b.startObject(7);
  b.addFieldOffset(2, scale, 0); // scale
  b.addFieldOffset(3, zeroPoint, 0); // zero_point
  b.addFieldInt32(6, q.quantizedDimension ?? 0, -1); // quantized_dimension
  return b.endObject();
}

function builtinOptions(b: Builder, o: OptionsSpec): Offset {
  switch (o.type) {
    case BuiltinOptions.NONE:
      return 0;
    case BuiltinOptions.Conv2DOptions:
      b.startObject(6);
      b.addFieldInt8(0, o.padding, -1); // padding
      b.addFieldInt32(1, o.strideW, -1); // stride_w
      b.addFieldInt32(2, o.strideH, -1); // stride_h
      b.addFieldInt8(3, o.activation, -1); // fused_activation_function
      b.addFieldInt32(4, 1, -1); // dilation_w_factor
      b.addFieldInt32(5, 1, -1); // dilation_h_factor
      return b.endObject();
    case BuiltinOptions.Pool2DOptions:
      b.startObject(6);
      b.addFieldInt8(0, o.padding, -1); // padding
      b.addFieldInt32(1, o.strideW, -1); // stride_w
      b.addFieldInt32(2, o.strideH, -1); // stride_h
      b.addFieldInt32(3, o.filterWidth, -1); // filter_width
      b.addFieldInt32(4, o.filterHeight, -1); // filter_height
      b.addFieldInt8(5, ActivationFunctionType.NONE, -1); // fused_activation_function
      return b.endObject();
    case BuiltinOptions.FullyConnectedOptions:
      b.startObject(3);
      b.addFieldInt8(0, o.activation, -1); // fused_activation_function
      b.addFieldInt8(1, 0, -1); // weights_format DEFAULT
      b.addFieldInt8(2, 0, -1); // keep_num_dims false
      return b.endObject();
    case BuiltinOptions.SoftmaxOptions:
      b.startObject(1);
      b.addFieldFloat32(0, o.beta, -1); // beta
      return b.endObject();
    case BuiltinOptions.AddOptions:
    case BuiltinOptions.MulOptions:
      b.startObject(1);
      b.addFieldInt8(0, o.activation, -1); // fused_activation_function
      return b.endObject();
    case BuiltinOptions.ReshapeOptions: {
      const shape = int32Vector(b, o.newShape);
      b.startObject(1);
      b.addFieldOffset(0, shape, 0); // new_shape
      return b.endObject();
    }
  }
}

function int32Vector(b: Builder, values: number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]!);
  return b.endVector();
}

function int64Vector(b: Builder, values: number[]): Offset {
  b.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(values[i]!));
  return b.endVector();
}

function float32Vector(b: Builder, values: number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]!);
  return b.endVector();
}

function ubyteVector(b: Builder, data: Uint8Array, alignment: number): Offset {
  b.startVector(1, data.length, alignment);
  for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]!);
  return b.endVector();
}

function offsetVector(b: Builder, offsets: Offset[]): Offset {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

/** What a runner needs to know about a model's input or output tensor. */
export interface TensorInfo {
  name: string;
  shape: number[];
  type: TensorType;
  scale?: number;
  zeroPoint?: number;
  /** Number of quantization scales (1 per tensor, or one per channel); 0 when not quantized. */
  quantChannels?: number;
}

/** Reads the (first subgraph's) input and output tensor descriptions back from .tflite bytes. */
export function readTfliteIo(bytes: Uint8Array): { inputs: TensorInfo[]; outputs: TensorInfo[]; operatorCount: number } {
  const bb = new ByteBuffer(bytes);
  if (bytes.length < 8 || !bb.__has_identifier(TFLITE_FILE_IDENTIFIER)) {
    throw new Error('readTfliteIo: not a TFLite flatbuffer (file identifier TFL3 missing)');
  }
  const model = bb.readInt32(bb.position()) + bb.position();
  const subgraphs = vectorAt(bb, model, 2);
  if (!subgraphs || subgraphs.length === 0) throw new Error('readTfliteIo: model has no subgraph');
  const subgraph = bb.__indirect(subgraphs.start);
  const tensors = vectorAt(bb, subgraph, 0)!;
  const ioList = (field: number): TensorInfo[] => {
    const v = vectorAt(bb, subgraph, field);
    const out: TensorInfo[] = [];
    for (let i = 0; i < (v?.length ?? 0); i++) {
      const index = bb.readInt32(v!.start + i * 4);
      out.push(readTensor(bb, bb.__indirect(tensors.start + index * 4)));
    }
    return out;
  };
  const operators = vectorAt(bb, subgraph, 3);
  return { inputs: ioList(1), outputs: ioList(2), operatorCount: operators?.length ?? 0 };
}

function fieldPos(bb: ByteBuffer, table: number, id: number): number {
  return bb.__offset(table, 4 + 2 * id);
}

function vectorAt(bb: ByteBuffer, table: number, id: number): { start: number; length: number } | undefined {
  const off = fieldPos(bb, table, id);
  if (!off) return undefined;
  return { start: bb.__vector(table + off), length: bb.__vector_len(table + off) };
}

function readTensor(bb: ByteBuffer, t: number): TensorInfo {
  const shapeVec = vectorAt(bb, t, 0);
  const shape: number[] = [];
  for (let i = 0; i < (shapeVec?.length ?? 0); i++) shape.push(bb.readInt32(shapeVec!.start + i * 4));
  const typeOff = fieldPos(bb, t, 1);
  const type = (typeOff ? bb.readInt8(t + typeOff) : 0) as TensorType;
  const nameOff = fieldPos(bb, t, 3);
  const name = nameOff ? (bb.__string(t + nameOff) as string) : '';
  const info: TensorInfo = { name, shape, type };
  const qOff = fieldPos(bb, t, 4);
  if (qOff) {
    const q = bb.__indirect(t + qOff);
    const scales = vectorAt(bb, q, 2);
    const zps = vectorAt(bb, q, 3);
    if (scales && scales.length > 0) info.scale = bb.readFloat32(scales.start);
    if (zps && zps.length > 0) info.zeroPoint = Number(bb.readInt64(zps.start));
    // TFLM keeps per-channel records only when both vectors are present (micro_allocator.cc).
    if (scales && scales.length > 0 && zps && zps.length > 0) info.quantChannels = scales.length;
  }
  return info;
}

export interface ConvGeometry {
  padding: 'same' | 'valid';
  strideW: number;
  strideH: number;
  dilationW: number;
  dilationH: number;
}

export interface TfliteGraph {
  /** Every tensor of the first subgraph; `constant` when its buffer holds data (weights, biases, shapes). */
  tensors: (TensorInfo & { constant: boolean })[];
  /** `code` is the builtin operator (the larger of builtin_code and deprecated_builtin_code, as TFLM reads it). */
  /** `conv`: a CONV_2D's strides and dilations (Conv2DOptions), which pick CMSIS-NN's code path. */
  operators: { code: BuiltinOperator; inputs: number[]; outputs: number[]; conv?: ConvGeometry }[];
  inputs: number[];
  outputs: number[];
}

/** Reads the first subgraph's tensors and operators back from .tflite bytes (what a planner sees). */
export function readTfliteGraph(bytes: Uint8Array): TfliteGraph {
  const bb = new ByteBuffer(bytes);
  if (bytes.length < 8 || !bb.__has_identifier(TFLITE_FILE_IDENTIFIER)) {
    throw new Error('readTfliteGraph: not a TFLite flatbuffer (file identifier TFL3 missing)');
  }
  const model = bb.readInt32(bb.position()) + bb.position();
  const buffers = vectorAt(bb, model, 4);
  const bufferHasData = (index: number): boolean => {
    if (!buffers || index <= 0 || index >= buffers.length) return false;
    const data = vectorAt(bb, bb.__indirect(buffers.start + index * 4), 0);
    return (data?.length ?? 0) > 0;
  };
  const subgraph = bb.__indirect(vectorAt(bb, model, 2)!.start);
  const ints = (table: number, field: number): number[] => {
    const v = vectorAt(bb, table, field);
    return Array.from({ length: v?.length ?? 0 }, (_, i) => bb.readInt32(v!.start + i * 4));
  };
  const tensorVec = vectorAt(bb, subgraph, 0)!;
  const tensors = Array.from({ length: tensorVec.length }, (_, i) => {
    const t = bb.__indirect(tensorVec.start + i * 4);
    const bufOff = fieldPos(bb, t, 2);
    return { ...readTensor(bb, t), constant: bufferHasData(bufOff ? bb.readUint32(t + bufOff) : 0) };
  });
  const codeVec = vectorAt(bb, model, 1);
  const codes = Array.from({ length: codeVec?.length ?? 0 }, (_, i) => {
    const c = bb.__indirect(codeVec!.start + i * 4);
    const deprecatedOff = fieldPos(bb, c, 0);
    const builtinOff = fieldPos(bb, c, 3);
    const deprecated = deprecatedOff ? bb.readInt8(c + deprecatedOff) : 0;
    const builtin = builtinOff ? bb.readInt32(c + builtinOff) : 0;
    return Math.max(deprecated, builtin) as BuiltinOperator;
  });
  const opVec = vectorAt(bb, subgraph, 3);
  const operators = Array.from({ length: opVec?.length ?? 0 }, (_, i) => {
    const op = bb.__indirect(opVec!.start + i * 4);
    const indexOff = fieldPos(bb, op, 0);
    const opcodeIndex = indexOff ? bb.readUint32(op + indexOff) : 0;
    const code = codes[opcodeIndex];
    if (code === undefined) throw new Error(`readTfliteGraph: operator ${i} names opcode ${opcodeIndex}, the model has ${codes.length}`);
    const base = { code, inputs: ints(op, 1), outputs: ints(op, 2) };
    if (code !== BuiltinOperator.CONV_2D) return base;
    // Conv2DOptions: padding (field 0, SAME = 0), stride_w (1), stride_h (2), dilation_w_factor (4),
    // dilation_h_factor (5, default 1).
    const optionsOff = fieldPos(bb, op, 4);
    const o = optionsOff ? bb.__indirect(op + optionsOff) : 0;
    const int = (field: number, fallback: number): number => {
      const at = o ? fieldPos(bb, o, field) : 0;
      return at ? bb.readInt32(o + at) : fallback;
    };
    const paddingAt = o ? fieldPos(bb, o, 0) : 0;
    const padding: ConvGeometry['padding'] = paddingAt && bb.readInt8(o + paddingAt) === 1 ? 'valid' : 'same';
    return { ...base, conv: { padding, strideW: int(1, 0), strideH: int(2, 0), dilationW: int(4, 1), dilationH: int(5, 1) } };
  });
  return { tensors, operators, inputs: ints(subgraph, 1), outputs: ints(subgraph, 2) };
}
