/**
 * Post-training full-integer quantization, as Edge Impulse's former conversion did it with TFLite's
 * converter: the validation set is the representative data, int8 input and output, int8 activations
 * (per-tensor, asymmetric, range from min/max of the calibration values), int8 weights (symmetric;
 * per-channel for CONV_2D, per-tensor for FULLY_CONNECTED, which is what the converter emits by default
 * and what TFLite 2.2 / TFLite Micro kernels of that era support), int32 biases with
 * scale = input_scale * weight_scale. Outputs of softmax and logistic are fixed at 1/256 (zero point
 * -128) and tanh at 1/128 (zero point 0), as the TFLite kernels require.
 *
 * The report names, for every activation tensor, its calibration range, its int8 parameters and the
 * fraction of calibration values that fall outside the int8 grid (clipped): when the int8 model loses
 * accuracy, this says which tensor's range saturates.
 */
import { userError } from '../../errors.js';
import { roundHalfAway } from './runtime.js';
import { evalGraph } from '../graph-eval.js';
import type { Graph } from '../../engine/graph.js';
import { assembleModel, int32Bytes, type StoredTensor } from './exporter.js';
import { lowerGraph, type LoweredModel, type LoweredTensor } from './lower.js';
import { BuiltinOperator, TensorType, type QuantizationSpec } from './schema.js';

export interface QuantizeOptions {
  /**
   * Calibration range per tensor: 'minmax' (default, TFLite's converter) or a percentile in (50, 100)
   * such as 99.99: the range [p(100 - q), p(q)], clipping the rarest values for a finer grid.
   */
  range?: 'minmax' | number;
  description?: string;
}

export interface TensorQuantReport {
  /** TFLite tensor name. */
  tensor: string;
  /** The graph value it carries. */
  graphValue: string;
  /**
   * Where its int8 parameters come from: its own calibration range, fixed by the kernel (softmax,
   * logistic, tanh outputs: values at the top of [0, 1] or [-1, 1] clip by less than one step), or the
   * same as its input (reshape, pools).
   */
  rule: 'range' | 'fixed' | 'same';
  /** Calibration range of the float values. */
  min: number;
  max: number;
  scale: number;
  zeroPoint: number;
  /** Fraction of calibration values outside the representable range [(-128 - zp) s, (127 - zp) s]. */
  clippedFraction: number;
}

export interface Int8Report {
  calibrationSamples: number;
  /** One entry per activation tensor, in the model's order. */
  tensors: TensorQuantReport[];
  /** Per weight tensor: the largest |w - dequantised w| relative to the tensor's max |w|. */
  weights: { tensor: string; maxRelativeError: number }[];
  /** Convenience: the tensor with the largest clipped fraction (undefined when nothing clips). */
  worstSaturation?: { tensor: string; graphValue: string; clippedFraction: number };
}

export interface Int8Export {
  bytes: Uint8Array;
  report: Int8Report;
}

/** Op versions the TFLite converter writes for int8 kernels (TFLite 2.2 and TFLite Micro accept them). */
const INT8_OP_VERSION: Record<BuiltinOperator, number> = {
  [BuiltinOperator.ADD]: 2,
  [BuiltinOperator.AVERAGE_POOL_2D]: 2,
  [BuiltinOperator.CONV_2D]: 3,
  [BuiltinOperator.FULLY_CONNECTED]: 4,
  [BuiltinOperator.LOGISTIC]: 2,
  [BuiltinOperator.MAX_POOL_2D]: 2,
  [BuiltinOperator.MUL]: 2,
  [BuiltinOperator.RELU]: 2,
  [BuiltinOperator.RESHAPE]: 1,
  [BuiltinOperator.SOFTMAX]: 2,
  [BuiltinOperator.TANH]: 2,
};

/** Quantizes `graph` with the n calibration samples of calibX ([n, F]) into an int8-I/O .tflite file. */
export function exportTfliteInt8(graph: Graph, calibX: Float32Array, n: number, opts: QuantizeOptions = {}): Int8Export {
  const lowered = lowerGraph(graph);
  const range = checkCalibration(lowered.features, calibX, n, opts.range ?? 'minmax');
  const stats = calibrate(graph, lowered, calibX, n, range);
  const params = activationParams(lowered, stats);
  const weightErrors: Int8Report['weights'] = [];
  const bytes = assembleModel(lowered, {
    description:
      opts.description ??
      'Dendritic network, full-integer int8: int8 input [1, F] and int8 output [1, classes] (softmax probabilities, scale 1/256, zero point -128).',
    tensor: int8TensorRule(params, weightErrors),
    opVersion: (code) => INT8_OP_VERSION[code],
  });
  return { bytes, report: int8Report(lowered, stats, params, n, weightErrors) };
}

