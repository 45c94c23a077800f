/**
 * Reference interpreter of the inference Graph (batch 1, channels-last, float64 arithmetic).
 *
 * It is the float "truth" the TFLite files are compared against, and quantization calibration reads
 * the range of every intermediate value from it (`keepAll`). Plain loops, written from the op
 * definitions in graph.ts; no code is shared with the engine or the exporters.
 */
import type { Graph, GraphNode, GraphOp } from '../engine/graph.js';

export interface EvaluatedValue {
  /** The node's shape, batch of 1 included. */
  shape: number[];
  data: Float64Array;
}

export interface GraphEvalResult {
  /** The graph output (probabilities for a classifier), length `graph.classes`. */
  output: Float64Array;
  /** Every value by name, only with `keepAll`. */
  values?: Map<string, EvaluatedValue>;
}

export interface GraphEvalOptions {
  /** Keep every intermediate value (calibration); otherwise values are dropped after their last use. */
  keepAll?: boolean;
}

/** Evaluates `graph` on one sample `x` (the flat feature vector, length F). */
export function evalGraph(graph: Graph, x: Float32Array | Float64Array, opts: GraphEvalOptions = {}): GraphEvalResult {
  const values = new Map<string, EvaluatedValue>();
  const lastUse = opts.keepAll ? undefined : lastUses(graph);
  graph.nodes.forEach((node, index) => {
    const inputs = node.inputs.map((name) => {
      const v = values.get(name);
      if (!v) throw new Error(`evalGraph: node '${node.name}': input '${name}' is not defined before it`);
      return v;
    });
    const out = evalNode(node, inputs, x);
    if (out.data.length !== product(node.shape)) {
      throw new Error(`evalGraph: node '${node.name}' (${node.spec.op}) declares shape [${node.shape.join(', ')}] but produced ${out.data.length} values`);
    }
    values.set(node.name, { shape: node.shape, data: out.data });
    if (lastUse) {
      for (const name of node.inputs) if (lastUse.get(name) === index && name !== graph.output) values.delete(name);
    }
  });
  const output = values.get(graph.output);
  if (!output) throw new Error(`evalGraph: graph output '${graph.output}' is not a node of the graph`);
  return opts.keepAll ? { output: output.data, values } : { output: output.data };
}

/** Evaluates `n` samples of `X` (row-major [n, F]); returns the outputs [n, classes] as float32. */
export function evalGraphBatch(graph: Graph, X: Float32Array, n: number): Float32Array {
  const features = X.length / n;
  if (!Number.isInteger(features)) throw new Error(`evalGraphBatch: ${X.length} values do not split into ${n} samples`);
  const out = new Float32Array(n * graph.classes);
  for (let i = 0; i < n; i++) {
    out.set(evalGraph(graph, X.subarray(i * features, (i + 1) * features)).output, i * graph.classes);
  }
  return out;
}

function lastUses(graph: Graph): Map<string, number> {
  const last = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.inputs.forEach((name) => last.set(name, i)));
  return last;
}

function evalNode(node: GraphNode, inputs: EvaluatedValue[], x: Float32Array | Float64Array): EvaluatedValue {
  const spec = node.spec;
  const first = (): EvaluatedValue => {
    const v = inputs[0];
    if (!v) throw new Error(`evalGraph: node '${node.name}' (${spec.op}) has no input`);
    return v;
  };
  switch (spec.op) {
    case 'input':
      if (x.length !== spec.features) {
        throw new Error(`evalGraph: input '${node.name}' expects ${spec.features} features, got ${x.length}`);
      }
      return { shape: node.shape, data: Float64Array.from(x) };
    case 'reshape':
    case 'flatten':
      return { shape: node.shape, data: first().data };
    case 'relu':
      return elementwise(first(), (v) => (v > 0 ? v : 0));
    case 'sigmoid':
      return elementwise(first(), (v) => 1 / (1 + Math.exp(-v)));
    case 'tanh':
      return elementwise(first(), Math.tanh);
    case 'softmax':
      return softmaxLastAxis(first());
    case 'add':
    case 'mul':
      if (inputs.length !== 2) throw new Error(`evalGraph: ${spec.op} '${node.name}' needs 2 inputs, got ${inputs.length}`);
      return broadcastBinary(inputs[0]!, inputs[1]!, spec.op === 'add' ? (a, b) => a + b : (a, b) => a * b);
    case 'channel_affine':
      return channelAffine(first(), spec.scale, spec.shift);
    case 'dense':
      return dense(node, first(), spec);
    case 'conv':
      return conv(first(), spec);
    case 'maxpool':
    case 'avgpool':
      return pool(first(), spec);
    default: {
      const unknown: never = spec;
      throw new Error(`evalGraph: node '${node.name}': unsupported op ${JSON.stringify((unknown as GraphOp).op)}`);
    }
  }
}

