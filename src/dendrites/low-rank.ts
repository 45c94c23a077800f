import { paramView, type ForwardContext, type Layer, type Param, type WrappableLayer } from '../engine/layer.js';
import { Rng } from '../engine/rng.js';
import { reuse, type Shape, type Tensor } from '../engine/tensor.js';
import type { GraphBuilder } from '../engine/graph.js';
import { Dense } from '../engine/layers/dense.js';
import { Conv1D, Conv2D } from '../engine/layers/conv.js';
import { normal } from '../engine/init.js';
import { kernels, type Activation } from '../engine/kernels.js';

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
    this.views = [...this.down.params().map((p) => paramView(`down/${p.name}`, p)), ...this.up.params().map((p) => paramView(`up/${p.name}`, p))];
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
  const fanIn = kernelFanIn(base);
  return [stageLike(base, `${name}/down`, r, lecun(fanIn * r, fanIn)), pointwiseStage(base, `${name}/up`, r, C, lecun(r * C, r))];
}

/** Kernel elements per output channel of a dense/conv layer. */
function kernelFanIn(base: WrappableLayer): number {
  return base.params()[0]!.value.length / base.outChannels;
}

/**
 * A layer with `base`'s geometry (same input, kernel, stride, padding) but `outChannels` outputs and the
 * given kernel (layout [K..., Cin, out] / [Fin, out]); bias zero unless given.
 */
export function stageLike(base: WrappableLayer, name: string, outChannels: number, kernel: Float32Array, bias?: Float32Array): WrappableLayer {
  const rng = new Rng(0); // unused: the kernel is given
  let layer: Dense | Conv1D | Conv2D;
  if (base instanceof Dense) layer = new Dense({ name, inFeatures: base.inFeatures, units: outChannels, rng, kernel });
  else if (base instanceof Conv1D) {
    layer = new Conv1D({
      name,
      inChannels: base.inChannels,
      filters: outChannels,
      kernelSize: base.kernelSize,
      stride: base.stride,
      padding: base.padding,
      rng,
      kernel,
    });
  } else if (base instanceof Conv2D) {
    layer = new Conv2D({
      name,
      inChannels: base.inChannels,
      filters: outChannels,
      kernelSize: [base.kernelH, base.kernelW],
      stride: [base.strideH, base.strideW],
      padding: base.padding,
      rng,
      kernel,
    });
  } else throw new Error(`dendrites: no low-rank branch for layer '${(base as Layer).name}' of kind '${(base as Layer).kind}'`);
  if (bias) layer.bias.value.set(bias);
  return layer;
}

/** A per-position map inChannels -> outChannels for `base`'s kind: Dense, or a 1x1 convolution of its dimension. */
export function pointwiseStage(
  base: WrappableLayer,
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: Float32Array,
  bias?: Float32Array,
): WrappableLayer {
  const rng = new Rng(0); // unused: the kernel is given
  let layer: Dense | Conv1D | Conv2D;
  if (base instanceof Dense) layer = new Dense({ name, inFeatures: inChannels, units: outChannels, rng, kernel });
  else if (base instanceof Conv1D) layer = new Conv1D({ name, inChannels, filters: outChannels, kernelSize: 1, padding: 'valid', rng, kernel });
  else if (base instanceof Conv2D) layer = new Conv2D({ name, inChannels, filters: outChannels, kernelSize: 1, padding: 'valid', rng, kernel });
  else throw new Error(`dendrites: no low-rank branch for layer '${(base as Layer).name}' of kind '${(base as Layer).kind}'`);
  if (bias) layer.bias.value.set(bias);
  return layer;
}

/**
 * The `merged` form's branch (dendrite-form merged): the activation sits in the branch's rank space,
 *   D(x) = up(f(down(x))),
 * with `down` of the wrapped layer's geometry and r outputs, `up` r -> C per position (as LowRankBranch).
 * Rank 0: `down` is a full copy of the layer (C outputs, N(0,1) x initScale) and there is no `up`:
 * D(x) = f(copy(x)). The wrapper multiplies D by its per-channel gate v with no further non-linearity,
 * so v folds into `up` at export and every set of a layer merges into one down (k·r outputs), one
 * activation and one up (k·r -> C): see DendriticLayer.toGraph.
 */