/** Checks the calibration set's size and the range option; returns the range. */
function checkCalibration(features: number, calibX: Float32Array, n: number, range: 'minmax' | number): 'minmax' | number {
  if (!(Number.isInteger(n) && n > 0)) throw userError('exportTfliteInt8', 'n', `expected at least one calibration sample, got ${n}`);
  if (calibX.length !== n * features) {
    throw userError('exportTfliteInt8', 'calibX', `expected ${n} x ${features} = ${n * features} values, got ${calibX.length}`);
  }
  if (range !== 'minmax' && !(range > 50 && range < 100)) {
    throw userError('exportTfliteInt8', 'range', `expected 'minmax' or a percentile in (50, 100), got ${String(range)}`);
  }
  return range;
}

/**
 * How each lowered tensor is stored in the int8 model. assembleModel calls it in tensor order, so a
 * bias (after its weights) finds the weight scales; each weight tensor's error goes to `weightErrors`.
 */
function int8TensorRule(params: Map<number, QuantParams>, weightErrors: Int8Report['weights']): (t: LoweredTensor, i: number) => StoredTensor {
  const weightScales = new Map<number, number[]>();
  return (t, i) => {
    switch (t.kind) {
      case 'activation': {
        const p = params.get(i)!;
        return { type: TensorType.INT8, quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] } };
      }
      case 'weights': {
        const q = quantizeWeights(t.data, t.shape, t.perChannel);
        weightScales.set(i, q.scales);
        weightErrors.push({ tensor: t.name, maxRelativeError: q.maxRelativeError });
        const quantization: QuantizationSpec = { scale: q.scales, zeroPoint: q.scales.map(() => 0), quantizedDimension: 0 };
        return { type: TensorType.INT8, quantization, data: new Uint8Array(q.values.buffer) };
      }
      case 'bias': {
        const wScales = weightScales.get(t.weights);
        if (!wScales) throw new Error(`exportTfliteInt8: bias '${t.name}' comes before its weights`);
        return int32Bias(t.data, params.get(t.input)!.scale, wScales);
      }
      case 'constant': {
        const q = quantizeWeights(t.data, [t.data.length], false);
        return { type: TensorType.INT8, quantization: { scale: q.scales, zeroPoint: [0] }, data: new Uint8Array(q.values.buffer) };
      }
    }
  };
}

/** An int32 bias with scale input_scale * weight_scale[c] (one scale when the weights are per-tensor). */
function int32Bias(data: Float32Array, inputScale: number, wScales: number[]): StoredTensor {
  // TFLite checks bias_scale == input_scale * weight_scale in float32 arithmetic: compute it the same way.
  const scales = Array.from(data, (_, c) => Math.fround(Math.fround(inputScale) * Math.fround(wScales[wScales.length === 1 ? 0 : c]!)));
  const values = Int32Array.from(data, (b, c) => clampInt32(roundHalfAway(b / scales[c]!)));
  // A per-tensor bias must carry exactly one scale: TFLite reads the legacy single-scale field,
  // which it fills only when the scale vector has length 1.
  const stored = wScales.length === 1 ? [scales[0]!] : scales;
  return {
    type: TensorType.INT32,
    quantization: { scale: stored, zeroPoint: stored.map(() => 0), quantizedDimension: 0 },
    data: int32Bytes(values),
  };
}

/** Per activation tensor its range, int8 parameters and clipped fraction; the weights' errors; the worst saturation. */
function int8Report(
  lowered: LoweredModel,
  stats: Map<number, TensorStats>,
  params: Map<number, QuantParams>,
  n: number,
  weightErrors: Int8Report['weights'],
): Int8Report {
  const tensors: TensorQuantReport[] = [];
  lowered.tensors.forEach((t, i) => {
    if (t.kind !== 'activation') return;
    const p = params.get(i)!;
    const s = stats.get(i)!;
    tensors.push({
      tensor: t.name,
      graphValue: t.graphValue,
      rule: t.quant.kind,
      min: s.min,
      max: s.max,
      scale: p.scale,
      zeroPoint: p.zeroPoint,
      clippedFraction: clippedFraction(s, p),
    });
  });
  const worst = tensors.reduce<TensorQuantReport | undefined>((w, t) => (t.clippedFraction > (w?.clippedFraction ?? 0) ? t : w), undefined);
  return {
    calibrationSamples: n,
    tensors,
    weights: weightErrors,
    ...(worst ? { worstSaturation: { tensor: worst.tensor, graphValue: worst.graphValue, clippedFraction: worst.clippedFraction } } : {}),
  };
}

interface TensorStats {
  min: number;
  max: number;
  /** The range quantization uses (equals [min, max] for 'minmax'). */
  lo: number;
  hi: number;
  /** Every calibration value, kept only to count clipping (float32 to halve the memory). */
  samples: Float32Array;
}

