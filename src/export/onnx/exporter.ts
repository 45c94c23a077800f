/**
 * ONNX export of the inference Graph (opset 13, IR version 7), for Edge Impulse's "model.onnx" output.
 *
 * The model takes the flat feature vector exactly as Edge Impulse delivers it, float32 `input` [1, F],
 * and returns class probabilities, float32 `output` [1, classes]: Edge Impulse copies the outputs straight
 * into the class confidences, so the graph must end in its softmax.
 *
 * Graph values are channels-last; ONNX Conv and pools are channels-first. Each value therefore remembers
 * which layouts it already exists in and is transposed lazily, only when a consumer needs the other one,
 * so a chain conv -> relu -> pool -> conv stays channels-first without transpose pairs in between.
 */
import { forEachOp, type Graph, type GraphNode, type GraphOp, type GraphOpHandlers } from '../../engine/graph.js';
import type { Activation } from '../../engine/kernels.js';
import {
  encodeModel,
  OnnxAttributeType,
  OnnxDataType,
  type AttributeMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from './proto.js';

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'output';

export interface OnnxExportOptions {
  /** Human-readable description stored in the model (shown by Netron and similar tools). */
  docString?: string;
  producerVersion?: string;
  graphName?: string;
  /** Stored as ModelProto.metadata_props, e.g. the class labels. */
  metadata?: Record<string, string>;
  /**
   * Default true: the graph output must be a softmax node, because Edge Impulse scores the outputs as
   * probabilities. Tests set false to check intermediate values directly.
   */
  requireProbabilities?: boolean;
}

/** Serialises `graph` to the bytes of a .onnx file. */
export function exportOnnx(graph: Graph, opts: OnnxExportOptions = {}): Uint8Array {
  const writer = new OnnxGraphWriter(graph);
  const outputNode = checkGraph(graph, opts.requireProbabilities ?? true);
  forEachOp(graph, writer.handlers, 'exportOnnx');
  writer.finishOutput(outputNode);

  const features = inputFeatures(graph);
  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    producer_name: 'dendritic',
    producer_version: opts.producerVersion ?? '',
    model_version: 1,
    doc_string:
      opts.docString ?? 'Dendritic network: float32 input [1, F] is the flat Edge Impulse feature vector; output [1, classes] are softmax probabilities.',
    graph: {
      name: opts.graphName ?? 'dendritic',
      node: writer.nodes,
      initializer: writer.initializers,
      input: [valueInfo(ONNX_INPUT_NAME, [1, features], 'flat feature vector, as Edge Impulse delivers it')],
      output: [valueInfo(ONNX_OUTPUT_NAME, [1, graph.classes], 'class probabilities (softmax)')],
      doc_string: `exported from ${graph.nodes.length} graph nodes`,
    },
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

function inputFeatures(graph: Graph): number {
  const node = graph.nodes.find((n) => n.name === graph.input);
  if (!node || node.spec.op !== 'input') throw new Error(`exportOnnx: graph input '${graph.input}' is not an input node`);
  return node.spec.features;
}

function checkGraph(graph: Graph, requireProbabilities: boolean): GraphNode {
  const out = graph.nodes.find((n) => n.name === graph.output);
  if (!out) throw new Error(`exportOnnx: graph output '${graph.output}' is not a node of the graph`);
  if (out.shape.length !== 2 || out.shape[0] !== 1 || out.shape[1] !== graph.classes) {
    throw new Error(`exportOnnx: output '${out.name}' has shape [${out.shape.join(', ')}], expected [1, ${graph.classes}]`);
  }
  if (requireProbabilities && out.spec.op !== 'softmax') {
    throw new Error(`exportOnnx: output '${out.name}' is '${out.spec.op}', expected a softmax so the outputs are probabilities`);
  }
  return out;
}

function valueInfo(name: string, dims: number[], doc: string): ValueInfoMessage {
  return {
    name,
    type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } },
    doc_string: doc,
  };
}

/** Where one graph value lives in the ONNX graph: channels-last and/or channels-first tensor names. */
interface Placed {
  /** Channels-last shape, batch included (the graph's own shape). */
  shape: number[];
  cl?: string;
  cf?: string;
}

type Layout = 'cl' | 'cf';

const ONNX_ACTIVATION: Record<Activation, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' };