function elementwise(v: EvaluatedValue, f: (x: number) => number): EvaluatedValue {
  const data = new Float64Array(v.data.length);
  for (let i = 0; i < data.length; i++) data[i] = f(v.data[i]!);
  return { shape: v.shape, data };
}

function softmaxLastAxis(v: EvaluatedValue): EvaluatedValue {
  const c = v.shape[v.shape.length - 1]!;
  const data = new Float64Array(v.data.length);
  for (let r = 0; r < v.data.length / c; r++) {
    let max = -Infinity;
    for (let i = 0; i < c; i++) max = Math.max(max, v.data[r * c + i]!);
    let sum = 0;
    for (let i = 0; i < c; i++) sum += data[r * c + i] = Math.exp(v.data[r * c + i]! - max);
    for (let i = 0; i < c; i++) data[r * c + i]! /= sum;
  }
  return { shape: v.shape, data };
}

/** Numpy broadcasting of the two per-sample shapes (right-aligned; a 1 stretches). */
function broadcastBinary(a: EvaluatedValue, b: EvaluatedValue, f: (x: number, y: number) => number): EvaluatedValue {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]): number[] => [...Array<number>(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => {
    const e = sb[i]!;
    if (d !== e && d !== 1 && e !== 1) {
      throw new Error(`evalGraph: cannot broadcast [${a.shape.join(', ')}] with [${b.shape.join(', ')}]`);
    }
    return Math.max(d, e);
  });
  const strideOf = (s: number[]): number[] => {
    const strides = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) {
      strides[i] = s[i] === 1 ? 0 : acc;
      acc *= s[i]!;
    }
    return strides;
  };
  const stA = strideOf(sa);
  const stB = strideOf(sb);
  const total = product(shape);
  const data = new Float64Array(total);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < total; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia += index[d]! * stA[d]!;
      ib += index[d]! * stB[d]!;
    }
    data[i] = f(a.data[ia]!, b.data[ib]!);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return { shape, data };
}

function channelAffine(v: EvaluatedValue, scale: Float32Array, shift: Float32Array | undefined): EvaluatedValue {
  const c = v.shape[v.shape.length - 1]!;
  if (scale.length !== c || (shift && shift.length !== c)) {
    throw new Error(`evalGraph: channel_affine: scale/shift length must equal the ${c} channels`);
  }
  const data = new Float64Array(v.data.length);
  for (let i = 0; i < data.length; i++) data[i] = v.data[i]! * scale[i % c]! + (shift ? shift[i % c]! : 0);
  return { shape: v.shape, data };
}

function dense(node: GraphNode, v: EvaluatedValue, spec: Extract<GraphOp, { op: 'dense' }>): EvaluatedValue {
  const { inFeatures: fin, outFeatures: fout, kernel, bias } = spec;
  // The engine's Dense acts on the last axis; a flat input of exactly `fin` values is one row.
  if (v.data.length % fin !== 0) {
    throw new Error(`evalGraph: dense '${node.name}': input [${v.shape.join(', ')}] does not fit ${fin} input features`);
  }
  const rows = v.data.length / fin;
  const data = new Float64Array(rows * fout);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < fout; o++) {
      let acc = bias[o]!;
      for (let i = 0; i < fin; i++) acc += v.data[r * fin + i]! * kernel[i * fout + o]!;
      data[r * fout + o] = acc;
    }
  }
  return { shape: [1, ...(rows === 1 ? [] : v.shape.slice(1, -1)), fout], data };
}

