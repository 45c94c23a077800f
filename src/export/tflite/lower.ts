/**
 * Lowers an inference Graph to TFLite operators, independent of the number format: the float and
 * the int8 writers serialise the same lowered program.
 *
 * Layout: TFLite is NHWC like the graph. CONV_2D and the pools need 4-D tensors, so every rank-3 value
 * [1, L, C] lives as [1, 1, L, C] (a 1-D conv is an H = 1 2-D conv); reshapes produce that form directly,
 * so a conv1d -> pool -> conv1d chain needs no reshape in between, and a flatten that only dense layers
 * read is no operator (FULLY_CONNECTED flattens its input itself).
 * Fusions: a channel_affine whose input is a conv/dense used only by it is folded into the weights
 * (batch-norm folding), and a relu that is the only consumer of a conv/dense (after folding), of an
 * add/mul or of an unfolded channel_affine becomes that operator's fused_activation_function
 * (Conv2D/FullyConnected/Add/MulOptions), as TFLite's converter does: a dendritic layer's last ADD
 * carries the network's following relu, and no RELU operator or tensor is left for it. The fused
 * tensor carries the relu's graph value, so int8 calibration takes the relu's (non-negative) range.
 */
import type { EvaluatedValue } from '../graph-eval.js';
import { forEachOp, type Graph, type GraphNode, type GraphOp, type GraphOpHandlers } from '../../engine/graph.js';
import type { Activation } from '../../engine/kernels.js';
import { ActivationFunctionType, BuiltinOperator, BuiltinOptions, Padding, type OptionsSpec } from './schema.js';

/** How an int8 activation tensor gets its quantization parameters. */
export type QuantRule =
  /** From the calibration range of the tensor's own values. */
  | { kind: 'range' }
  /** Fixed by the TFLite kernel (softmax and logistic outputs 1/256, -128; tanh 1/128, 0). */
  | { kind: 'fixed'; scale: number; zeroPoint: number }
  /** The same parameters as another tensor (reshape, pools: TFLite requires equal in/out scales). */
  | { kind: 'same'; tensor: number };

export type LoweredTensor =
  | {
      kind: 'activation';
      name: string;
      shape: number[];
      /** The float values of this tensor for one sample, from the reference interpreter's values. */
      values: (graphValues: Map<string, EvaluatedValue>) => Float64Array;
      /** The graph value this tensor carries (for reports). */
      graphValue: string;
      quant: QuantRule;
    }
  /** Conv weights [Cout, KH, KW, Cin] (per-channel int8) or dense weights [Fout, Fin] (per-tensor int8). */
  | { kind: 'weights'; name: string; shape: number[]; data: Float32Array; perChannel: boolean }
  /** Bias [Cout]: int32 with scale input_scale * weight_scale[c] in the int8 model. */
  | { kind: 'bias'; name: string; shape: number[]; data: Float32Array; input: number; weights: number }
  /** A constant operand of MUL/ADD (channel_affine's scale or shift), broadcast over the last axis. */
  | { kind: 'constant'; name: string; shape: number[]; data: Float32Array };

export interface LoweredOperator {
  code: BuiltinOperator;
  inputs: number[];
  outputs: number[];
  options: OptionsSpec;
  /** The graph node it came from (diagnostics). */
  from: string;
}

export interface LoweredModel {
  tensors: LoweredTensor[];
  operators: LoweredOperator[];
  input: number;
  output: number;
  features: number;
  classes: number;
}

/** The TFLite storage shape of a graph value: rank-3 [1, L, C] values are kept as [1, 1, L, C]. */
export function physicalShape(shape: number[]): number[] {
  return shape.length === 3 ? [shape[0]!, 1, shape[1]!, shape[2]!] : [...shape];
}

export function lowerGraph(graph: Graph): LoweredModel {
  return new Lowerer(graph).run();
}

const FIXED_OUTPUT: Partial<Record<GraphOp['op'], QuantRule>> = {
  softmax: { kind: 'fixed', scale: 1 / 256, zeroPoint: -128 },
  sigmoid: { kind: 'fixed', scale: 1 / 256, zeroPoint: -128 },
  tanh: { kind: 'fixed', scale: 1 / 128, zeroPoint: 0 },
};

const TFLITE_ACTIVATION: Record<Activation | 'softmax', BuiltinOperator> = {
  relu: BuiltinOperator.RELU,
  sigmoid: BuiltinOperator.LOGISTIC,
  tanh: BuiltinOperator.TANH,
  softmax: BuiltinOperator.SOFTMAX,
};