class OnnxGraphWriter {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: TensorMessage[] = [];
  private readonly values = new Map<string, Placed>();
  private readonly usedNames = new Set<string>([ONNX_INPUT_NAME, ONNX_OUTPUT_NAME]);

  constructor(private readonly graph: Graph) {}

  /** One handler per graph op (engine/graph.ts checks that every op has one). */
  readonly handlers: GraphOpHandlers = {
    input: (node, spec) => this.emitInput(node, spec.features),
    reshape: (node) => this.emitReshape(node, 'reshape'),
    flatten: (node) => this.emitReshape(node, 'flatten'),
    conv: (node, spec) => this.emitConv(node, spec),
    maxpool: (node, spec) => this.emitPool(node, spec),
    avgpool: (node, spec) => this.emitPool(node, spec),
    dense: (node, spec) => this.emitDense(node, spec),
    relu: (node, spec) => this.emitActivation(node, spec.op),
    sigmoid: (node, spec) => this.emitActivation(node, spec.op),
    tanh: (node, spec) => this.emitActivation(node, spec.op),
    softmax: (node) => this.emitSoftmax(node),
    add: (node, spec) => this.emitBinary(node, spec.op),
    mul: (node, spec) => this.emitBinary(node, spec.op),
    channel_affine: (node, spec) => this.emitChannelAffine(node, spec),
  };

  /** Makes sure the graph output exists, channels-last, under the name `output`. */
  finishOutput(outNode: GraphNode): void {
    const placed = this.values.get(outNode.name);
    if (!placed) throw new Error(`exportOnnx: output '${outNode.name}' was never emitted`);
    const name = placed.cl ?? placed.cf;
    if (name !== ONNX_OUTPUT_NAME) {
      throw new Error(`exportOnnx: internal: output '${outNode.name}' was emitted as '${String(name)}'`);
    }
  }

  private emitInput(node: GraphNode, features: number): void {
    if (node.name !== this.graph.input) {
      throw new Error(`exportOnnx: input node '${node.name}' is not the graph input '${this.graph.input}'`);
    }
    if (node.shape.length !== 2 || node.shape[0] !== 1 || node.shape[1] !== features) {
      throw new Error(`exportOnnx: input node '${node.name}' shape [${node.shape.join(', ')}] is not [1, ${features}]`);
    }
    this.values.set(node.name, { shape: node.shape, cl: ONNX_INPUT_NAME, cf: ONNX_INPUT_NAME });
  }

  private emitReshape(node: GraphNode, op: 'reshape' | 'flatten'): void {
    const input = this.placed(node, 0);
    this.checkSameSize(node, input.shape);
    const unchanged = input.shape.length === node.shape.length && input.shape.every((d, i) => d === node.shape[i]);
    if (unchanged && node.name !== this.graph.output) {
      // A reshape to the same shape (the [1, F] -> [F] step of a dense model) is the same tensor: no node.
      this.values.set(node.name, input);
      return;
    }
    const x = this.channelsLast(node, 0);
    if (op === 'flatten') {
      this.setLayout(node, 'cl', this.op('Flatten', node, [x], [intAttr('axis', 1)]));
      return;
    }
    const shape = this.constInt64(`${node.name}_shape`, node.shape);
    this.setLayout(node, 'cl', this.op('Reshape', node, [x, shape]));
  }

