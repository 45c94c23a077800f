import type { ForwardContext, Layer, Param } from '../layer.js';
import { reuse, type Shape, type Tensor } from '../tensor.js';
import type { GraphBuilder } from '../graph.js';
import { kernels } from '../kernels.js';

/** Inverted dropout: in training, zero each element with probability `rate` and scale the rest by 1/(1-rate). */
export class Dropout implements Layer {
  readonly kind = 'dropout';
  name: string;
  readonly rate: number;
  private mask: Float32Array | undefined;
  private y: Float32Array | undefined;
  private dx: Float32Array | undefined;
  /** True when the last forward pass dropped (training with rate > 0), so backward must apply the mask. */
  private masked = false;

  constructor(o: { name: string; rate: number }) {
    if (!(o.rate >= 0 && o.rate < 1)) throw new Error(`Dropout(${o.name}): rate must be in [0, 1), got ${o.rate}`);
    this.name = o.name;
    this.rate = o.rate;
  }

  outputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.masked = ctx.training && this.rate > 0;
    if (!this.masked) return x;
    const n = x.data.length;
    const mask = (this.mask = reuse(this.mask, n));
    const y = (this.y = reuse(this.y, n));
    const keep = 1 - this.rate;
    const scale = 1 / keep;
    kernels.dropout(x.data, y, mask, keep, scale, ctx.rng);
    return { data: y, shape: x.shape };
  }

  backward(dy: Tensor): Tensor {
    if (!this.masked) return dy;
    const mask = this.mask!;
    const dx = (this.dx = reuse(this.dx, dy.data.length));
    kernels.mul(dy.data, mask, dx);
    return { data: dx, shape: dy.shape };
  }

  params(): Param[] {
    return [];
  }

  macs(_inputShape: Shape): number {
    return 0;
  }

  /** Dropout is the identity at inference: it emits nothing. */
  toGraph(_g: GraphBuilder, input: string, _inputShape: Shape): string {
    return input;
  }
}