/** Runs the reference interpreter over the calibration set and collects every activation tensor's values. */
function calibrate(graph: Graph, lowered: LoweredModel, X: Float32Array, n: number, range: 'minmax' | number): Map<number, TensorStats> {
  const activations = lowered.tensors.flatMap((t, i) => (t.kind === 'activation' ? [{ t, i }] : []));
  const collected = new Map<number, Float32Array>();
  for (let s = 0; s < n; s++) {
    const { values } = evalGraph(graph, X.subarray(s * lowered.features, (s + 1) * lowered.features), { keepAll: true });
    for (const { t, i } of activations) {
      const data = t.values(values!);
      let buf = collected.get(i);
      if (!buf) {
        buf = new Float32Array(data.length * n);
        collected.set(i, buf);
      }
      buf.set(data, s * data.length);
    }
  }
  const stats = new Map<number, TensorStats>();
  for (const [i, samples] of collected) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of samples) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    let lo = min;
    let hi = max;
    if (range !== 'minmax') {
      const sorted = Float32Array.from(samples).sort();
      lo = sorted[Math.floor(((100 - range) / 100) * (sorted.length - 1))]!;
      hi = sorted[Math.ceil((range / 100) * (sorted.length - 1))]!;
    }
    stats.set(i, { min, max, lo, hi, samples });
  }
  return stats;
}

interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** Asymmetric int8 parameters of a float range, which is widened to contain 0 (TFLite's rule). */
export function rangeToParams(lo: number, hi: number): QuantParams {
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  if (max - min < 1e-30) return { scale: 1 / 256, zeroPoint: -128 };
  const scale = Math.fround((max - min) / 255);
  const zeroPoint = Math.min(127, Math.max(-128, Math.round(-128 - min / scale)));
  return { scale, zeroPoint };
}

function activationParams(lowered: LoweredModel, stats: Map<number, TensorStats>): Map<number, QuantParams> {
  const params = new Map<number, QuantParams>();
  const resolve = (i: number): QuantParams => {
    const known = params.get(i);
    if (known) return known;
    const t = lowered.tensors[i]!;
    if (t.kind !== 'activation') throw new Error(`exportTfliteInt8: tensor '${t.name}' is not an activation`);
    let p: QuantParams;
    if (t.quant.kind === 'fixed') p = { scale: t.quant.scale, zeroPoint: t.quant.zeroPoint };
    else if (t.quant.kind === 'same') p = resolve(t.quant.tensor);
    else {
      const s = stats.get(i)!;
      p = rangeToParams(s.lo, s.hi);
    }
    params.set(i, p);
    return p;
  };
  lowered.tensors.forEach((t, i) => {
    if (t.kind === 'activation') resolve(i);
  });
  return params;
}

function clippedFraction(s: TensorStats, p: QuantParams): number {
  // Beyond half a step outside the grid, rounding no longer lands on the value's own cell.
  const lo = (-128 - p.zeroPoint - 0.5) * p.scale;
  const hi = (127 - p.zeroPoint + 0.5) * p.scale;
  let clipped = 0;
  for (const v of s.samples) if (v < lo || v > hi) clipped++;
  return s.samples.length === 0 ? 0 : clipped / s.samples.length;
}

/**
 * Symmetric int8 weights in [-127, 127]: one scale per slice along axis 0 (perChannel) or one for all.
 */
export function quantizeWeights(
  data: Float32Array,
  shape: number[],
  perChannel: boolean,
): { values: Int8Array; scales: number[]; maxRelativeError: number } {
  const channels = perChannel ? shape[0]! : 1;
  const per = data.length / channels;
  const values = new Int8Array(data.length);
  const scales: number[] = [];
  let maxAbsAll = 0;
  let maxErr = 0;
  for (let c = 0; c < channels; c++) {
    let maxAbs = 0;
    for (let j = 0; j < per; j++) maxAbs = Math.max(maxAbs, Math.abs(data[c * per + j]!));
    maxAbsAll = Math.max(maxAbsAll, maxAbs);
    // An all-zero channel still needs a positive scale; any value represents its zeros exactly.
    const scale = maxAbs > 0 ? Math.fround(maxAbs / 127) : 1;
    scales.push(scale);
    for (let j = 0; j < per; j++) {
      const w = data[c * per + j]!;
      const q = Math.max(-127, Math.min(127, roundHalfAway(w / scale)));
      values[c * per + j] = q;
      maxErr = Math.max(maxErr, Math.abs(w - q * scale));
    }
  }
  return { values, scales, maxRelativeError: maxAbsAll > 0 ? maxErr / maxAbsAll : 0 };
}

function clampInt32(v: number): number {
  return Math.max(-2147483648, Math.min(2147483647, v));
}