  private emitConv(node: GraphNode, spec: Extract<GraphOp, { op: 'conv' }>): void {
    const input = this.placed(node, 0);
    const dims = spec.dims;
    const ks = spec.kernelShape;
    if (ks.length !== dims + 2 || input.shape.length !== dims + 2) {
      throw new Error(`exportOnnx: conv '${node.name}': kernelShape [${ks.join(', ')}] and input [${input.shape.join(', ')}] do not fit a ${dims}-D conv`);
    }
    const k = ks.slice(0, dims);
    const cin = ks[dims]!;
    const cout = ks[dims + 1]!;
    if (input.shape[dims + 1] !== cin) {
      throw new Error(`exportOnnx: conv '${node.name}': input has ${input.shape[dims + 1]} channels, kernel expects ${cin}`);
    }
    if (spec.kernel.length !== product(ks) || spec.bias.length !== cout) {
      throw new Error(`exportOnnx: conv '${node.name}': kernel/bias lengths do not match kernelShape [${ks.join(', ')}]`);
    }
    const geometry = spatialGeometry(input.shape.slice(1, -1), k, spec.strides, spec.padding);
    this.checkShape(node, [1, ...geometry.out, cout]);

    const weight = this.constFloat(`${node.name}_W`, [cout, cin, ...k], kernelToChannelsFirst(spec.kernel, k, cin, cout));
    const bias = this.constFloat(`${node.name}_B`, [cout], spec.bias);
    const x = this.inLayout(node, 0, 'cf');
    const y = this.op(
      'Conv',
      node,
      [x, weight, bias],
      [
        intsAttr('kernel_shape', k),
        intsAttr('strides', spec.strides),
        intsAttr('pads', geometry.pads),
        intsAttr(
          'dilations',
          k.map(() => 1),
        ),
        intAttr('group', 1),
      ],
    );
    this.setLayout(node, 'cf', y);
  }

  private emitPool(node: GraphNode, spec: Extract<GraphOp, { op: 'maxpool' | 'avgpool' }>): void {
    const input = this.placed(node, 0);
    if (input.shape.length !== spec.dims + 2 || spec.pool.length !== spec.dims || spec.strides.length !== spec.dims) {
      throw new Error(`exportOnnx: ${spec.op} '${node.name}': pool/strides/input rank do not fit ${spec.dims}-D pooling`);
    }
    const channels = input.shape[spec.dims + 1]!;
    const geometry = spatialGeometry(input.shape.slice(1, -1), spec.pool, spec.strides, spec.padding);
    this.checkShape(node, [1, ...geometry.out, channels]);
    const attrs = [intsAttr('kernel_shape', spec.pool), intsAttr('strides', spec.strides), intsAttr('pads', geometry.pads)];
    // Keras/TFLite average over the cells inside the input only; ONNX counts padding unless told not to.
    if (spec.op === 'avgpool') attrs.push(intAttr('count_include_pad', 0));
    const y = this.op(spec.op === 'maxpool' ? 'MaxPool' : 'AveragePool', node, [this.inLayout(node, 0, 'cf')], attrs);
    this.setLayout(node, 'cf', y);
  }

  private emitDense(node: GraphNode, spec: Extract<GraphOp, { op: 'dense' }>): void {
    const input = this.placed(node, 0);
    const fin = spec.inFeatures;
    const fout = spec.outFeatures;
    if (spec.kernel.length !== fin * fout || spec.bias.length !== fout) {
      throw new Error(`exportOnnx: dense '${node.name}': kernel/bias lengths do not match [${fin}, ${fout}]`);
    }
    const weight = this.constFloat(`${node.name}_W`, [fin, fout], spec.kernel);
    const bias = this.constFloat(`${node.name}_B`, [fout], spec.bias);
    const rank = input.shape.length;
    const last = input.shape[rank - 1];
    let x = this.channelsLast(node, 0);
    if (rank > 2 && last === fin) {
      // The engine's Dense acts on the last axis of any rank: MatMul broadcasts the same way.
      this.checkShape(node, [...input.shape.slice(0, -1), fout]);
      const projected = this.op('MatMul', node, [x, weight], [], `${node.name}_matmul`);
      this.setLayout(node, 'cl', this.op('Add', node, [projected, bias]));
      return;
    }
    if (rank > 2 && product(input.shape) === fin) {
      x = this.op('Flatten', node, [x], [intAttr('axis', 1)], `${node.name}_flat`);
    } else if (rank !== 2 || last !== fin) {
      throw new Error(`exportOnnx: dense '${node.name}': input [${input.shape.join(', ')}] does not fit ${fin} input features`);
    }
    this.checkShape(node, [1, fout]);
    this.setLayout(node, 'cl', this.op('Gemm', node, [x, weight, bias]));
  }

  /**
   * Elementwise: runs in whichever layout the input already has, preferring channels-first so a
   * conv -> activation -> conv chain needs no transposes.
   */
  private emitActivation(node: GraphNode, f: Activation): void {
    const input = this.placed(node, 0);
    const layout: Layout = input.cf !== undefined ? 'cf' : 'cl';
    this.setLayout(node, layout, this.op(ONNX_ACTIVATION[f], node, [this.inLayout(node, 0, layout)]));
  }