class Lowerer {
  private readonly tensors: LoweredTensor[] = [];
  private readonly operators: LoweredOperator[] = [];
  /** Graph value name -> tensor index. */
  private readonly tensorOf = new Map<string, number>();
  private readonly consumers = new Map<string, GraphNode[]>();
  private readonly absorbed = new Set<string>();
  private readonly byName = new Map<string, GraphNode>();

  constructor(private readonly graph: Graph) {
    for (const node of graph.nodes) {
      this.byName.set(node.name, node);
      for (const input of node.inputs) {
        const list = this.consumers.get(input) ?? [];
        list.push(node);
        this.consumers.set(input, list);
      }
    }
  }

  run(): LoweredModel {
    const inputNode = this.byName.get(this.graph.input);
    if (!inputNode || inputNode.spec.op !== 'input') {
      throw new Error(`exportTflite: graph input '${this.graph.input}' is not an input node`);
    }
    const outNode = this.byName.get(this.graph.output);
    if (!outNode) throw new Error(`exportTflite: graph output '${this.graph.output}' is not a node of the graph`);
    if (outNode.shape.length !== 2 || outNode.shape[0] !== 1 || outNode.shape[1] !== this.graph.classes) {
      throw new Error(`exportTflite: output '${outNode.name}' has shape [${outNode.shape.join(', ')}], expected [1, ${this.graph.classes}]`);
    }
    forEachOp(this.graph, this.handlers, 'exportTflite', (node) => this.absorbed.has(node.name));
    return {
      tensors: this.tensors,
      operators: this.operators,
      input: this.tensorIndex(this.graph.input),
      output: this.tensorIndex(this.graph.output),
      features: inputNode.spec.features,
      classes: this.graph.classes,
    };
  }

  /** One handler per graph op (engine/graph.ts checks that every op has one). */
  private readonly handlers: GraphOpHandlers = {
    input: (node) => {
      this.tensorOf.set(node.name, this.activation(node.name, node.shape, node.name, { kind: 'range' }));
    },
    reshape: (node) => this.emitReshape(node),
    flatten: (node) => this.emitReshape(node),
    conv: (node, spec) => this.emitConv(node, spec),
    dense: (node, spec) => this.emitDense(node, spec),
    maxpool: (node, spec) => this.emitPool(node, spec),
    avgpool: (node, spec) => this.emitPool(node, spec),
    relu: (node, spec) => this.emitActivation(node, spec.op),
    sigmoid: (node, spec) => this.emitActivation(node, spec.op),
    tanh: (node, spec) => this.emitActivation(node, spec.op),
    softmax: (node, spec) => this.emitActivation(node, spec.op),
    add: (node, spec) => this.emitBinary(node, spec.op),
    mul: (node, spec) => this.emitBinary(node, spec.op),
    channel_affine: (node, spec) => this.emitChannelAffine(node, spec),
  };

  private emitActivation(node: GraphNode, f: Activation | 'softmax'): void {
    const options: OptionsSpec = f === 'softmax' ? { type: BuiltinOptions.SoftmaxOptions, beta: 1 } : { type: BuiltinOptions.NONE };
    const out = this.activation(node.name, physicalShape(node.shape), node.name, FIXED_OUTPUT[f] ?? { kind: 'range' });
    this.op(TFLITE_ACTIVATION[f], [this.tensorIndex(node.inputs[0])], out, options, node);
  }

  private emitBinary(node: GraphNode, f: 'add' | 'mul'): void {
    if (node.inputs.length !== 2) throw new Error(`exportTflite: ${f} '${node.name}' needs 2 inputs, got ${node.inputs.length}`);
    const inputs = [this.tensorIndex(node.inputs[0]), this.tensorIndex(node.inputs[1])];
    const relu = this.takeRelu(node);
    const last = relu ?? node;
    const out = this.activation(last.name, physicalShape(last.shape), last.name, { kind: 'range' });
    const code = f === 'add' ? BuiltinOperator.ADD : BuiltinOperator.MUL;
    const type = f === 'add' ? BuiltinOptions.AddOptions : BuiltinOptions.MulOptions;
    this.op(code, inputs, out, { type, activation: relu ? ActivationFunctionType.RELU : ActivationFunctionType.NONE }, node);
    this.aliasAbsorbed(node, last, out);
  }

