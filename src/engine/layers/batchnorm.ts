import type { ForwardContext, Layer, Param } from '../layer.js';
import { reuse, type Shape, type Tensor } from '../tensor.js';
import type { GraphBuilder } from '../graph.js';

/**
 * Batch normalisation over the last (channel) axis, Keras defaults: momentum 0.99, epsilon 1e-3,
 * biased batch variance. The moving statistics are non-trainable params so snapshots restore them too.
 */
export class BatchNorm implements Layer {
  readonly kind = 'batchnorm';
  name: string;
  readonly channels: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly gamma: Param;
  readonly beta: Param;
  readonly movingMean: Param;
  readonly movingVar: Param;
  private xhat: Float32Array | undefined;
  private invStd: Float32Array;
  private y: Float32Array | undefined;
  private dx: Float32Array | undefined;
  private shape: number[] | undefined;
  private trainedLast = false;

  constructor(o: { name: string; channels: number; momentum?: number; epsilon?: number }) {
    const c = o.channels;
    this.name = o.name;
    this.channels = c;
    this.momentum = o.momentum ?? 0.99;
    this.epsilon = o.epsilon ?? 1e-3;
    const p = (name: string, init: number, trainable: boolean): Param => ({
      name,
      shape: [c],
      value: new Float32Array(c).fill(init),
      grad: new Float32Array(c),
      trainable,
    });
    this.gamma = p('gamma', 1, true);
    this.beta = p('beta', 0, true);
    this.movingMean = p('moving_mean', 0, false);
    this.movingVar = p('moving_variance', 1, false);
    this.invStd = new Float32Array(c);
  }

  outputShape(inputShape: Shape): number[] {
    if (inputShape[inputShape.length - 1] !== this.channels) {
      throw new Error(`batchnorm(${this.name}): expected ${this.channels} channels last, got [${inputShape.join(', ')}]`);
    }
    return [...inputShape];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.outputShape(x.shape.slice(1));
    const c = this.channels;
    const rows = x.data.length / c;
    const xd = x.data;
    const y = (this.y = reuse(this.y, xd.length));
    const gamma = this.gamma.value;
    const beta = this.beta.value;
    this.shape = x.shape;
    this.trainedLast = ctx.training;
    if (!ctx.training) {
      const { scale, shift } = this.inferenceAffine();
      for (let r = 0; r < rows; r++) {
        for (let j = 0, o = r * c; j < c; j++) y[o + j] = xd[o + j] * scale[j] + shift[j];
      }
      return { data: y, shape: x.shape };
    }
    const mean = new Float64Array(c);
    const sq = new Float64Array(c);
    for (let r = 0; r < rows; r++) {
      for (let j = 0, o = r * c; j < c; j++) mean[j] += xd[o + j];
    }
    for (let j = 0; j < c; j++) mean[j] /= rows;
    for (let r = 0; r < rows; r++) {
      for (let j = 0, o = r * c; j < c; j++) {
        const d = xd[o + j] - mean[j];
        sq[j] += d * d;
      }
    }
    const xhat = (this.xhat = reuse(this.xhat, xd.length));
    const mm = this.movingMean.value;
    const mv = this.movingVar.value;
    for (let j = 0; j < c; j++) {
      const variance = sq[j] / rows;
      this.invStd[j] = 1 / Math.sqrt(variance + this.epsilon);
      mm[j] = mm[j] * this.momentum + mean[j] * (1 - this.momentum);
      mv[j] = mv[j] * this.momentum + variance * (1 - this.momentum);
    }
    for (let r = 0; r < rows; r++) {
      for (let j = 0, o = r * c; j < c; j++) {
        const h = (xd[o + j] - mean[j]) * this.invStd[j];
        xhat[o + j] = h;
        y[o + j] = h * gamma[j] + beta[j];
      }
    }
    return { data: y, shape: x.shape };
  }

  backward(dy: Tensor): Tensor {
    if (this.shape === undefined || !this.trainedLast || this.xhat === undefined) {
      throw new Error(`batchnorm(${this.name}): backward needs a preceding training-mode forward`);
    }
    const c = this.channels;
    const dyd = dy.data;
    const rows = dyd.length / c;
    const xhat = this.xhat;
    const sumDy = new Float64Array(c);
    const sumDyXhat = new Float64Array(c);
    for (let r = 0; r < rows; r++) {
      for (let j = 0, o = r * c; j < c; j++) {
        sumDy[j] += dyd[o + j];
        sumDyXhat[j] += dyd[o + j] * xhat[o + j];
      }
    }
    const gamma = this.gamma.value;
    for (let j = 0; j < c; j++) {
      this.gamma.grad[j] += sumDyXhat[j];
      this.beta.grad[j] += sumDy[j];
    }
    // dx = gamma * invStd / m * (m*dy - sum(dy) - xhat * sum(dy*xhat))
    const dx = (this.dx = reuse(this.dx, dyd.length));
    for (let r = 0; r < rows; r++) {
      for (let j = 0, o = r * c; j < c; j++) {
        const k = (gamma[j] * this.invStd[j]) / rows;
        dx[o + j] = k * (rows * dyd[o + j] - sumDy[j] - xhat[o + j] * sumDyXhat[j]);
      }
    }
    return { data: dx, shape: this.shape };
  }

  /** y = x * scale + shift at inference. */
  inferenceAffine(): { scale: Float32Array; shift: Float32Array } {
    const c = this.channels;
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let j = 0; j < c; j++) {
      scale[j] = this.gamma.value[j] / Math.sqrt(this.movingVar.value[j] + this.epsilon);
      shift[j] = this.beta.value[j] - this.movingMean.value[j] * scale[j];
    }
    return { scale, shift };
  }

  params(): Param[] {
    return [this.gamma, this.beta, this.movingMean, this.movingVar];
  }

  /** 0 by the MAC rule (Layer.macs): at export it folds into the conv/dense before it or becomes element-wise MUL/ADD. */
  macs(_inputShape: Shape): number {
    return 0;
  }

  toGraph(g: GraphBuilder, input: string, inputShape: Shape): string {
    const { scale, shift } = this.inferenceAffine();
    return g.add(this.name, [input], [1, ...this.outputShape(inputShape)], { op: 'channel_affine', scale, shift });
  }
}