  /** Opset 13 Softmax normalises along `axis` only, which is the engine's softmax over channels. */
  private emitSoftmax(node: GraphNode): void {
    const x = this.channelsLast(node, 0);
    this.setLayout(node, 'cl', this.op('Softmax', node, [x], [intAttr('axis', -1)]));
  }

  private emitBinary(node: GraphNode, op: 'add' | 'mul'): void {
    if (node.inputs.length !== 2) {
      throw new Error(`exportOnnx: ${op} '${node.name}': expected 2 inputs, got ${node.inputs.length}`);
    }
    const a = this.placed(node, 0);
    const b = this.placed(node, 1);
    // Numpy broadcasting is defined on the channels-last shapes; channels-first is only equivalent when
    // the shapes match exactly (the dendrite case: base + v * sigmoid(D(x)) on two conv outputs).
    const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
    const layout: Layout = sameShape && a.cf !== undefined && b.cf !== undefined ? 'cf' : 'cl';
    const opType = op === 'add' ? 'Add' : 'Mul';
    this.setLayout(node, layout, this.op(opType, node, [this.inLayout(node, 0, layout), this.inLayout(node, 1, layout)]));
  }

  private emitChannelAffine(node: GraphNode, spec: Extract<GraphOp, { op: 'channel_affine' }>): void {
    const input = this.placed(node, 0);
    const channels = input.shape[input.shape.length - 1]!;
    if (spec.scale.length !== channels || (spec.shift !== undefined && spec.shift.length !== channels)) {
      throw new Error(`exportOnnx: channel_affine '${node.name}': scale/shift length must equal ${channels} channels`);
    }
    const rank = input.shape.length;
    const layout: Layout = rank > 2 && input.cf !== undefined ? 'cf' : 'cl';
    // Channels-first constants are [C, 1, ...] so they broadcast over the spatial axes that follow C.
    const constDims = layout === 'cf' ? [channels, ...Array<number>(rank - 2).fill(1)] : [channels];
    const x = this.inLayout(node, 0, layout);
    const scale = this.constFloat(`${node.name}_scale`, constDims, spec.scale);
    if (spec.shift === undefined) {
      this.setLayout(node, layout, this.op('Mul', node, [x, scale]));
      return;
    }
    const scaled = this.op('Mul', node, [x, scale], [], `${node.name}_scaled`);
    const shift = this.constFloat(`${node.name}_shift`, constDims, spec.shift);
    this.setLayout(node, layout, this.op('Add', node, [scaled, shift]));
  }

  private placed(node: GraphNode, index: number): Placed {
    const name = node.inputs[index];
    const placed = name === undefined ? undefined : this.values.get(name);
    if (!placed) throw new Error(`exportOnnx: node '${node.name}': input ${index} ('${String(name)}') is not defined before it`);
    return placed;
  }

  private channelsLast(node: GraphNode, index: number): string {
    return this.inLayout(node, index, 'cl');
  }

  /** The ONNX name of input `index` in `layout`, adding (once) the Transpose that produces it. */
  private inLayout(node: GraphNode, index: number, layout: Layout): string {
    const placed = this.placed(node, index);
    const existing = placed[layout];
    if (existing !== undefined) return existing;
    const source = layout === 'cl' ? placed.cf! : placed.cl!;
    const rank = placed.shape.length;
    const perm = layout === 'cl' ? channelsFirstToLast(rank) : channelsLastToFirst(rank);
    const valueName = node.inputs[index]!;
    const transposed = this.op('Transpose', node, [source], [intsAttr('perm', perm)], `${valueName}_${layout === 'cl' ? 'nlc' : 'ncl'}`);
    placed[layout] = transposed;
    return transposed;
  }

  private setLayout(node: GraphNode, layout: Layout, onnxName: string): void {
    const placed: Placed = { shape: node.shape };
    // Rank <= 2 values have a single layout: both names point to the same tensor.
    if (node.shape.length <= 2) {
      placed.cl = onnxName;
      placed.cf = onnxName;
    } else {
      placed[layout] = onnxName;
    }
    this.values.set(node.name, placed);
  }