  private emitReshape(node: GraphNode): void {
    const input = this.tensorIndex(node.inputs[0]);
    const from = this.tensors[input]!;
    const target = physicalShape(node.shape);
    if (from.kind !== 'activation') throw new Error(`exportTflite: reshape '${node.name}' of a constant`);
    if (product(from.shape) !== product(target)) {
      throw new Error(`exportTflite: ${node.spec.op} '${node.name}': [${from.shape.join(', ')}] cannot become [${node.shape.join(', ')}]`);
    }
    if (node.name !== this.graph.output && (sameDims(from.shape, target) || this.onlyDenseReads(node))) {
      // The [1, F] -> [F] reshape of a dense model is the same tensor: no operator. Nor is a reshape that
      // only dense layers read (the flatten before a classifier): FULLY_CONNECTED (keep_num_dims false)
      // reads any input as [elements / in_features, in_features] in row-major order, which is what the
      // reshape would produce, so TFLM spends no RESHAPE (~1,150-1,700 setup + ~1,030 per-operator setup
      // instructions, its output tensor and its records) on it.
      this.tensorOf.set(node.name, input);
      return;
    }
    // The target is ReshapeOptions.new_shape alone (TFLM, TFLite and Arm NN read it when RESHAPE has one
    // input): an int32 shape tensor would cost a tensor record, its setup and file bytes.
    const out = this.activation(node.name, target, node.name, { kind: 'same', tensor: input });
    this.op(BuiltinOperator.RESHAPE, [input], out, { type: BuiltinOptions.ReshapeOptions, newShape: target }, node);
  }

  /**
   * Follows the single-consumer chain after a conv/dense: a channel_affine to fold, then a relu to fuse.
   * Returns the folded scale/shift, whether relu is fused and the graph value the op finally produces.
   */
  private absorbFollowers(node: GraphNode): { scale?: Float32Array; shift?: Float32Array; relu: boolean; last: GraphNode } {
    let last = node;
    let scale: Float32Array | undefined;
    let shift: Float32Array | undefined;
    const next = this.soleConsumer(last);
    if (next && next.spec.op === 'channel_affine') {
      scale = next.spec.scale;
      shift = next.spec.shift;
      this.absorbed.add(next.name);
      last = next;
    }
    const relu = this.takeRelu(last);
    if (relu) last = relu;
    return { ...(scale ? { scale } : {}), ...(shift ? { shift } : {}), relu: relu !== undefined, last };
  }

  /** Whether every reader of `n`'s value is a dense layer (at least one). */
  private onlyDenseReads(n: GraphNode): boolean {
    const list = this.consumers.get(n.name) ?? [];
    return list.length > 0 && list.every((c) => c.spec.op === 'dense');
  }

  /** The only node that reads `n`'s value, unless that value is the graph output or has other readers. */
  private soleConsumer(n: GraphNode): GraphNode | undefined {
    const list = this.consumers.get(n.name) ?? [];
    return n.name !== this.graph.output && list.length === 1 ? list[0] : undefined;
  }

  /**
   * The relu that is the sole consumer of `n`, marked absorbed: the operator producing `n` takes it as
   * its fused_activation_function and writes the relu's value (TFLite and TFLM clamp float and int8
   * outputs of CONV_2D, FULLY_CONNECTED, ADD and MUL to the activation's range).
   */
  private takeRelu(n: GraphNode): GraphNode | undefined {
    const next = this.soleConsumer(n);
    if (!next || next.spec.op !== 'relu') return undefined;
    this.absorbed.add(next.name);
    return next;
  }

