import type { ForwardContext, Layer, Param } from '../layer.js';
import { reuse, type Shape, type Tensor } from '../tensor.js';
import type { GraphBuilder } from '../graph.js';
import { spatialOf, windowGeometry, type Padding, type WindowGeometry } from '../padding.js';
import { pair } from './conv.js';
import { kernels } from '../kernels.js';

/**
 * Max and average pooling, 1-D on [N, L, C] (as 2-D with height 1) and 2-D on [N, H, W, C].
 * 'same' padding follows Keras: padded cells never win a max and are not counted in an average.
 */
abstract class PoolCore implements Layer {
  abstract readonly kind: string;
  name: string;
  readonly poolH: number;
  readonly poolW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padding: Padding;
  protected x: Tensor | undefined;
  protected geom: PoolGeometry | undefined;
  protected y: Float32Array | undefined;
  protected dx: Float32Array | undefined;

  protected constructor(name: string, pool: [number, number], stride: [number, number], padding: Padding) {
    if (!(pool[0] > 0 && pool[1] > 0 && stride[0] > 0 && stride[1] > 0)) {
      throw new Error(`pool(${name}): pool size and strides must be positive`);
    }
    this.name = name;
    [this.poolH, this.poolW] = pool;
    [this.strideH, this.strideW] = stride;
    this.padding = padding;
  }

  protected abstract readonly dims: 1 | 2;

  protected geometry(s: Shape): PoolGeometry {
    const where = `${this.kind}(${this.name})`;
    const size: [number, number] = [this.poolH, this.poolW];
    return windowGeometry(where, s, spatialOf(where, s, this.dims), size, [this.strideH, this.strideW], this.padding, 'pool');
  }

  outputShape(inputShape: Shape): number[] {
    const g = this.geometry(inputShape);
    return this.dims === 1 ? [g.wo, g.c] : [g.ho, g.wo, g.c];
  }

  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    const n = x.shape[0]!;
    const g = this.geometry(x.shape.slice(1));
    const y = (this.y = reuse(this.y, n * g.ho * g.wo * g.c));
    this.x = x;
    this.geom = g;
    this.pool(x.data, n, g, y);
    return { data: y, shape: [n, ...this.outputShape(x.shape.slice(1))] };
  }

  backward(dy: Tensor): Tensor {
    if (this.x === undefined || this.geom === undefined) {
      throw new Error(`${this.kind}(${this.name}): backward called before forward`);
    }
    const dx = (this.dx = reuse(this.dx, this.x.data.length));
    this.unpool(dy.data, this.x.shape[0]!, this.geom, dx);
    return { data: dx, shape: this.x.shape };
  }

  protected abstract pool(x: Float32Array, n: number, g: PoolGeometry, y: Float32Array): void;
  /** Overwrites dx with dL/dx. */
  protected abstract unpool(dy: Float32Array, n: number, g: PoolGeometry, dx: Float32Array): void;

  /** Valid input window [lo, hi) of output index o along one axis. */
  protected window(o: number, stride: number, pad: number, k: number, size: number): [number, number] {
    const start = o * stride - pad;
    return [Math.max(start, 0), Math.min(start + k, size)];
  }

  params(): Param[] {
    return [];
  }

  /** Pooling compares or adds, it does not multiply-accumulate: 0 by the MAC rule (Layer.macs). */
  macs(_inputShape: Shape): number {
    return 0;
  }

  toGraph(gb: GraphBuilder, input: string, inputShape: Shape): string {
    const twoD = this.dims === 2;
    return gb.add(this.name, [input], [1, ...this.outputShape(inputShape)], {
      op: this.kind.startsWith('max') ? 'maxpool' : 'avgpool',
      dims: this.dims,
      pool: twoD ? [this.poolH, this.poolW] : [this.poolW],
      strides: twoD ? [this.strideH, this.strideW] : [this.strideW],
      padding: this.padding,
    });
  }
}

type PoolGeometry = WindowGeometry;

/** Max pooling; remembers the winning input index of every output for backward (first max wins ties). */
abstract class MaxPoolCore extends PoolCore {
  private argmax: Int32Array | undefined;

