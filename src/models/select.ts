import { userError } from '../errors.js';
import type { Sequential } from '../engine/model.js';
import type { ModelOptions } from './common.js';
import { buildEiKws, MFCC_COEFFICIENTS } from './ei-kws.js';
import { buildDenseNet } from './dense.js';
import { buildConv2dNet } from './conv2d.js';

export type ModelKind = 'auto' | 'ei-kws' | 'dense' | 'conv2d';

export interface BuildModelOptions extends ModelOptions {
  kind: ModelKind;
  /** Length of the flat feature vector. */
  features: number;
  /** Per-sample shape from train_input.json's inputShapeString, e.g. [96, 96, 1], when known. */
  inputShape?: number[];
}

const WHERE = 'parameters';

/**
 * Builds the base network. `auto`: an image-like input shape -> conv2d; a 2-D [frames, coefficients]
 * shape of at least MIN_AUTO_KWS_FRAMES frames, or (no shape) features a multiple of 13 (MFCC frames)
 * -> ei-kws over those coefficients; anything else -> dense.
 */
export function buildModel(o: BuildModelOptions): Sequential {
  validate(o);
  const kind = o.kind === 'auto' ? autoKind(o) : o.kind;
  const common = { classes: o.classes, width: o.width, dropout: o.dropout, seed: o.seed };
  switch (kind) {
    case 'ei-kws': {
      // frames x coefficients: a 2-D input shape says how many coefficients (features --num-cepstral N); else 13
      const columns = spectrogramShape(o.inputShape, o.features)?.[1] ?? MFCC_COEFFICIENTS;
      if (o.features % columns !== 0) {
        throw userError(
          WHERE,
          '--model',
          `'ei-kws' needs a feature count divisible by ${MFCC_COEFFICIENTS} (frames x 13 MFCC coefficients) or a 2-D input shape [frames, coefficients], got ${o.features} features; use 'dense' or 'auto'`,
        );
      }
      return buildEiKws({ ...common, features: o.features, columns });
    }
    case 'dense':
      return buildDenseNet({ ...common, features: o.features });
    case 'conv2d': {
      const shape = imageShape(o);
      if (shape === null) {
        throw userError(
          WHERE,
          '--model',
          `'conv2d' needs an image input (train_input.json inputShapeString [H, W, C] with H*W*C = features, or a square H*W*1 / H*W*3 feature count), got ${o.features} features${o.inputShape ? ` with input shape [${o.inputShape.join(', ')}]` : ''}`,
        );
      }
      return buildConv2dNet({ ...common, imageShape: shape });
    }
    default:
      throw userError(WHERE, '--model', `expected auto, ei-kws, dense or conv2d, got '${String(kind)}'`);
  }
}

/** The family `auto` picks for these inputs. */
/**
 * Fewest MFCC frames `auto` reads as audio (0.16 s at Edge Impulse's 0.02 s stride; the KWS network's two
 * pools leave 2). Shorter rows that happen to be a multiple of 13 (39 or 65 motion/spectral features)
 * are feature vectors, not spectrograms: a Conv1D over 3-5 "frames" would be the wrong network.
 */
export const MIN_AUTO_KWS_FRAMES = 8;

export function autoKind(o: Pick<BuildModelOptions, 'features' | 'inputShape'>): Exclude<ModelKind, 'auto'> {
  if (isImageShape(o.inputShape, o.features)) return 'conv2d';
  // A declared [frames, coefficients] shape (dendritic features writes one, whatever --num-cepstral) is a spectrogram.
  const spectrogram = spectrogramShape(o.inputShape, o.features);
  if (spectrogram) return spectrogram[0] >= MIN_AUTO_KWS_FRAMES ? 'ei-kws' : 'dense';
  if (o.features % MFCC_COEFFICIENTS === 0 && o.features / MFCC_COEFFICIENTS >= MIN_AUTO_KWS_FRAMES) return 'ei-kws';
  return 'dense';
}

/** [frames, coefficients] when the declared input shape is 2-D and holds the features. */
function spectrogramShape(shape: number[] | undefined, features: number): [number, number] | null {
  if (shape === undefined || shape.length !== 2) return null;
  const [frames, coeffs] = shape as [number, number];
  return frames * coeffs === features && frames > 0 && coeffs > 0 ? [frames, coeffs] : null;
}

function isImageShape(shape: number[] | undefined, features: number): shape is [number, number, number] {
  if (shape === undefined || shape.length !== 3) return false;
  return shape[0]! * shape[1]! * shape[2]! === features && shape.every((d) => Number.isInteger(d) && d > 0);
}

/** [H, W, C] from the declared input shape, else a square single-channel or RGB image. */
function imageShape(o: BuildModelOptions): [number, number, number] | null {
  if (isImageShape(o.inputShape, o.features)) return [...o.inputShape];
  for (const c of [1, 3]) {
    const side = Math.round(Math.sqrt(o.features / c));
    if (side >= 3 && side * side * c === o.features) return [side, side, c];
  }
  return null;
}

function validate(o: BuildModelOptions): void {
  if (!(Number.isInteger(o.features) && o.features > 0)) throw userError(WHERE, 'features', `expected a positive integer, got ${o.features}`);
  if (!(Number.isInteger(o.classes) && o.classes >= 2)) throw userError(WHERE, 'classes', `expected at least 2 classes, got ${o.classes}`);
  if (!(o.width > 0 && Number.isFinite(o.width))) throw userError(WHERE, '--width', `expected a positive number, got ${o.width}`);
  if (!(o.dropout >= 0 && o.dropout < 1)) throw userError(WHERE, '--dropout', `expected a rate in [0, 1), got ${o.dropout}`);
  if (o.inputShape !== undefined && o.inputShape.reduce((a, b) => a * b, 1) !== o.features) {
    throw userError(
      WHERE,
      '--model',
      `input shape [${o.inputShape.join(', ')}] holds ${o.inputShape.reduce((a, b) => a * b, 1)} values but the data has ${o.features} features`,
    );
  }
}

export interface LayerDescription {
  name: string;
  kind: string;
  outputShape: number[];
  params: number;
}

export interface ModelDescription {
  inputShape: number[];
  layers: LayerDescription[];
  params: number;
  macs: number;
}

/** Layer list with output shapes and parameter counts, for reports and logs. */
export function describeModel(model: Sequential): ModelDescription {
  const shapes = model.shapes();
  const layers = model.layers.map((l, i) => ({
    name: l.name,
    kind: layerKind(l),
    outputShape: shapes[i]!,
    params: l.params().reduce((n, p) => n + p.value.length, 0),
  }));
  return { inputShape: [...model.inputShape], layers, params: model.parameterCount(), macs: model.macs() };
}

/** A layer's kind as report.json documents it: a dendritic wrapper names what it wraps, e.g. `dendritic(conv1d)`. */
function layerKind(l: Sequential['layers'][number]): string {
  const base = (l as { base?: { kind?: unknown } }).base;
  return l.kind === 'dendritic' && typeof base?.kind === 'string' ? `dendritic(${base.kind})` : l.kind;
}

/** describeModel as aligned text lines. */
export function formatModel(d: ModelDescription): string {
  const rows = d.layers.map((l) => `${l.name.padEnd(14)} ${l.kind.padEnd(17)} [${l.outputShape.join(', ')}]`.padEnd(51) + `${l.params}`);
  return [`input [${d.inputShape.join(', ')}]`, ...rows, `params ${d.params}, MACs ${d.macs}`].join('\n');
}