  private emitConv(node: GraphNode, spec: Extract<GraphOp, { op: 'conv' }>): void {
    const input = this.tensorIndex(node.inputs[0]);
    const inShape = (this.tensors[input] as { shape: number[] }).shape;
    const ks = spec.kernelShape;
    const kh = spec.dims === 1 ? 1 : ks[0]!;
    const kw = spec.dims === 1 ? ks[0]! : ks[1]!;
    const cin = ks[spec.dims]!;
    const cout = ks[spec.dims + 1]!;
    if (ks.length !== spec.dims + 2 || inShape.length !== 4 || inShape[3] !== cin) {
      throw new Error(`exportTflite: conv '${node.name}': kernel [${ks.join(', ')}] does not fit input [${inShape.join(', ')}]`);
    }
    if (spec.kernel.length !== kh * kw * cin * cout || spec.bias.length !== cout) {
      throw new Error(`exportTflite: conv '${node.name}': kernel/bias lengths do not match kernelShape [${ks.join(', ')}]`);
    }
    const { scale, shift, relu, last } = this.absorbFollowers(node);
    // [KH, KW, Cin, Cout] -> [Cout, KH, KW, Cin], with a folded per-channel scale.
    const taps = kh * kw;
    const weights = new Float32Array(spec.kernel.length);
    for (let t = 0; t < taps; t++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          weights[(o * taps + t) * cin + i] = spec.kernel[(t * cin + i) * cout + o]! * (scale ? scale[o]! : 1);
        }
      }
    }
    const bias = foldBias(spec.bias, scale, shift);
    const w = this.push({ kind: 'weights', name: `${node.name}/weights`, shape: [cout, kh, kw, cin], data: weights, perChannel: true });
    const b = this.push({ kind: 'bias', name: `${node.name}/bias`, shape: [cout], data: bias, input, weights: w });
    const out = this.activation(last.name, physicalShape(last.shape), last.name, { kind: 'range' });
    const strideH = spec.dims === 1 ? 1 : spec.strides[0]!;
    const strideW = spec.dims === 1 ? spec.strides[0]! : spec.strides[1]!;
    this.op(
      BuiltinOperator.CONV_2D,
      [input, w, b],
      out,
      {
        type: BuiltinOptions.Conv2DOptions,
        padding: spec.padding === 'same' ? Padding.SAME : Padding.VALID,
        strideW,
        strideH,
        activation: relu ? ActivationFunctionType.RELU : ActivationFunctionType.NONE,
      },
      node,
    );
    this.aliasAbsorbed(node, last, out);
  }

  private emitDense(node: GraphNode, spec: Extract<GraphOp, { op: 'dense' }>): void {
    const input = this.tensorIndex(node.inputs[0]);
    const inShape = (this.tensors[input] as { shape: number[] }).shape;
    const { inFeatures: fin, outFeatures: fout } = spec;
    if (spec.kernel.length !== fin * fout || spec.bias.length !== fout || product(inShape) % fin !== 0) {
      throw new Error(`exportTflite: dense '${node.name}': input [${inShape.join(', ')}] / kernel do not fit [${fin}, ${fout}]`);
    }
    const { scale, shift, relu, last } = this.absorbFollowers(node);
    const weights = new Float32Array(fin * fout);
    for (let i = 0; i < fin; i++) {
      for (let o = 0; o < fout; o++) weights[o * fin + i] = spec.kernel[i * fout + o]! * (scale ? scale[o]! : 1);
    }
    const bias = foldBias(spec.bias, scale, shift);
    const w = this.push({ kind: 'weights', name: `${node.name}/weights`, shape: [fout, fin], data: weights, perChannel: false });
    const b = this.push({ kind: 'bias', name: `${node.name}/bias`, shape: [fout], data: bias, input, weights: w });
    // FULLY_CONNECTED treats its input as [rows, fin] and outputs [rows, fout]; a dense over the last
    // axis of a [1, L, C] value (rows = L) is reshaped back to the value's own shape afterwards.
    const rows = product(inShape) / fin;
    const target = physicalShape(last.shape);
    const fcShape = rows === 1 ? [1, fout] : [rows, fout];
    const direct = sameDims(fcShape, target);
    const fcOut = this.activation(direct ? last.name : `${last.name}/rows`, fcShape, last.name, { kind: 'range' });
    this.op(
      BuiltinOperator.FULLY_CONNECTED,
      [input, w, b],
      fcOut,
      { type: BuiltinOptions.FullyConnectedOptions, activation: relu ? ActivationFunctionType.RELU : ActivationFunctionType.NONE },
      node,
    );
    let out = fcOut;
    if (!direct) {
      out = this.activation(last.name, target, last.name, { kind: 'same', tensor: fcOut });
      this.op(BuiltinOperator.RESHAPE, [fcOut], out, { type: BuiltinOptions.ReshapeOptions, newShape: target }, node);
    }
    this.aliasAbsorbed(node, last, out);
  }

  private aliasAbsorbed(node: GraphNode, last: GraphNode, out: number): void {
    // Only `last` is visible to later nodes (the chain's other values have no other consumer).
    this.tensorOf.set(node.name, out);
    this.tensorOf.set(last.name, out);
  }

  private emitPool(node: GraphNode, spec: Extract<GraphOp, { op: 'maxpool' | 'avgpool' }>): void {
    const input = this.tensorIndex(node.inputs[0]);
    const twoD = spec.dims === 2;
    const out = this.activation(node.name, physicalShape(node.shape), node.name, { kind: 'same', tensor: input });
    this.op(
      spec.op === 'maxpool' ? BuiltinOperator.MAX_POOL_2D : BuiltinOperator.AVERAGE_POOL_2D,
      [input],
      out,
      {
        type: BuiltinOptions.Pool2DOptions,
        padding: spec.padding === 'same' ? Padding.SAME : Padding.VALID,
        strideW: twoD ? spec.strides[1]! : spec.strides[0]!,
        strideH: twoD ? spec.strides[0]! : 1,
        filterWidth: twoD ? spec.pool[1]! : spec.pool[0]!,
        filterHeight: twoD ? spec.pool[0]! : 1,
      },
      node,
    );
  }

  private emitChannelAffine(node: GraphNode, spec: Extract<GraphOp, { op: 'channel_affine' }>): void {
    const inputName = node.inputs[0]!;
    const input = this.tensorIndex(inputName);
    const channels = node.shape[node.shape.length - 1]!;
    if (spec.scale.length !== channels || (spec.shift && spec.shift.length !== channels)) {
      throw new Error(`exportTflite: channel_affine '${node.name}': scale/shift length must equal ${channels} channels`);
    }
    const shape = physicalShape(node.shape);
    const scale = this.push({ kind: 'constant', name: `${node.name}/scale`, shape: [channels], data: spec.scale });
    const mulOptions: OptionsSpec = { type: BuiltinOptions.MulOptions, activation: ActivationFunctionType.NONE };
    // A following relu fuses into the last operator (MUL, or the ADD of the shift).
    const relu = this.takeRelu(node);
    const last = relu ?? node;
    const fused = relu ? ActivationFunctionType.RELU : ActivationFunctionType.NONE;
    if (!spec.shift) {
      const out = this.activation(last.name, shape, last.name, { kind: 'range' });
      this.op(BuiltinOperator.MUL, [input, scale], out, { type: BuiltinOptions.MulOptions, activation: fused }, node);
      this.aliasAbsorbed(node, last, out);
      return;
    }
    const scaleValues = spec.scale;
    const scaled = this.tensors.length;
    this.tensors.push({
      kind: 'activation',
      name: `${node.name}/scaled`,
      shape,
      graphValue: `${node.name} (x * scale)`,
      quant: { kind: 'range' },
      values: (vals) => {
        const x = vals.get(inputName)!.data;
        return x.map((v, i) => v * scaleValues[i % channels]!);
      },
    });
    this.op(BuiltinOperator.MUL, [input, scale], scaled, mulOptions, node);
    const shift = this.push({ kind: 'constant', name: `${node.name}/shift`, shape: [channels], data: spec.shift });
    const out = this.activation(last.name, shape, last.name, { kind: 'range' });
    this.op(BuiltinOperator.ADD, [scaled, shift], out, { type: BuiltinOptions.AddOptions, activation: fused }, node);
    this.aliasAbsorbed(node, last, out);
  }

  private activation(name: string, shape: number[], graphValue: string, quant: QuantRule): number {
    return this.push({
      kind: 'activation',
      name,
      shape,
      graphValue,
      quant,
      values: (vals) => {
        const v = vals.get(graphValue);
        if (!v) throw new Error(`exportTflite: no calibration values for '${graphValue}'`);
        return v.data;
      },
    });
  }

  private push(t: LoweredTensor): number {
    this.tensors.push(t);
    return this.tensors.length - 1;
  }

  private op(code: BuiltinOperator, inputs: number[], output: number, options: OptionsSpec, node: GraphNode): void {
    this.operators.push({ code, inputs, outputs: [output], options, from: node.name });
    this.tensorOf.set(node.name, output);
  }

  private tensorIndex(name: string | undefined): number {
    const index = name === undefined ? undefined : this.tensorOf.get(name);
    if (index === undefined) throw new Error(`exportTflite: value '${String(name)}' is used before it is defined`);
    return index;
  }
}

function foldBias(bias: Float32Array, scale: Float32Array | undefined, shift: Float32Array | undefined): Float32Array {
  return Float32Array.from(bias, (b, o) => b * (scale ? scale[o]! : 1) + (shift ? shift[o]! : 0));
}

function sameDims(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
