import { paramView, type ForwardContext, type Layer, type Param } from './layer.js';
import { Rng } from './rng.js';
import { sizeOf, shapeString, type Shape, type Tensor } from './tensor.js';
import { GraphBuilder, type Graph } from './graph.js';
import { softmax } from './loss.js';

/**
 * The model surface training, the dendrite cycle and correlation training need (one interface for all of
 * them); Sequential provides it. Code that only edits the layer list takes Pick<TrainableModel, 'layers'>.
 */
export interface TrainableModel {
  layers: Layer[];
  forward(x: Tensor, ctx: ForwardContext): Tensor;
  backward(dlogits: Tensor): unknown;
  params(): Param[];
}

/**
 * A chain of layers. Its input is the flat feature vector [N, F]; the first step reinterprets each
 * sample as `inputShape` (F = product of inputShape). `layers` is public and mutable: dendrites
 * replace a layer in place with a wrapper.
 */
export class Sequential implements TrainableModel {
  layers: Layer[];
  readonly inputShape: number[];
  readonly features: number;

  constructor(inputShape: Shape, layers: Layer[]) {
    this.inputShape = [...inputShape];
    this.features = sizeOf(inputShape);
    this.layers = layers;
    this.outputShape();
  }

  /** Per-sample shape after every layer (validates the chain). */
  shapes(): number[][] {
    const out: number[][] = [];
    let s: number[] = this.inputShape;
    for (const l of this.layers) {
      s = l.outputShape(s);
      out.push(s);
    }
    return out;
  }

  outputShape(): number[] {
    const s = this.shapes();
    const last = s.length > 0 ? s[s.length - 1]! : this.inputShape;
    if (last.length !== 1) throw new Error(`Sequential: the last layer must output [classes], got ${shapeString(last)}`);
    return last;
  }

  get classes(): number {
    return this.outputShape()[0]!;
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (x.shape.length !== 2 || x.shape[1] !== this.features) {
      throw new Error(`Sequential.forward: expected input [N, ${this.features}], got ${shapeString(x.shape)}`);
    }
    let t: Tensor = { data: x.data, shape: [x.shape[0]!, ...this.inputShape] };
    for (const l of this.layers) t = l.forward(t, ctx);
    return t;
  }

  /** Back-propagates dL/dlogits, adding into every param's grad. The first layer skips dL/dx when it can. */
  backward(dlogits: Tensor): void {
    let g = dlogits;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      if (i === 0 && l.backwardParamsOnly !== undefined) l.backwardParamsOnly(g);
      else g = l.backward(g);
    }
  }

  /** All params, named "<layer>/<param>"; value, grad and trainable are the layer's own (live views). */
  params(): Param[] {
    const out: Param[] = [];
    const names = new Set<string>();
    for (const l of this.layers) {
      if (names.has(l.name)) throw new Error(`Sequential: duplicate layer name '${l.name}'`);
      names.add(l.name);
      for (const p of l.params()) out.push(paramView(`${l.name}/${p.name}`, p));
    }
    return out;
  }

  parameterCount(): number {
    let n = 0;
    for (const l of this.layers) for (const p of l.params()) n += p.value.length;
    return n;
  }

  macs(): number {
    let n = 0;
    let s: number[] = this.inputShape;
    for (const l of this.layers) {
      n += l.macs(s);
      s = l.outputShape(s);
    }
    return n;
  }

  snapshot(): Float32Array[] {
    return this.params().map((p) => p.value.slice());
  }

  restore(snapshot: Float32Array[]): void {
    const ps = this.params();
    if (snapshot.length !== ps.length) {
      throw new Error(`Sequential.restore: snapshot has ${snapshot.length} params, model has ${ps.length}`);
    }
    ps.forEach((p, i) => {
      const v = snapshot[i]!;
      if (v.length !== p.value.length) throw new Error(`Sequential.restore: '${p.name}' has ${p.value.length} values, snapshot ${v.length}`);
      p.value.set(v);
    });
  }

  /** Class probabilities [n, classes] for n flat samples, in inference mode. */
  predictProbs(X: Float32Array, n: number, batch = 256): Float32Array {
    if (X.length !== n * this.features) {
      throw new Error(`Sequential.predictProbs: expected ${n} x ${this.features} values, got ${X.length}`);
    }
    const k = this.classes;
    const out = new Float32Array(n * k);
    const ctx: ForwardContext = { training: false, rng: new Rng(0) };
    for (let start = 0; start < n; start += batch) {
      const b = Math.min(batch, n - start);
      const x = X.subarray(start * this.features, (start + b) * this.features);
      const logits = this.forward({ data: x, shape: [b, this.features] }, ctx);
      softmax(logits, out.subarray(start * k, (start + b) * k));
    }
    return out;
  }

  /** The inference graph: input [1, F] -> reshape -> layers -> softmax (outputs probabilities). */
  toGraph(): Graph {
    const g = new GraphBuilder();
    const input = g.add('input', [], [1, this.features], { op: 'input', features: this.features });
    let v = g.add('reshape', [input], [1, ...this.inputShape], { op: 'reshape', shape: [...this.inputShape] });
    let s: number[] = this.inputShape;
    for (const l of this.layers) {
      v = l.toGraph(g, v, s);
      s = l.outputShape(s);
    }
    const output = g.add('probs', [v], [1, ...s], { op: 'softmax' });
    return { nodes: g.nodes, input, output, classes: s[0]! };
  }
}
