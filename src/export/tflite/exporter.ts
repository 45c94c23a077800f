/**
 * TFLite export of the inference Graph: `model.tflite` (float32 input [1, F], float32 output
 * [1, classes] probabilities), the file name Edge Impulse takes as is. The int8 variant
 * (`model_quantized_int8_io.tflite`) is in quantize.ts; both serialise the same lowered program
 * (tflite-lower.ts) through `assembleModel`.
 */
import type { Graph } from '../../engine/graph.js';
import { lowerGraph, type LoweredModel, type LoweredTensor } from './lower.js';
import { BuiltinOperator, TensorType, writeTfliteModel, type OperatorCodeSpec, type QuantizationSpec, type TensorSpec } from './schema.js';

export const TFLITE_FLOAT_FILE = 'model.tflite';
export const TFLITE_INT8_FILE = 'model_quantized_int8_io.tflite';

export interface TfliteExportOptions {
  description?: string;
}

/** Serialises `graph` to the bytes of a float32 .tflite file. */
export function exportTfliteFloat(graph: Graph, opts: TfliteExportOptions = {}): Uint8Array {
  const lowered = lowerGraph(graph);
  return assembleModel(lowered, {
    description: opts.description ?? 'Dendritic network: float32 input [1, F] (flat Edge Impulse features), output [1, classes] softmax probabilities.',
    tensor: (t) => floatTensor(t),
    opVersion: () => 1,
  });
}

/** How one lowered tensor is stored: its type, quantization and constant bytes. */
export interface StoredTensor {
  type: TensorType;
  quantization?: QuantizationSpec;
  /** Constant data (little-endian); undefined for activations. */
  data?: Uint8Array;
}

export interface AssemblyRules {
  description: string;
  tensor: (t: LoweredTensor, index: number) => StoredTensor;
  opVersion: (code: BuiltinOperator) => number;
}

/** Builds the flatbuffer of a lowered model, with each tensor's storage decided by `rules`. */
export function assembleModel(lowered: LoweredModel, rules: AssemblyRules): Uint8Array {
  const buffers: Uint8Array[] = [new Uint8Array(0)];
  const tensors: TensorSpec[] = lowered.tensors.map((t, i) => {
    const stored = rules.tensor(t, i);
    let buffer = 0;
    if (stored.data) {
      buffers.push(stored.data);
      buffer = buffers.length - 1;
    }
    return {
      shape: t.shape,
      type: stored.type,
      buffer,
      name: t.name,
      ...(stored.quantization ? { quantization: stored.quantization } : {}),
    };
  });
  const codes: OperatorCodeSpec[] = [];
  const codeIndex = new Map<BuiltinOperator, number>();
  const operators = lowered.operators.map((op) => {
    let index = codeIndex.get(op.code);
    if (index === undefined) {
      index = codes.length;
      codes.push({ code: op.code, version: rules.opVersion(op.code) });
      codeIndex.set(op.code, index);
    }
    return { opcodeIndex: index, inputs: op.inputs, outputs: op.outputs, options: op.options };
  });
  return writeTfliteModel({
    description: rules.description,
    operatorCodes: codes,
    tensors,
    inputs: [lowered.input],
    outputs: [lowered.output],
    operators,
    buffers,
    subgraphName: 'main',
  });
}

function floatTensor(t: LoweredTensor): StoredTensor {
  switch (t.kind) {
    case 'activation':
      return { type: TensorType.FLOAT32 };
    default:
      return { type: TensorType.FLOAT32, data: float32Bytes(t.data) };
  }
}

export function float32Bytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

export function int32Bytes(values: Int32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i]!, true);
  return bytes;
}
