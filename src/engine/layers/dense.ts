import type { ForwardContext, Param, WrappableLayer } from '../layer.js';
import type { Rng } from '../rng.js';
import { reuse, sizeOf, type Shape, type Tensor } from '../tensor.js';
import type { GraphBuilder } from '../graph.js';
import { glorotUniform, normal, zeros } from '../init.js';
import { kernels } from '../kernels.js';

export interface DenseOptions {
  name: string;
  inFeatures: number;
  units: number;
  rng: Rng;
  /** Overrides the Glorot kernel (used by sibling()). */
  kernel?: Float32Array;
}

/** y = x . kernel + bias over the last axis; kernel stored [Fin, Fout] as in Keras. */
export class Dense implements WrappableLayer {
  readonly kind = 'dense';
  name: string;
  readonly inFeatures: number;
  readonly outChannels: number;
  readonly kernel: Param;
  readonly bias: Param;
  private x: Tensor | undefined;
  private y: Float32Array | undefined;
  private dx: Float32Array | undefined;

  constructor(o: DenseOptions) {
    if (!(o.inFeatures > 0 && o.units > 0)) {
      throw new Error(`Dense(${o.name}): inFeatures and units must be positive, got ${o.inFeatures}, ${o.units}`);
    }
    this.name = o.name;
    this.inFeatures = o.inFeatures;
    this.outChannels = o.units;
    const n = o.inFeatures * o.units;
    const value = o.kernel ?? glorotUniform(o.rng, n, o.inFeatures, o.units);
    this.kernel = { name: 'kernel', shape: [o.inFeatures, o.units], value, grad: zeros(n), trainable: true };
    this.bias = { name: 'bias', shape: [o.units], value: zeros(o.units), grad: zeros(o.units), trainable: true };
  }

  outputShape(inputShape: Shape): number[] {
    const last = inputShape[inputShape.length - 1];
    if (last !== this.inFeatures) {
      throw new Error(`Dense(${this.name}): expected last input dimension ${this.inFeatures}, got [${inputShape.join(', ')}]`);
    }
    return [...inputShape.slice(0, -1), this.outChannels];
  }

  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    const outShape = [x.shape[0]!, ...this.outputShape(x.shape.slice(1))];
    const rows = x.data.length / this.inFeatures;
    const y = (this.y = reuse(this.y, rows * this.outChannels));
    kernels.gemm(rows, this.outChannels, this.inFeatures, x.data, this.kernel.value, y, false, this.bias.value);
    this.x = x;
    return { data: y, shape: outShape };
  }

  backwardParamsOnly(dy: Tensor): void {
    const x = this.requireInput();
    const rows = x.data.length / this.inFeatures;
    kernels.gemmTN(this.inFeatures, this.outChannels, rows, x.data, dy.data, this.kernel.grad, true);
    kernels.addColumnSums(rows, this.outChannels, dy.data, this.bias.grad);
  }

  backward(dy: Tensor): Tensor {
    this.backwardParamsOnly(dy);
    const x = this.requireInput();
    const rows = x.data.length / this.inFeatures;
    const dx = (this.dx = reuse(this.dx, x.data.length));
    kernels.gemmNT(rows, this.inFeatures, this.outChannels, dy.data, this.kernel.value, dx, false);
    return { data: dx, shape: x.shape };
  }

  params(): Param[] {
    return [this.kernel, this.bias];
  }

  macs(inputShape: Shape): number {
    return (sizeOf(inputShape) / this.inFeatures) * this.inFeatures * this.outChannels;
  }

  toGraph(g: GraphBuilder, input: string, inputShape: Shape): string {
    return g.add(this.name, [input], [1, ...this.outputShape(inputShape)], {
      op: 'dense',
      kernel: this.kernel.value.slice(),
      inFeatures: this.inFeatures,
      outFeatures: this.outChannels,
      bias: this.bias.value.slice(),
    });
  }

  sibling(name: string, rng: Rng, initScale: number): Dense {
    const kernel = normal(rng, this.inFeatures * this.outChannels, initScale);
    return new Dense({ name, inFeatures: this.inFeatures, units: this.outChannels, rng, kernel });
  }

  private requireInput(): Tensor {
    if (this.x === undefined) throw new Error(`Dense(${this.name}): backward called before forward`);
    return this.x;
  }
}
