import type { ForwardContext, Param, WrappableLayer } from '../layer.js';
import type { Rng } from '../rng.js';
import { reuse, type Shape, type Tensor } from '../tensor.js';
import type { GraphBuilder } from '../graph.js';
import { glorotUniform, normal, zeros } from '../init.js';
import { kernels } from '../kernels.js';
import { spatialOf, windowGeometry, type Padding, type WindowGeometry } from '../padding.js';

/**
 * Convolution as im2col + one GEMM over the whole batch. A 1-D convolution is the 2-D one with
 * height 1, so both share this core. Kernel layout [KH, KW, Cin, Cout] = [KH*KW*Cin, Cout] row-major,
 * which makes an im2col row (kh, kw, c) line up with a kernel row.
 */
abstract class ConvCore implements WrappableLayer {
  abstract readonly kind: string;
  name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padding: Padding;
  readonly kernel: Param;
  readonly bias: Param;

  private x: Tensor | undefined;
  private geom: Geometry | undefined;
  private cols: Float32Array | undefined;
  private y: Float32Array | undefined;
  private dcols: Float32Array | undefined;
  private dx: Float32Array | undefined;

  protected constructor(
    name: string,
    inChannels: number,
    filters: number,
    kernel: [number, number],
    stride: [number, number],
    padding: Padding,
    kernelShape: number[],
    rng: Rng,
    value?: Float32Array,
  ) {
    if (!(inChannels > 0 && filters > 0 && kernel[0] > 0 && kernel[1] > 0 && stride[0] > 0 && stride[1] > 0)) {
      throw new Error(`${this.constructor.name}(${name}): channels, kernel and stride must be positive`);
    }
    this.name = name;
    this.inChannels = inChannels;
    this.outChannels = filters;
    [this.kernelH, this.kernelW] = kernel;
    [this.strideH, this.strideW] = stride;
    this.padding = padding;
    const field = kernel[0] * kernel[1];
    const n = field * inChannels * filters;
    const w = value ?? glorotUniform(rng, n, field * inChannels, field * filters);
    this.kernel = { name: 'kernel', shape: kernelShape, value: w, grad: zeros(n), trainable: true };
    this.bias = { name: 'bias', shape: [filters], value: zeros(filters), grad: zeros(filters), trainable: true };
  }

  /** 1 for [L, C] inputs (run as 2-D with H = 1; kernel [K, Cin, Cout]), 2 for [H, W, C] (kernel [KH, KW, Cin, Cout]). */
  protected get dims(): 1 | 2 {
    return this.kernel.shape.length === 3 ? 1 : 2;
  }
  protected abstract shapeOut(ho: number, wo: number): number[];

  abstract sibling(name: string, rng: Rng, initScale: number): WrappableLayer;

  private geometry(inputShape: Shape): Geometry {
    const where = `${this.kind}(${this.name})`;
    const hwc = spatialOf(where, inputShape, this.dims);
    if (hwc[2] !== this.inChannels) {
      throw new Error(`${where}: expected ${this.inChannels} input channels, got [${inputShape.join(', ')}]`);
    }
    const size: [number, number] = [this.kernelH, this.kernelW];
    return windowGeometry(where, inputShape, hwc, size, [this.strideH, this.strideW], this.padding, 'kernel');
  }