  protected pool(x: Float32Array, n: number, g: PoolGeometry, y: Float32Array): void {
    if (this.argmax === undefined || this.argmax.length !== y.length) this.argmax = new Int32Array(y.length);
    const { h, w, c, ho, wo, padTop, padLeft } = g;
    kernels.maxPool(x, y, this.argmax, n, h, w, c, ho, wo, padTop, padLeft, this.poolH, this.poolW, this.strideH, this.strideW);
  }

  protected unpool(dy: Float32Array, _n: number, _g: PoolGeometry, dx: Float32Array): void {
    kernels.maxPoolBackward(dy, this.argmax!, dx);
  }
}

/** Average pooling over the valid (unpadded) cells of each window. */
abstract class AvgPoolCore extends PoolCore {
  protected pool(x: Float32Array, n: number, g: PoolGeometry, y: Float32Array): void {
    this.sweep(
      n,
      g,
      (base, o, c, inv) => {
        for (let ch = 0; ch < c; ch++) y[o + ch] += x[base + ch] * inv;
      },
      y,
    );
  }

  protected unpool(dy: Float32Array, n: number, g: PoolGeometry, dx: Float32Array): void {
    dx.fill(0);
    this.sweep(n, g, (base, o, c, inv) => {
      for (let ch = 0; ch < c; ch++) dx[base + ch] += dy[o + ch] * inv;
    });
  }

  /** Calls visit(inputCellOffset, outputOffset, channels, 1/count) for every valid cell of every window. */
  private sweep(n: number, g: PoolGeometry, visit: (base: number, o: number, c: number, inv: number) => void, zeroOut?: Float32Array): void {
    const { h, w, c, ho, wo, padTop, padLeft } = g;
    zeroOut?.fill(0);
    let o = 0;
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let oh = 0; oh < ho; oh++) {
        const [h0, h1] = this.window(oh, this.strideH, padTop, this.poolH, h);
        for (let ow = 0; ow < wo; ow++, o += c) {
          const [w0, w1] = this.window(ow, this.strideW, padLeft, this.poolW, w);
          const inv = 1 / ((h1 - h0) * (w1 - w0));
          for (let ih = h0; ih < h1; ih++) {
            for (let iw = w0; iw < w1; iw++) visit(xb + (ih * w + iw) * c, o, c, inv);
          }
        }
      }
    }
  }
}

export interface Pool1DOptions {
  name: string;
  poolSize: number;
  /** Defaults to poolSize (Keras). */
  stride?: number;
  /** Defaults to 'valid' (Keras). */
  padding?: Padding;
}

export interface Pool2DOptions {
  name: string;
  poolSize: number | [number, number];
  stride?: number | [number, number];
  padding?: Padding;
}

/** The PoolCore constructor arguments with the Keras defaults (stride = pool size, 'valid'); 1-D runs as H = 1. */
function windowArgs(o: Pool1DOptions | Pool2DOptions, dims: 1 | 2): [string, [number, number], [number, number], Padding] {
  const axes = (v: number | [number, number]): [number, number] => (dims === 1 ? [1, v as number] : pair(v));
  return [o.name, axes(o.poolSize), axes(o.stride ?? o.poolSize), o.padding ?? 'valid'];
}

export class MaxPool1D extends MaxPoolCore {
  readonly kind = 'maxpool1d';
  protected readonly dims = 1;
  constructor(o: Pool1DOptions) {
    super(...windowArgs(o, 1));
  }
}

export class MaxPool2D extends MaxPoolCore {
  readonly kind = 'maxpool2d';
  protected readonly dims = 2;
  constructor(o: Pool2DOptions) {
    super(...windowArgs(o, 2));
  }
}

export class AvgPool1D extends AvgPoolCore {
  readonly kind = 'avgpool1d';
  protected readonly dims = 1;
  constructor(o: Pool1DOptions) {
    super(...windowArgs(o, 1));
  }
}

export class AvgPool2D extends AvgPoolCore {
  readonly kind = 'avgpool2d';
  protected readonly dims = 2;
  constructor(o: Pool2DOptions) {
    super(...windowArgs(o, 2));
  }
}
