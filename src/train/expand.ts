/**
 * dendrite-route expand (ExpandNets, Guo, Alvarez & Salzmann, NeurIPS 2020): the configured network is
 * trained with one linear dendrite set on every dense and convolution layer, installed before the first
 * step at v = 1 and of rank `expand-factor` times the layer's output channels. Each layer then computes
 * (W + up·down) x: a wider, deeper linear map that spans exactly what W does, so it adds no function,
 * only a different path for gradient descent. W starts at zero, so at the start the layer is the product
 * up·down alone, at the scale LeCun-normal stages give it (variance 1/fan-in, as W's own init): ExpandNets'
 * factorization. Measured (docs/dendrites.md): keeping W's own init beside the product (twice the
 * variance) gained 1.1 ± 0.5 points less held out. At the end the sets fold into W (foldLinearSets) and
 * the network is the plain configured one again: same graph, same RAM, flash and MACs.
 */
import { wrapDendriteLayers } from '../dendrites/apply.js';
import type { Sequential } from '../engine/model.js';
import { Rng } from '../engine/rng.js';
import type { Config } from '../params/schema.js';

/** Stream of the expansion's branch weights, apart from the network's own (seeded by `seed`). */
const EXPAND_STREAM = 0x9e3779b9;

/** Installs the expansion on `model` (fresh or trained); returns how many layers carry it. */
export function expandLinearly(model: Sequential, config: Pick<Config, 'expandFactor' | 'seed' | 'dendriteActivation' | 'candidateWeightInit'>): number {
  const rng = new Rng((config.seed ^ EXPAND_STREAM) >>> 0);
  const layers = wrapDendriteLayers(model, 'all');
  for (const l of layers) {
    l.addSet(rng, {
      dendriteForm: 'linear',
      dendriteRank: config.expandFactor * l.outChannels,
      dendriteActivation: config.dendriteActivation,
      candidateWeightInit: config.candidateWeightInit,
    });
    l.setOutputWeight(l.setCount - 1, 1);
    const [kernel] = l.base.params();
    kernel!.value.fill(0);
  }
  return layers.length;
}