  outputShape(inputShape: Shape): number[] {
    const g = this.geometry(inputShape);
    return this.shapeOut(g.ho, g.wo);
  }

  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    const n = x.shape[0]!;
    const g = this.geometry(x.shape.slice(1));
    const rows = n * g.ho * g.wo;
    const depth = this.kernelH * this.kernelW * this.inChannels;
    const cols = (this.cols = reuse(this.cols, rows * depth));
    kernels.im2col(x.data, cols, ...this.windows(n, g));
    const y = (this.y = reuse(this.y, rows * this.outChannels));
    kernels.gemm(rows, this.outChannels, depth, cols, this.kernel.value, y, false, this.bias.value);
    this.x = x;
    this.geom = g;
    return { data: y, shape: [n, ...this.shapeOut(g.ho, g.wo)] };
  }

  backwardParamsOnly(dy: Tensor): void {
    const { rows, depth } = this.backwardSizes();
    kernels.gemmTN(depth, this.outChannels, rows, this.cols!, dy.data, this.kernel.grad, true);
    kernels.addColumnSums(rows, this.outChannels, dy.data, this.bias.grad);
  }

  backward(dy: Tensor): Tensor {
    this.backwardParamsOnly(dy);
    const { rows, depth } = this.backwardSizes();
    const x = this.x!;
    const dcols = (this.dcols = reuse(this.dcols, rows * depth));
    kernels.gemmNT(rows, depth, this.outChannels, dy.data, this.kernel.value, dcols, false);
    const dx = (this.dx = reuse(this.dx, x.data.length));
    kernels.col2im(dcols, dx, ...this.windows(x.shape[0]!, this.geom!));
    return { data: dx, shape: x.shape };
  }

  private backwardSizes(): { rows: number; depth: number } {
    if (this.x === undefined || this.geom === undefined) {
      throw new Error(`${this.kind}(${this.name}): backward called before forward`);
    }
    const g = this.geom;
    return { rows: this.x.shape[0]! * g.ho * g.wo, depth: this.kernelH * this.kernelW * this.inChannels };
  }

  /** The positional window geometry of the kernels (see kernels.ts). */
  private windows(n: number, g: Geometry): Windows {
    return [n, g.h, g.w, g.c, g.ho, g.wo, g.padTop, g.padLeft, this.kernelH, this.kernelW, this.strideH, this.strideW];
  }

  params(): Param[] {
    return [this.kernel, this.bias];
  }

  macs(inputShape: Shape): number {
    const g = this.geometry(inputShape);
    return g.ho * g.wo * this.kernelH * this.kernelW * this.inChannels * this.outChannels;
  }

  toGraph(gb: GraphBuilder, input: string, inputShape: Shape): string {
    const twoD = this.dims === 2;
    return gb.add(this.name, [input], [1, ...this.outputShape(inputShape)], {
      op: 'conv',
      dims: this.dims,
      kernel: this.kernel.value.slice(),
      kernelShape: [...this.kernel.shape],
      bias: this.bias.value.slice(),
      strides: twoD ? [this.strideH, this.strideW] : [this.strideW],
      padding: this.padding,
    });
  }
}

type Windows = [number, number, number, number, number, number, number, number, number, number, number, number];

type Geometry = WindowGeometry;

export interface Conv1DOptions {
  name: string;
  inChannels: number;
  filters: number;
  kernelSize: number;
  stride?: number;
  padding?: Padding;
  rng: Rng;
  kernel?: Float32Array;
}

/** 1-D convolution on [N, L, C]; kernel [K, Cin, Cout]. */
export class Conv1D extends ConvCore {
  readonly kind = 'conv1d';

  constructor(o: Conv1DOptions) {
    const k = o.kernelSize;
    super(o.name, o.inChannels, o.filters, [1, k], [1, o.stride ?? 1], o.padding ?? 'same', [k, o.inChannels, o.filters], o.rng, o.kernel);
  }

  get kernelSize(): number {
    return this.kernelW;
  }

  get stride(): number {
    return this.strideW;
  }

  protected shapeOut(_ho: number, wo: number): number[] {
    return [wo, this.outChannels];
  }

  sibling(name: string, rng: Rng, initScale: number): Conv1D {
    return new Conv1D({
      name,
      inChannels: this.inChannels,
      filters: this.outChannels,
      kernelSize: this.kernelW,
      stride: this.strideW,
      padding: this.padding,
      rng,
      kernel: normal(rng, this.kernel.value.length, initScale),
    });
  }
}

export interface Conv2DOptions {
  name: string;
  inChannels: number;
  filters: number;
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  padding?: Padding;
  rng: Rng;
  kernel?: Float32Array;
}

/** 2-D convolution on [N, H, W, C]; kernel [KH, KW, Cin, Cout]. */
export class Conv2D extends ConvCore {
  readonly kind = 'conv2d';

  constructor(o: Conv2DOptions) {
    const k = pair(o.kernelSize);
    const s = pair(o.stride ?? 1);
    super(o.name, o.inChannels, o.filters, k, s, o.padding ?? 'same', [k[0], k[1], o.inChannels, o.filters], o.rng, o.kernel);
  }

  protected shapeOut(ho: number, wo: number): number[] {
    return [ho, wo, this.outChannels];
  }

  sibling(name: string, rng: Rng, initScale: number): Conv2D {
    return new Conv2D({
      name,
      inChannels: this.inChannels,
      filters: this.outChannels,
      kernelSize: [this.kernelH, this.kernelW],
      stride: [this.strideH, this.strideW],
      padding: this.padding,
      rng,
      kernel: normal(rng, this.kernel.value.length, initScale),
    });
  }
}

export function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}
