import type { Rng } from './rng.js';
import type { Shape, Tensor } from './tensor.js';
import type { GraphBuilder } from './graph.js';

/** A trainable parameter: its values and the gradient accumulated by backward passes. */
export interface Param {
  /** Stable name within its layer, e.g. "kernel", "bias". Model-level names are "<layer>/<param>". */
  name: string;
  shape: number[];
  value: Float32Array;
  grad: Float32Array;
  /** False for parameters that must not change (e.g. frozen neurons during a correlation phase). */
  trainable: boolean;
}

/**
 * The same parameter under another name (a wrapper's or a model's): values, gradient and the trainable
 * flag are the original's, so freezing or stepping the view acts on the layer's own parameter.
 */
export function paramView(name: string, p: Param): Param {
  return {
    name,
    get shape() {
      return p.shape;
    },
    get value() {
      return p.value;
    },
    get grad() {
      return p.grad;
    },
    get trainable() {
      return p.trainable;
    },
    set trainable(t: boolean) {
      p.trainable = t;
    },
  };
}

export interface ForwardContext {
  training: boolean;
  /** Used by stochastic layers (dropout). */
  rng: Rng;
}

/**
 * One layer. Shapes exclude the batch dimension; tensors passed to forward/backward include it.
 * backward(dy) must be called after forward() of the same batch; it ADDS into each param's grad
 * (the optimizer zeroes them) and returns dL/dx.
 */
export interface Layer {
  readonly kind: string;
  /** Unique name within the model, used for parameter names, checkpoints and export tensor names. */
  name: string;
  outputShape(inputShape: Shape): number[];
  forward(x: Tensor, ctx: ForwardContext): Tensor;
  backward(dy: Tensor): Tensor;
  params(): Param[];
  /**
   * Multiply-accumulates per sample for the given input shape, by the project's one rule (docs/report-json.md,
   * "MACs"): the weight layers' multiply-accumulates only, as the deployed .tflite file's CONV_2D and
   * FULLY_CONNECTED operators count them (src/export/tflite/device-cost.ts): output elements x kernel taps x
   * input channels. Pooling, activations, element-wise MUL/ADD and copies are 0 (their cost is in the
   * Cortex-M instruction count).
   */
  macs(inputShape: Shape): number;
  /** Emits this layer's inference graph; returns the name of its output value. */
  toGraph(g: GraphBuilder, input: string, inputShape: Shape): string;
  /**
   * Optional fast path for a model's first layer, whose input gradient nobody reads: accumulates the
   * param grads exactly as backward(dy) would, without computing dL/dx.
   */
  backwardParamsOnly?(dy: Tensor): void;
}

/**
 * A layer with weights whose output neurons can carry dendrites (Dense, Conv1D, Conv2D).
 * `sibling` builds a layer with the same configuration (same kernel, stride, padding, out channels)
 * and fresh weights drawn N(0,1) x initScale: the dendrite branch D_i.
 */
export interface WrappableLayer extends Layer {
  readonly outChannels: number;
  sibling(name: string, rng: Rng, initScale: number): WrappableLayer;
}

export function isWrappable(layer: Layer): layer is WrappableLayer {
  return typeof (layer as Partial<WrappableLayer>).sibling === 'function';
}
