/**
 * One description of the trained inference network, written by the layers and read by every exporter
 * (ONNX, TFLite float, TFLite int8). Values are named; nodes form a DAG in topological order.
 *
 * Layout convention: every value is channels-last, exactly as in the engine ([1, F], [1, L, C],
 * [1, H, W, C]); 1-D convolutions and pools are described with `dims: 1`. Each exporter maps this to
 * its own layout (ONNX transposes around Conv/Pool; TFLite is NHWC natively).
 * Weights are stored in the engine's own layout and documented per op.
 */
export type GraphOp =
  /** input [1, F] is the flat Edge Impulse feature vector. */
  | { op: 'input'; features: number }
  | { op: 'reshape'; shape: number[] }
  /** kernel [K..., Cin, Cout] (KW for 1-D; KH, KW for 2-D), bias [Cout]. */
  | {
      op: 'conv';
      dims: 1 | 2;
      kernel: Float32Array;
      kernelShape: number[];
      bias: Float32Array;
      strides: number[];
      padding: 'same' | 'valid';
    }
  /** kernel [Fin, Fout] (x @ kernel + bias), bias [Fout]. */
  | { op: 'dense'; kernel: Float32Array; inFeatures: number; outFeatures: number; bias: Float32Array }
  | { op: 'maxpool' | 'avgpool'; dims: 1 | 2; pool: number[]; strides: number[]; padding: 'same' | 'valid' }
  | { op: 'relu' | 'sigmoid' | 'tanh' | 'softmax' }
  /** Elementwise with numpy broadcasting against the second input or a constant over the last axis. */
  | { op: 'add' | 'mul' }
  /** x * scale[c] (+ shift[c]) over the last (channel) axis; batch-norm at inference, per-neuron dendrite weights. */
  | { op: 'channel_affine'; scale: Float32Array; shift?: Float32Array }
  | { op: 'flatten' };

export interface GraphNode {
  /** Output value name (unique). */
  name: string;
  inputs: string[];
  /** Per-sample output shape, batch of 1 included as the first dimension. */
  shape: number[];
  spec: GraphOp;
}

export interface Graph {
  nodes: GraphNode[];
  input: string;
  output: string;
  classes: number;
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  private used = new Set<string>();

  /** Adds a node; the name is made unique with a numeric suffix when needed. Returns the value name. */
  add(name: string, inputs: string[], shape: number[], spec: GraphOp): string {
    let unique = name;
    for (let i = 1; this.used.has(unique); i++) unique = `${name}_${i}`;
    this.used.add(unique);
    for (const inp of inputs) {
      if (!this.used.has(inp)) throw new Error(`GraphBuilder.add(${unique}): unknown input value '${inp}'`);
    }
    this.nodes.push({ name: unique, inputs, shape: [...shape], spec });
    return unique;
  }

  shapeOf(value: string): number[] {
    const node = this.nodes.find((n) => n.name === value);
    if (!node) throw new Error(`GraphBuilder.shapeOf: unknown value '${value}'`);
    return node.shape;
  }
}
