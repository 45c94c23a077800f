import { isWrappable } from '../engine/layer.js';
import type { TrainableModel } from '../engine/model.js';
import type { Rng } from '../engine/rng.js';
import { userError } from '../errors.js';
import type { Config } from '../params/schema.js';
import { DendriticLayer, type DendriteSetConfig } from './dendritic-layer.js';
import { lowRankParameterCount } from './low-rank.js';

/** The model surface adding and removing sets needs (the engine's Sequential; `layers` is edited in place). */
export type LayeredModel = Pick<TrainableModel, 'layers'>;

export type DendriteLayerSelection = Config['dendriteLayers'];

/** What adding a set reads: the set's slice plus which layers carry it. */
export type AddSetConfig = DendriteSetConfig & Pick<Config, 'dendriteLayers'>;

/**
 * Indexes in model.layers of the layers that carry (or would carry) dendrites: wrappable layers (dense,
 * conv) and those already wrapped. 'output' is the last of them, 'hidden' all others, 'first' the first
 * (the one reading the input features; in a one-layer model that is the output layer).
 */
export function selectDendriteLayers(model: LayeredModel, which: DendriteLayerSelection): number[] {
  const all: number[] = [];
  model.layers.forEach((l, i) => {
    if (l instanceof DendriticLayer || isWrappable(l)) all.push(i);
  });
  if (all.length === 0) throw new Error('dendrites: the model has no dense or convolution layer to carry dendrites');
  if (which === 'output') return all.slice(-1);
  if (which === 'first') return all.slice(0, 1);
  if (which === 'hidden') {
    if (all.length < 2) throw userError('parameters', 'dendrite-layers', "'hidden' needs at least two dense/conv layers; this model has one");
    return all.slice(0, -1);
  }
  return all;
}

/** Replaces the selected layers by DendriticLayer wrappers (once) and returns the wrappers. */
export function wrapDendriteLayers(model: LayeredModel, which: DendriteLayerSelection): DendriticLayer[] {
  return selectDendriteLayers(model, which).map((i) => {
    const l = model.layers[i]!;
    if (l instanceof DendriticLayer) return l;
    if (!isWrappable(l)) throw new Error(`dendrites: layer '${l.name}' cannot carry dendrites`);
    const w = new DendriticLayer(l);
    model.layers[i] = w;
    return w;
  });
}

/** Adds one dendrite set to every selected layer; the model's outputs do not change. */
export function addDendriteSet(model: LayeredModel, c: AddSetConfig, rng: Rng): DendriticLayer[] {
  const layers = wrapDendriteLayers(model, c.dendriteLayers);
  const count = dendriteSetCount(model);
  for (const l of layers) {
    if (l.setCount !== count) throw new Error(`dendrites: layer '${l.name}' has ${l.setCount} sets, the model ${count}`);
  }
  for (const l of layers) l.addSet(rng, c);
  return layers;
}

/** Removes the newest set from every layer that has it (wrappers stay; with zero sets they equal the base). */
export function removeLastDendriteSet(model: LayeredModel): void {
  const count = dendriteSetCount(model);
  if (count === 0) throw new Error('dendrites: the model has no dendrite set to remove');
  for (const l of dendriticLayers(model)) if (l.setCount === count) l.removeLastSet();
}

export function dendriticLayers(model: LayeredModel): DendriticLayer[] {
  return model.layers.filter((l): l is DendriticLayer => l instanceof DendriticLayer);
}

/** Sets in the model (every wrapped layer gets each set, so this is the largest per-layer count). */
export function dendriteSetCount(model: LayeredModel): number {
  return dendriticLayers(model).reduce((m, l) => Math.max(m, l.setCount), 0);
}

export interface ParameterCounts {
  /** Every parameter the deployed network holds (what a microcontroller stores). */
  total: number;
  /** Of which dendrite branches and their per-neuron weights. */
  dendrite: number;
}

export function countParameters(model: LayeredModel): ParameterCounts {
  let total = 0;
  let dendrite = 0;
  for (const l of model.layers) {
    for (const p of l.params()) total += p.value.length;
    if (l instanceof DendriticLayer) for (const p of l.dendriteParams()) dendrite += p.value.length;
  }
  return { total, dendrite };
}

/**
 * Parameters one more set would add: per selected layer its branch (a copy of the layer, or rank r:
 * down + up stages) plus v and (form gated) the cascade weights. These are the trained parameters; the
 * merged form's export folds v into up (and sums the sets' up biases), so it ships fewer, and the
 * linear form's export folds the whole set into the layer, so it ships none.
 */
export function parametersPerNextSet(model: LayeredModel, c: Pick<Config, 'dendriteLayers' | 'dendriteRank' | 'dendriteForm'>): number {
  const sets = dendriteSetCount(model);
  const rank = c.dendriteRank;
  let n = 0;
  for (const i of selectDendriteLayers(model, c.dendriteLayers)) {
    const l = model.layers[i]!;
    const base = l instanceof DendriticLayer ? l.base : l;
    if (!isWrappable(base)) continue;
    if (rank > 0) n += lowRankParameterCount(base, rank);
    else for (const p of base.params()) n += p.value.length;
    n += base.outChannels * (1 + (c.dendriteForm === 'gated' ? sets : 0));
  }
  return n;
}

/**
 * Folds every linear-form set into its layer's own weights (DendriticLayer.foldedWeights) and puts the
 * plain layer back in the wrapper's place: the model becomes the plain configured network, computing
 * the same function up to float rounding. Layers with gated or merged sets are left as they are.
 * Returns how many sets were folded (per layer, summed).
 */
export function foldLinearSets(model: LayeredModel): number {
  let folded = 0;
  model.layers.forEach((l, i) => {
    if (!(l instanceof DendriticLayer) || (l.setCount > 0 && l.form !== 'linear')) return;
    const { kernel, bias } = l.foldedWeights();
    const [w, b] = l.base.params();
    w!.value.set(kernel);
    b!.value.set(bias);
    folded += l.setCount;
    model.layers[i] = l.base;
  });
  return folded;
}
