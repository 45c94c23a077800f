import type { Activation } from './kernels.js';
import type { Padding } from './padding.js';

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
      padding: Padding;
    }
  /** kernel [Fin, Fout] (x @ kernel + bias), bias [Fout]. */
  | { op: 'dense'; kernel: Float32Array; inFeatures: number; outFeatures: number; bias: Float32Array }
  | { op: 'maxpool' | 'avgpool'; dims: 1 | 2; pool: number[]; strides: number[]; padding: Padding }
  | { op: Activation | 'softmax' }
  /** Elementwise with numpy broadcasting against the second input or a constant over the last axis. */
  | { op: 'add' | 'mul' }
  /** x * scale[c] (+ shift[c]) over the last (channel) axis; batch-norm at inference, per-neuron dendrite weights. */
  | { op: 'channel_affine'; scale: Float32Array; shift?: Float32Array }
  | { op: 'flatten' };

export type GraphOpName = GraphOp['op'];

/** The spec of one op name (a grouped member such as maxpool/avgpool narrowed to that name). */
export type GraphOpSpec<K extends GraphOpName> = GraphOp & { op: K };

/** One handler per op name: the compiler checks that a lowering handles every op. */
export type GraphOpHandlers<R = void> = { [K in GraphOpName]: (node: GraphNode, spec: GraphOpSpec<K>) => R };

/** Calls the handler of `node`'s op; `who` names the caller in the error for an op outside the union. */
export function visitOp<R>(node: GraphNode, handlers: GraphOpHandlers<R>, who: string): R {
  const handler = handlers[node.spec.op] as ((node: GraphNode, spec: GraphOp) => R) | undefined;
  if (handler === undefined) throw new Error(`${who}: node '${node.name}': unsupported op ${JSON.stringify(node.spec.op)}`);
  return handler(node, node.spec);
}

/** Visits the graph's nodes in order (topological), skipping those `skip` names at the time they are reached. */
export function forEachOp(graph: Graph, handlers: GraphOpHandlers, who: string, skip?: (node: GraphNode) => boolean): void {
  for (const node of graph.nodes) {
    if (!skip?.(node)) visitOp(node, handlers, who);
  }
}

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
