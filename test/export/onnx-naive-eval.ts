/**
 * Test oracle: a deliberately naive float64 evaluation of a Graph (batch 1, channels-last), written
 * from the op definitions with plain nested loops and no code shared with the exporter or the engine.
 */
import type { Graph, GraphNode } from '../../src/engine/graph.js';

interface Value {
  shape: number[];
  data: Float64Array;
}

export function naiveEvaluate(graph: Graph, x: Float32Array): Map<string, Value> {
  const values = new Map<string, Value>();
  const get = (node: GraphNode, i: number): Value => {
    const v = values.get(node.inputs[i]!);
    if (!v) throw new Error(`naiveEvaluate: missing input of ${node.name}`);
    return v;
  };
  for (const node of graph.nodes) {
    const s = node.spec;
    let out: Value;
    switch (s.op) {
      case 'input':
        out = { shape: [1, s.features], data: Float64Array.from(x) };
        break;
      case 'reshape':
      case 'flatten':
        out = { shape: node.shape, data: get(node, 0).data };
        break;
      case 'relu':
        out = map(get(node, 0), (v) => Math.max(v, 0));
        break;
      case 'sigmoid':
        out = map(get(node, 0), (v) => 1 / (1 + Math.exp(-v)));
        break;
      case 'tanh':
        out = map(get(node, 0), Math.tanh);
        break;
      case 'softmax':
        out = softmaxLastAxis(get(node, 0));
        break;
      case 'add':
      case 'mul': {
        const a = get(node, 0);
        const b = get(node, 1);
        if (a.data.length !== b.data.length) throw new Error('naiveEvaluate: only same-shape add/mul');
        const data = new Float64Array(a.data.length);
        for (let i = 0; i < data.length; i++) data[i] = s.op === 'add' ? a.data[i]! + b.data[i]! : a.data[i]! * b.data[i]!;
        out = { shape: a.shape, data };
        break;
      }
      case 'channel_affine': {
        const a = get(node, 0);
        const c = a.shape[a.shape.length - 1]!;
        const data = new Float64Array(a.data.length);
        for (let i = 0; i < data.length; i++) data[i] = a.data[i]! * s.scale[i % c]! + (s.shift ? s.shift[i % c]! : 0);
        out = { shape: a.shape, data };
        break;
      }
      case 'dense': {
        const a = get(node, 0);
        const rows = a.data.length / s.inFeatures;
        const data = new Float64Array(rows * s.outFeatures);
        for (let r = 0; r < rows; r++) {
          for (let o = 0; o < s.outFeatures; o++) {
            let acc = s.bias[o]!;
            for (let i = 0; i < s.inFeatures; i++) acc += a.data[r * s.inFeatures + i]! * s.kernel[i * s.outFeatures + o]!;
            data[r * s.outFeatures + o] = acc;
          }
        }
        out = { shape: node.shape, data };
        break;
      }
      case 'conv':
        out = conv(get(node, 0), s.dims, s.kernel, s.kernelShape, s.bias, s.strides, s.padding);
        break;
      case 'maxpool':
      case 'avgpool':
        out = pool(get(node, 0), s.dims, s.op, s.pool, s.strides, s.padding);
        break;
    }
    values.set(node.name, out);
  }
  return values;
}

function map(v: Value, f: (x: number) => number): Value {
  return { shape: v.shape, data: v.data.map(f) };
}

function softmaxLastAxis(v: Value): Value {
  const c = v.shape[v.shape.length - 1]!;
  const data = new Float64Array(v.data.length);
  for (let r = 0; r < v.data.length / c; r++) {
    let max = -Infinity;
    for (let i = 0; i < c; i++) max = Math.max(max, v.data[r * c + i]!);
    let sum = 0;
    for (let i = 0; i < c; i++) sum += Math.exp(v.data[r * c + i]! - max);
    for (let i = 0; i < c; i++) data[r * c + i] = Math.exp(v.data[r * c + i]! - max) / sum;
  }
  return { shape: v.shape, data };
}

/** Keras: 'same' pads floor(total/2) before; 'valid' none. Returns [out, padBefore]. */
function axis(size: number, k: number, stride: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [Math.floor((size - k) / stride) + 1, 0];
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return [out, Math.floor(total / 2)];
}

/** 1-D inputs are treated as H = 1 images. */
function asImage(v: Value, dims: 1 | 2): { h: number; w: number; c: number } {
  return dims === 1 ? { h: 1, w: v.shape[1]!, c: v.shape[2]! } : { h: v.shape[1]!, w: v.shape[2]!, c: v.shape[3]! };
}

function conv(v: Value, dims: 1 | 2, kernel: Float32Array, ks: number[], bias: Float32Array, strides: number[], padding: 'same' | 'valid'): Value {
  const { h, w, c } = asImage(v, dims);
  const kh = dims === 1 ? 1 : ks[0]!;
  const kw = dims === 1 ? ks[0]! : ks[1]!;
  const sh = dims === 1 ? 1 : strides[0]!;
  const sw = dims === 1 ? strides[0]! : strides[1]!;
  const cout = ks[ks.length - 1]!;
  const [ho, top] = axis(h, kh, sh, dims === 1 ? 'valid' : padding);
  const [wo, left] = axis(w, kw, sw, padding);
  const data = new Float64Array(ho * wo * cout);
  for (let oy = 0; oy < ho; oy++)
    for (let ox = 0; ox < wo; ox++)
      for (let o = 0; o < cout; o++) {
        let acc = bias[o]!;
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * sh + ky - top;
            const ix = ox * sw + kx - left;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let i = 0; i < c; i++) {
              acc += v.data[(iy * w + ix) * c + i]! * kernel[((ky * kw + kx) * c + i) * cout + o]!;
            }
          }
        data[(oy * wo + ox) * cout + o] = acc;
      }
  return { shape: dims === 1 ? [1, wo, cout] : [1, ho, wo, cout], data };
}

function pool(v: Value, dims: 1 | 2, op: 'maxpool' | 'avgpool', size: number[], strides: number[], padding: 'same' | 'valid'): Value {
  const { h, w, c } = asImage(v, dims);
  const kh = dims === 1 ? 1 : size[0]!;
  const kw = dims === 1 ? size[0]! : size[1]!;
  const sh = dims === 1 ? 1 : strides[0]!;
  const sw = dims === 1 ? strides[0]! : strides[1]!;
  const [ho, top] = axis(h, kh, sh, dims === 1 ? 'valid' : padding);
  const [wo, left] = axis(w, kw, sw, padding);
  const data = new Float64Array(ho * wo * c);
  for (let oy = 0; oy < ho; oy++)
    for (let ox = 0; ox < wo; ox++)
      for (let i = 0; i < c; i++) {
        let best = -Infinity;
        let sum = 0;
        let count = 0;
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * sh + ky - top;
            const ix = ox * sw + kx - left;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const value = v.data[(iy * w + ix) * c + i]!;
            best = Math.max(best, value);
            sum += value;
            count++;
          }
        data[(oy * wo + ox) * c + i] = op === 'maxpool' ? best : sum / count;
      }
  return { shape: dims === 1 ? [1, wo, c] : [1, ho, wo, c], data };
}