  /**
   * Appends a node and returns its output name. Without `outputHint` the output is the graph node's own
   * value (named `output` for the graph output).
   */
  private op(opType: string, node: GraphNode, inputs: string[], attribute: AttributeMessage[] = [], outputHint?: string): string {
    const output =
      outputHint === undefined && node.name === this.graph.output && node.shape.length <= 2 ? ONNX_OUTPUT_NAME : this.uniqueName(outputHint ?? node.name);
    this.nodes.push({
      name: this.uniqueName(`${opType}_${outputHint ?? node.name}`),
      op_type: opType,
      input: inputs,
      output: [output],
      attribute,
      doc_string: `from graph node '${node.name}' (${node.spec.op})`,
    });
    return output;
  }

  private constFloat(name: string, dims: number[], values: Float32Array): string {
    const unique = this.uniqueName(name);
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    this.initializers.push({ name: unique, dims, data_type: OnnxDataType.FLOAT, raw_data: bytes });
    return unique;
  }

  private constInt64(name: string, values: number[]): string {
    const unique = this.uniqueName(name);
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name: unique, dims: [values.length], data_type: OnnxDataType.INT64, raw_data: bytes });
    return unique;
  }

  private uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.\-/]/g, '_') || 'v';
    let name = clean;
    for (let i = 1; this.usedNames.has(name); i++) name = `${clean}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  private checkShape(node: GraphNode, expected: number[]): void {
    if (expected.length !== node.shape.length || expected.some((d, i) => d !== node.shape[i])) {
      throw new Error(
        `exportOnnx: node '${node.name}' (${node.spec.op}) declares shape [${node.shape.join(', ')}], its op gives [${expected.join(', ')}]`,
      );
    }
  }

  private checkSameSize(node: GraphNode, inputShape: number[]): void {
    if (product(inputShape) !== product(node.shape)) {
      throw new Error(`exportOnnx: ${node.spec.op} '${node.name}': [${inputShape.join(', ')}] cannot become [${node.shape.join(', ')}]`);
    }
  }
}

/**
 * Output sizes and ONNX `pads` ([begin..., end...]) of a conv/pool, Keras semantics as in the engine:
 * 'same': out = ceil(in / s), total = max((out - 1) * s + k - in, 0), begin = floor(total / 2);
 * 'valid': out = floor((in - k) / s) + 1, no padding.
 */
export function spatialGeometry(inSizes: number[], kernel: number[], strides: number[], padding: 'same' | 'valid'): { out: number[]; pads: number[] } {
  if (kernel.length !== inSizes.length || strides.length !== inSizes.length) {
    throw new Error(`spatialGeometry: ${inSizes.length} spatial axes but kernel [${kernel.join(', ')}], strides [${strides.join(', ')}]`);
  }
  const out: number[] = [];
  const begins: number[] = [];
  const ends: number[] = [];
  inSizes.forEach((size, axis) => {
    const k = kernel[axis]!;
    const s = strides[axis]!;
    if (padding === 'same') {
      const o = Math.ceil(size / s);
      const total = Math.max((o - 1) * s + k - size, 0);
      out.push(o);
      begins.push(Math.floor(total / 2));
      ends.push(total - Math.floor(total / 2));
    } else {
      out.push(Math.floor((size - k) / s) + 1);
      begins.push(0);
      ends.push(0);
    }
  });
  return { out, pads: [...begins, ...ends] };
}

/** [K..., Cin, Cout] (engine) -> [Cout, Cin, K...] (ONNX Conv weight). */
function kernelToChannelsFirst(kernel: Float32Array, k: number[], cin: number, cout: number): Float32Array {
  const taps = product(k);
  const out = new Float32Array(kernel.length);
  for (let t = 0; t < taps; t++) {
    for (let i = 0; i < cin; i++) {
      for (let o = 0; o < cout; o++) {
        out[(o * cin + i) * taps + t] = kernel[(t * cin + i) * cout + o]!;
      }
    }
  }
  return out;
}

function channelsLastToFirst(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

function channelsFirstToLast(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function intAttr(name: string, i: number): AttributeMessage {
  return { name, type: OnnxAttributeType.INT, i };
}

function intsAttr(name: string, ints: number[]): AttributeMessage {
  return { name, type: OnnxAttributeType.INTS, ints: [...ints] };
}
