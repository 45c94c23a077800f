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
import { defaultConfig, specFor, type Config, type ConfigKey } from '../params/schema.js';

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

/**
 * The knobs of the dendrite cycle (how sets are grown, trained and pruned) that dendrite-route expand
 * does not use: its sets are installed once, linear, on every layer, and no cycle adds more. They are
 * still read and reported (effective-config.json says "held, unused"), and a run that sets any of them
 * says so in a warning, so a value set in Studio is never dropped silently.
 */
export const UNUSED_BY_EXPAND: readonly ConfigKey[] = [
  'dendriteTraining',
  'findBestLr',
  'splitLearningRate',
  'newDendriteRate',
  'pruneDendrites',
  'pruneSignificance',
  'dendriteActivation',
  'candidateWeightInit',
  'dendriteLayers',
  'dendriteRank',
  'dendriteForm',
  'correlationEpochs',
  'correlationCandidates',
];

/** The warning for the cycle knobs set away from their defaults under dendrite-route expand; undefined when none is. */
export function unusedByExpandWarning(config: Config): string | undefined {
  const defaults = defaultConfig();
  const set = UNUSED_BY_EXPAND.filter((k) => JSON.stringify(config[k]) !== JSON.stringify(defaults[k])).map((k) => `--${specFor(k).param}`);
  if (set.length === 0) return undefined;
  return `dendrites: ${set.join(', ')} ${set.length === 1 ? 'has' : 'have'} no effect with dendrite-route expand (the default), which grows no sets in cycles; pass --dendrite-route fold for the cycle to use ${set.length === 1 ? 'it' : 'them'}`;
}