export class RankSpaceBranch implements WrappableLayer {
  readonly kind = 'rank_space_branch';
  readonly outChannels: number;
  readonly rank: number;
  readonly activation: Activation;
  readonly down: WrappableLayer;
  /** Undefined at rank 0 (the branch is f(copy(x))). */
  readonly up: WrappableLayer | undefined;
  private readonly base: WrappableLayer;
  private baseName: string;
  private readonly views: Param[];
  /** f(down(x)) from the last forward; then dL/d(down out) during backward. */
  private a: Float32Array | undefined;
  private g: Float32Array | undefined;
  private downShape: number[] | undefined;

  constructor(base: WrappableLayer, name: string, rank: number, activation: Activation, rng: Rng, initScale: number) {
    if (!(Number.isInteger(rank) && rank >= 0)) throw new Error(`RankSpaceBranch(${name}): rank must be an integer >= 0, got ${rank}`);
    this.base = base;
    this.baseName = name;
    this.rank = rank;
    this.activation = activation;
    this.outChannels = base.outChannels;
    if (rank === 0) {
      this.down = base.sibling(`${name}/down`, rng, initScale);
      this.up = undefined;
    } else {
      [this.down, this.up] = lowRankStages(base, name, rank, rng);
    }
    this.views = [...this.down.params().map((p) => paramView(`down/${p.name}`, p)), ...(this.up?.params().map((p) => paramView(`up/${p.name}`, p)) ?? [])];
  }

  get name(): string {
    return this.baseName;
  }

  set name(n: string) {
    this.baseName = n;
    this.down.name = `${n}/down`;
    if (this.up) this.up.name = `${n}/up`;
  }

  /** Channels of f's value: r (rank 0: the layer's C). */
  get innerChannels(): number {
    return this.down.outChannels;
  }

  outputShape(inputShape: Shape): number[] {
    const h = this.down.outputShape(inputShape);
    return this.up ? this.up.outputShape(h) : h;
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const h = this.down.forward(x, ctx);
    const a = (this.a = reuse(this.a, h.data.length));
    a.set(h.data);
    kernels.activate(this.activation, a);
    this.downShape = h.shape;
    const t = { data: a, shape: h.shape };
    return this.up ? this.up.forward(t, ctx) : t;
  }

  /** dL/d(down's output): through up (if any), then f'. */
  private innerGrad(dy: Tensor): Tensor {
    if (this.a === undefined || this.downShape === undefined) throw new Error(`RankSpaceBranch(${this.name}): backward called before forward`);
    const da = this.up ? this.up.backward(dy).data : dy.data;
    const g = (this.g = reuse(this.g, da.length));
    g.set(da);
    kernels.activationBackward(this.activation, this.a, g);
    return { data: g, shape: this.downShape };
  }

  backward(dy: Tensor): Tensor {
    return this.down.backward(this.innerGrad(dy));
  }

  backwardParamsOnly(dy: Tensor): void {
    const g = this.innerGrad(dy);
    if (this.down.backwardParamsOnly !== undefined) this.down.backwardParamsOnly(g);
    else this.down.backward(g);
  }

  params(): Param[] {
    return this.views;
  }

  macs(inputShape: Shape): number {
    return this.down.macs(inputShape) + (this.up?.macs(this.down.outputShape(inputShape)) ?? 0);
  }

  toGraph(g: GraphBuilder, input: string, inputShape: Shape): string {
    const h = this.down.toGraph(g, input, inputShape);
    const hs = this.down.outputShape(inputShape);
    const a = g.add(`${this.name}/f`, [h], [1, ...hs], { op: this.activation });
    return this.up ? this.up.toGraph(g, a, hs) : a;
  }

  sibling(name: string, rng: Rng, initScale: number): RankSpaceBranch {
    return new RankSpaceBranch(this.base, name, this.rank, this.activation, rng, initScale);
  }
}
