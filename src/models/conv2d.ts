import { Sequential } from '../engine/model.js';
import { Rng } from '../engine/rng.js';
import { Conv2D } from '../engine/layers/conv.js';
import { ReLU } from '../engine/layers/activation.js';
import { MaxPool2D } from '../engine/layers/pool.js';
import { Dropout } from '../engine/layers/dropout.js';
import { Flatten } from '../engine/layers/reshape.js';
import { Dense } from '../engine/layers/dense.js';
import { scaled, type ModelOptions } from './common.js';

/**
 * A small NHWC image network, scaled by width:
 * Conv2D(8w, 3, same) + ReLU -> MaxPool2D(2) -> Dropout -> Conv2D(16w, 3, same) + ReLU -> MaxPool2D(2)
 * -> Dropout -> Flatten -> Dense(classes). Pools use 'same' padding so odd sizes keep their edge.
 */
export function buildConv2dNet(o: ModelOptions & { imageShape: [number, number, number] }): Sequential {
  const [h, w, c] = o.imageShape;
  const rng = new Rng(o.seed);
  const c1 = scaled(8, o.width);
  const c2 = scaled(16, o.width);
  const pooled = (n: number): number => Math.ceil(Math.ceil(n / 2) / 2);
  return new Sequential(
    [h, w, c],
    [
      new Conv2D({ name: 'conv2d_1', inChannels: c, filters: c1, kernelSize: 3, padding: 'same', rng }),
      new ReLU('relu_1'),
      new MaxPool2D({ name: 'maxpool2d_1', poolSize: 2, padding: 'same' }),
      new Dropout({ name: 'dropout_1', rate: o.dropout }),
      new Conv2D({ name: 'conv2d_2', inChannels: c1, filters: c2, kernelSize: 3, padding: 'same', rng }),
      new ReLU('relu_2'),
      new MaxPool2D({ name: 'maxpool2d_2', poolSize: 2, padding: 'same' }),
      new Dropout({ name: 'dropout_2', rate: o.dropout }),
      new Flatten({ name: 'flatten' }),
      new Dense({ name: 'dense', inFeatures: pooled(h) * pooled(w) * c2, units: o.classes, rng }),
    ],
  );
}
