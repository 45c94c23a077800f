import { Sequential } from '../engine/model.js';
import { Rng } from '../engine/rng.js';
import { Conv1D } from '../engine/layers/conv.js';
import { ReLU } from '../engine/layers/activation.js';
import { MaxPool1D } from '../engine/layers/pool.js';
import { Dropout } from '../engine/layers/dropout.js';
import { Flatten } from '../engine/layers/reshape.js';
import { Dense } from '../engine/layers/dense.js';
import { scaled, type ModelOptions } from './common.js';

/** MFCC coefficients per frame in Edge Impulse's audio features. */
export const MFCC_COEFFICIENTS = 13;

/**
 * Edge Impulse's default keyword-spotting network (docs/edge-impulse-block.md), channels scaled by width:
 * Reshape(frames, 13) -> Conv1D(8w, 3, same) + ReLU -> MaxPool1D(2, 2, same) -> Dropout
 * -> Conv1D(16w, 3, same) + ReLU -> MaxPool1D(2, 2, same) -> Dropout -> Flatten -> Dense(classes).
 * The caller checks that features is a multiple of `columns` (see select.ts).
 */
export function buildEiKws(o: ModelOptions & { features: number; columns?: number }): Sequential {
  const cols = o.columns ?? MFCC_COEFFICIENTS;
  const frames = o.features / cols;
  const rng = new Rng(o.seed);
  const c1 = scaled(8, o.width);
  const c2 = scaled(16, o.width);
  const afterPools = Math.ceil(Math.ceil(frames / 2) / 2);
  return new Sequential(
    [frames, cols],
    [
      new Conv1D({ name: 'conv1d_1', inChannels: cols, filters: c1, kernelSize: 3, padding: 'same', rng }),
      new ReLU('relu_1'),
      new MaxPool1D({ name: 'maxpool1d_1', poolSize: 2, stride: 2, padding: 'same' }),
      new Dropout({ name: 'dropout_1', rate: o.dropout }),
      new Conv1D({ name: 'conv1d_2', inChannels: c1, filters: c2, kernelSize: 3, padding: 'same', rng }),
      new ReLU('relu_2'),
      new MaxPool1D({ name: 'maxpool1d_2', poolSize: 2, stride: 2, padding: 'same' }),
      new Dropout({ name: 'dropout_2', rate: o.dropout }),
      new Flatten({ name: 'flatten' }),
      new Dense({ name: 'dense', inFeatures: afterPools * c2, units: o.classes, rng }),
    ],
  );
}
