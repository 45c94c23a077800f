import type { ForwardContext, Layer, Param } from '../layer.js';
import { reuse, type Shape, type Tensor } from '../tensor.js';
import type { GraphBuilder } from '../graph.js';
import { kernels, type Activation } from '../kernels.js';

/** Elementwise activations. Each keeps its output, from which its derivative follows. */
abstract class Elementwise implements Layer {
  abstract readonly kind: Activation;
  name: string;
  protected y: Float32Array | undefined;
  private dx: Float32Array | undefined;
  private shape: number[] | undefined;

  constructor(name: string) {
    this.name = name;
  }

  outputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }

  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    const y = (this.y = reuse(this.y, x.data.length));
    this.apply(x.data, y);
    this.shape = x.shape;
    return { data: y, shape: x.shape };
  }

  backward(dy: Tensor): Tensor {
    if (this.y === undefined || this.shape === undefined) {
      throw new Error(`${this.kind}(${this.name}): backward called before forward`);
    }
    const dx = (this.dx = reuse(this.dx, dy.data.length));
    this.derive(this.y, dy.data, dx);
    return { data: dx, shape: this.shape };
  }

  protected abstract apply(x: Float32Array, y: Float32Array): void;
  /** dx = dy * f'(x), written in terms of y = f(x). */
  protected abstract derive(y: Float32Array, dy: Float32Array, dx: Float32Array): void;

  params(): Param[] {
    return [];
  }

  macs(_inputShape: Shape): number {
    return 0;
  }

  toGraph(g: GraphBuilder, input: string, inputShape: Shape): string {
    return g.add(this.name, [input], [1, ...inputShape], { op: this.kind });
  }
}

export class ReLU extends Elementwise {
  readonly kind = 'relu';
  protected apply(x: Float32Array, y: Float32Array): void {
    kernels.relu(x, y);
  }
  protected derive(y: Float32Array, dy: Float32Array, dx: Float32Array): void {
    kernels.reluBackward(y, dy, dx);
  }
}

export class Sigmoid extends Elementwise {
  readonly kind = 'sigmoid';
  protected apply(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) y[i] = sigmoid(x[i]);
  }
  protected derive(y: Float32Array, dy: Float32Array, dx: Float32Array): void {
    for (let i = 0; i < y.length; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
  }
}

export class Tanh extends Elementwise {
  readonly kind = 'tanh';
  protected apply(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]);
  }
  protected derive(y: Float32Array, dy: Float32Array, dx: Float32Array): void {
    for (let i = 0; i < y.length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
  }
}

/** Overflow-free logistic function. */
export function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}
