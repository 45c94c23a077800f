/**
 * Training-time augmentation of a batch copy, seeded by the training Rng so a run is repeatable.
 *  - noise: Gaussian noise added to every feature, std 0.2 ('low') or 0.45 ('high'), the levels of
 *    Edge Impulse's audio augmentation. MFCC features are normalised to unit variance, so these are
 *    relative levels.
 *  - specAugment: SpecAugment-style masks on frame-major (frames x coeffs) inputs: 1 ('low') or 3
 *    ('high') frequency masks and as many time masks per sample. Edge Impulse's own widths are not
 *    published in a source we could read, so the widths follow the keyword-spotting practice of
 *    Google's kws_streaming: a frequency mask covers 0..2 coefficients, a time mask 0..10% of the
 *    frames (5 of 50), chosen uniformly. Masked values become 0, the mean of normalised features.
 */
import { userError } from '../errors.js';
import type { Rng } from '../engine/rng.js';
import type { Config } from '../params/schema.js';

/** The augmentation's slice of the configuration (the schema validated the levels). */
export type AugmentConfig = Pick<Config, 'noise' | 'specAugment'>;
export type AugmentLevel = AugmentConfig['noise'];

/** The inputs' frame layout, which spec-augment masks. */
export interface FrameLayout {
  /** Frames per sample; default features / coeffs. */
  frames?: number;
  /** Coefficients per frame; default 13 (Edge Impulse MFCC). */
  coeffs?: number;
  /** Widest frequency mask in coefficients (default 2). */
  freqMaskMaxWidth?: number;
  /** Widest time mask as a fraction of the frames (default 0.1). */
  timeMaskMaxFraction?: number;
}

export const NOISE_STD: Record<AugmentLevel, number> = { none: 0, low: 0.2, high: 0.45 };
export const MASK_COUNT: Record<AugmentLevel, number> = { none: 0, low: 1, high: 3 };

export type Augmenter = (batch: Float32Array, n: number, features: number) => void;

export function makeAugmenter(config: AugmentConfig, rng: Rng, layout: FrameLayout = {}): Augmenter {
  const std = NOISE_STD[config.noise];
  const masks = MASK_COUNT[config.specAugment];
  const coeffs = layout.coeffs ?? 13;
  const freqMax = layout.freqMaskMaxWidth ?? 2;
  const timeFraction = layout.timeMaskMaxFraction ?? 0.1;

  return (batch, n, features) => {
    if (batch.length < n * features) {
      throw new Error(`augment: batch of ${batch.length} values is smaller than ${n} x ${features}`);
    }
    if (masks > 0) {
      const frames = layout.frames ?? features / coeffs;
      if (!Number.isInteger(frames) || frames * coeffs !== features) {
        throw userError(
          'augmentation',
          'specAugment',
          `needs frame-major inputs of frames x ${coeffs} coefficients, but rows have ${features} features`,
        );
      }
      const timeMax = Math.max(1, Math.round(frames * timeFraction));
      for (let s = 0; s < n; s++) {
        const base = s * features;
        for (let m = 0; m < masks; m++) {
          const width = rng.int(Math.min(freqMax, coeffs) + 1);
          const start = rng.int(coeffs - width + 1);
          for (let f = 0; f < frames; f++) batch.fill(0, base + f * coeffs + start, base + f * coeffs + start + width);
        }
        for (let m = 0; m < masks; m++) {
          const width = rng.int(Math.min(timeMax, frames) + 1);
          const start = rng.int(frames - width + 1);
          batch.fill(0, base + start * coeffs, base + (start + width) * coeffs);
        }
      }
    }
    if (std > 0) {
      const total = n * features;
      for (let i = 0; i < total; i++) batch[i] = batch[i]! + std * rng.normal();
    }
  };
}