/** Keras geometry of one axis: output size and cells of padding before the first input cell. */
export function kerasAxis(size: number, k: number, stride: number, padding: 'same' | 'valid'): { out: number; before: number } {
  if (padding === 'valid') return { out: Math.floor((size - k) / stride) + 1, before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** 1-D values [1, L, C] are H = 1 images; the 1-D kernel/pool/stride become W-only. */
function asImage(v: EvaluatedValue, dims: 1 | 2): { h: number; w: number; c: number } {
  return dims === 1 ? { h: 1, w: v.shape[1]!, c: v.shape[2]! } : { h: v.shape[1]!, w: v.shape[2]!, c: v.shape[3]! };
}

function conv(v: EvaluatedValue, spec: Extract<GraphOp, { op: 'conv' }>): EvaluatedValue {
  const { h, w, c } = asImage(v, spec.dims);
  const ks = spec.kernelShape;
  const kh = spec.dims === 1 ? 1 : ks[0]!;
  const kw = spec.dims === 1 ? ks[0]! : ks[1]!;
  const sh = spec.dims === 1 ? 1 : spec.strides[0]!;
  const sw = spec.dims === 1 ? spec.strides[0]! : spec.strides[1]!;
  const cout = ks[ks.length - 1]!;
  if (ks[ks.length - 2] !== c) throw new Error(`evalGraph: conv input has ${c} channels, kernel expects ${ks[ks.length - 2]}`);
  const ay = kerasAxis(h, kh, sh, spec.dims === 1 ? 'valid' : spec.padding);
  const ax = kerasAxis(w, kw, sw, spec.padding);
  const data = new Float64Array(ay.out * ax.out * cout);
  for (let oy = 0; oy < ay.out; oy++) {
    for (let ox = 0; ox < ax.out; ox++) {
      for (let o = 0; o < cout; o++) {
        let acc = spec.bias[o]!;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky - ay.before;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx - ax.before;
            if (ix < 0 || ix >= w) continue;
            for (let i = 0; i < c; i++) acc += v.data[(iy * w + ix) * c + i]! * spec.kernel[((ky * kw + kx) * c + i) * cout + o]!;
          }
        }
        data[(oy * ax.out + ox) * cout + o] = acc;
      }
    }
  }
  const shape = spec.dims === 1 ? [1, ax.out, cout] : [1, ay.out, ax.out, cout];
  return { shape, data };
}

function pool(v: EvaluatedValue, spec: Extract<GraphOp, { op: 'maxpool' | 'avgpool' }>): EvaluatedValue {
  const { h, w, c } = asImage(v, spec.dims);
  const ph = spec.dims === 1 ? 1 : spec.pool[0]!;
  const pw = spec.dims === 1 ? spec.pool[0]! : spec.pool[1]!;
  const sh = spec.dims === 1 ? 1 : spec.strides[0]!;
  const sw = spec.dims === 1 ? spec.strides[0]! : spec.strides[1]!;
  const ay = kerasAxis(h, ph, sh, spec.dims === 1 ? 'valid' : spec.padding);
  const ax = kerasAxis(w, pw, sw, spec.padding);
  const isMax = spec.op === 'maxpool';
  const data = new Float64Array(ay.out * ax.out * c);
  for (let oy = 0; oy < ay.out; oy++) {
    for (let ox = 0; ox < ax.out; ox++) {
      for (let ch = 0; ch < c; ch++) {
        // Padded cells never win a max and are not counted in an average (Keras/TFLite 'same').
        let acc = isMax ? -Infinity : 0;
        let count = 0;
        for (let ky = 0; ky < ph; ky++) {
          const iy = oy * sh + ky - ay.before;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < pw; kx++) {
            const ix = ox * sw + kx - ax.before;
            if (ix < 0 || ix >= w) continue;
            const value = v.data[(iy * w + ix) * c + ch]!;
            acc = isMax ? Math.max(acc, value) : acc + value;
            count++;
          }
        }
        data[(oy * ax.out + ox) * c + ch] = isMax ? acc : acc / count;
      }
    }
  }
  const shape = spec.dims === 1 ? [1, ax.out, c] : [1, ay.out, ax.out, c];
  return { shape, data };
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
