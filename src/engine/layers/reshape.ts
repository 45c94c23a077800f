import type { ForwardContext, Layer, Param } from '../layer.js';
import { sizeOf, shapeString, type Shape, type Tensor } from '../tensor.js';
import type { GraphBuilder } from '../graph.js';

/** Reinterprets each sample with a new shape (same row-major data, no copy). */
export class Reshape implements Layer {
  readonly kind: string = 'reshape';
  name: string;
  readonly target: number[];
  private inShape: number[] | undefined;

  constructor(o: { name: string; shape: number[] }) {
    this.name = o.name;
    this.target = [...o.shape];
  }

  outputShape(inputShape: Shape): number[] {
    if (sizeOf(inputShape) !== sizeOf(this.target)) {
      throw new Error(`${this.kind}(${this.name}): cannot reshape ${shapeString(inputShape)} to ${shapeString(this.target)}`);
    }
    return [...this.target];
  }

  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    const out = this.outputShape(x.shape.slice(1));
    this.inShape = x.shape;
    return { data: x.data, shape: [x.shape[0]!, ...out] };
  }

  backward(dy: Tensor): Tensor {
    if (this.inShape === undefined) throw new Error(`${this.kind}(${this.name}): backward called before forward`);
    return { data: dy.data, shape: this.inShape };
  }

  params(): Param[] {
    return [];
  }

  macs(_inputShape: Shape): number {
    return 0;
  }

  toGraph(g: GraphBuilder, input: string, inputShape: Shape): string {
    return g.add(this.name, [input], [1, ...this.outputShape(inputShape)], { op: 'reshape', shape: [...this.target] });
  }
}

/** Flattens each sample to one vector (channels-last order, as Keras' Flatten on NHWC). */
export class Flatten extends Reshape {
  override readonly kind: string = 'flatten';

  constructor(o: { name: string }) {
    super({ name: o.name, shape: [] });
  }

  override outputShape(inputShape: Shape): number[] {
    return [sizeOf(inputShape)];
  }

  override toGraph(g: GraphBuilder, input: string, inputShape: Shape): string {
    return g.add(this.name, [input], [1, sizeOf(inputShape)], { op: 'flatten' });
  }
}
