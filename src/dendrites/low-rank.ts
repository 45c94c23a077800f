import { paramView, type ForwardContext, type Layer, type Param, type WrappableLayer } from '../engine/layer.js';
import type { Rng } from '../engine/rng.js';
import type { Shape, Tensor } from '../engine/tensor.js';
import type { GraphBuilder } from '../export/graph.js';
import { Dense } from '../engine/layers/dense.js';
import { Conv1D, Conv2D } from '../engine/layers/conv.js';
import { normal } from '../engine/init.js';

/**
 * A cheap dendrite branch with C out channels: D(x) = up(down(x)), where `down` has the wrapped layer's
 * geometry (same kernel, stride, padding) but only `rank` out channels, and `up` maps rank -> C per
 * position (Dense for a Dense base, a 1x1 convolution for a convolution base). No non-linearity in
 * between: D is the layer's own map restricted to rank r, so a set costs about r/C of a full copy.
 *
 * Both stages start LeCun-normal (N(0, 1/fan-in)): the pre-activation of every dendrite then varies
 * with the input at installation (a product of two 0.01-scaled stages would be ~1e-4 and sit at
 * f(0) with vanishing gradients). The function is still unchanged, because v starts at zero.
 * Exported as two plain Conv/Gemm nodes.
 */
export class LowRankBranch implements WrappableLayer {
  readonly kind = 'low_rank_branch';
  readonly outChannels: number;
  readonly rank: number;
  readonly down: WrappableLayer;
  readonly up: WrappableLayer;
  private readonly base: WrappableLayer;
  private baseName: string;
  private readonly views: Param[];

  constructor(base: WrappableLayer, name: string, rank: number, rng: Rng) {
    if (!(Number.isInteger(rank) && rank >= 1)) throw new Error(`LowRankBranch(${name}): rank must be an integer >= 1, got ${rank}`);
    this.base = base;
    this.baseName = name;
    this.rank = rank;
    this.outChannels = base.outChannels;
    [this.down, this.up] = lowRankStages(base, name, rank, rng);
    this.views = [
      ...this.down.params().map((p) => paramView(`down/${p.name}`, p)),
      ...this.up.params().map((p) => paramView(`up/${p.name}`, p)),
    ];
  }

  get name(): string {
    return this.baseName;
  }

  set name(n: string) {
    this.baseName = n;
    this.down.name = `${n}/down`;
    this.up.name = `${n}/up`;
  }

  outputShape(inputShape: Shape): number[] {
    return this.up.outputShape(this.down.outputShape(inputShape));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return this.up.forward(this.down.forward(x, ctx), ctx);
  }

  backward(dy: Tensor): Tensor {
    return this.down.backward(this.up.backward(dy));
  }

  backwardParamsOnly(dy: Tensor): void {
    const dh = this.up.backward(dy);
    if (this.down.backwardParamsOnly !== undefined) this.down.backwardParamsOnly(dh);
    else this.down.backward(dh);
  }

  params(): Param[] {
    return this.views;
  }

  macs(inputShape: Shape): number {
    return this.down.macs(inputShape) + this.up.macs(this.down.outputShape(inputShape));
  }

  toGraph(g: GraphBuilder, input: string, inputShape: Shape): string {
    const h = this.down.toGraph(g, input, inputShape);
    return this.up.toGraph(g, h, this.down.outputShape(inputShape));
  }

  sibling(name: string, rng: Rng, _initScale: number): LowRankBranch {
    return new LowRankBranch(this.base, name, this.rank, rng);
  }
}

/** Parameters of a rank-r branch on `base` (without building it): down (r channels) + up (r -> C). */
export function lowRankParameterCount(base: WrappableLayer, rank: number): number {
  const C = base.outChannels;
  const fanIn = base.params()[0]!.value.length / C; // kernel elements per output channel
  return fanIn * rank + rank + rank * C + C;
}

function lowRankStages(base: WrappableLayer, name: string, r: number, rng: Rng): [WrappableLayer, WrappableLayer] {
  const C = base.outChannels;
  const lecun = (n: number, fanIn: number): Float32Array => normal(rng, n, 1 / Math.sqrt(fanIn));
  if (base instanceof Dense) {
    const fin = base.inFeatures;
    return [
      new Dense({ name: `${name}/down`, inFeatures: fin, units: r, rng, kernel: lecun(fin * r, fin) }),
      new Dense({ name: `${name}/up`, inFeatures: r, units: C, rng, kernel: lecun(r * C, r) }),
    ];
  }
  if (base instanceof Conv1D) {
    const fanIn = base.kernelSize * base.inChannels;
    return [
      new Conv1D({
        name: `${name}/down`, inChannels: base.inChannels, filters: r, kernelSize: base.kernelSize, stride: base.stride,
        padding: base.padding, rng, kernel: lecun(fanIn * r, fanIn),
      }),
      new Conv1D({ name: `${name}/up`, inChannels: r, filters: C, kernelSize: 1, padding: 'valid', rng, kernel: lecun(r * C, r) }),
    ];
  }
  if (base instanceof Conv2D) {
    const fanIn = base.kernelH * base.kernelW * base.inChannels;
    return [
      new Conv2D({
        name: `${name}/down`, inChannels: base.inChannels, filters: r, kernelSize: [base.kernelH, base.kernelW],
        stride: [base.strideH, base.strideW], padding: base.padding, rng, kernel: lecun(fanIn * r, fanIn),
      }),
      new Conv2D({ name: `${name}/up`, inChannels: r, filters: C, kernelSize: 1, padding: 'valid', rng, kernel: lecun(r * C, r) }),
    ];
  }
  throw new Error(`dendrites: no low-rank branch for layer '${(base as Layer).name}' of kind '${(base as Layer).kind}'`);
}

