import { Sequential } from '../engine/model.js';
import { Rng } from '../engine/rng.js';
import { ReLU } from '../engine/layers/activation.js';
import { Dropout } from '../engine/layers/dropout.js';
import { Dense } from '../engine/layers/dense.js';
import { scaled, type ModelOptions } from './common.js';

/**
 * Edge Impulse's default MLP for generic (e.g. spectral) feature vectors, scaled by width:
 * Dense(20w) + ReLU -> Dropout -> Dense(10w) + ReLU -> Dense(classes).
 */
export function buildDenseNet(o: ModelOptions & { features: number }): Sequential {
  const rng = new Rng(o.seed);
  const h1 = scaled(20, o.width);
  const h2 = scaled(10, o.width);
  return new Sequential(
    [o.features],
    [
      new Dense({ name: 'dense_1', inFeatures: o.features, units: h1, rng }),
      new ReLU('relu_1'),
      new Dropout({ name: 'dropout_1', rate: o.dropout }),
      new Dense({ name: 'dense_2', inFeatures: h1, units: h2, rng }),
      new ReLU('relu_2'),
      new Dense({ name: 'dense', inFeatures: h2, units: o.classes, rng }),
    ],
  );
}
