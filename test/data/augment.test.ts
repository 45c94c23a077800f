import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeAugmenter } from '../../src/data/augment.js';
import { Rng } from '../../src/engine/rng.js';
import { userErrorMessage } from './helpers.js';

const FRAMES = 50;
const COEFFS = 13;
const F = FRAMES * COEFFS;

function moments(x: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of x) s += v;
  const mean = s / x.length;
  let v2 = 0;
  for (const v of x) v2 += (v - mean) ** 2;
  return { mean, std: Math.sqrt(v2 / x.length) };
}

describe('makeAugmenter', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const run = (seed: number): Float32Array => {
      const batch = Float32Array.from({ length: 8 * F }, (_, i) => Math.cos(i));
      makeAugmenter({ noise: 'high', specAugment: 'high' }, new Rng(seed))(batch, 8, F);
      return batch;
    };
    assert.deepEqual(run(3), run(3));
    assert.notDeepEqual(run(3), run(4));
  });

  it("'none' leaves the batch untouched", () => {
    const batch = Float32Array.from({ length: 4 * F }, (_, i) => i);
    const copy = batch.slice();
    makeAugmenter({ noise: 'none', specAugment: 'none' }, new Rng(1))(batch, 4, F);
    assert.deepEqual(batch, copy);
  });

  it('Gaussian noise has mean 0 and std 0.2 (low) / 0.45 (high)', () => {
    for (const [level, std] of [['low', 0.2], ['high', 0.45]] as const) {
      const n = 200;
      const batch = new Float32Array(n * F);
      makeAugmenter({ noise: level, specAugment: 'none' }, new Rng(11))(batch, n, F);
      const m = moments(batch); // 130 000 draws: standard error of the std ~0.2%
      assert.ok(Math.abs(m.mean) < 0.01 * std * 5, `${level} mean ${m.mean}`);
      assert.ok(Math.abs(m.std / std - 1) < 0.01, `${level} std ${m.std}`);
    }
  });

  it('SpecAugment zeroes whole coefficient bands and whole frames, 1 (low) / 3 (high) of each, with the documented widths', () => {
    for (const [level, count] of [['low', 1], ['high', 3]] as const) {
      const n = 2000;
      const batch = new Float32Array(n * F).fill(1);
      makeAugmenter({ noise: 'none', specAugment: level }, new Rng(5))(batch, n, F);
      let bandTotal = 0;
      let frameTotal = 0;
      for (let s = 0; s < n; s++) {
        const at = (f: number, c: number): number => batch[s * F + f * COEFFS + c]!;
        const zeroBands = Array.from({ length: COEFFS }, (_, c) => c).filter((c) => Array.from({ length: FRAMES }, (_, f) => at(f, c)).every((v) => v === 0));
        const zeroFrames = Array.from({ length: FRAMES }, (_, f) => f).filter((f) => Array.from({ length: COEFFS }, (_, c) => at(f, c)).every((v) => v === 0));
        // every zero lies in a fully masked band or frame: masks are rectangles across the other axis
        for (let f = 0; f < FRAMES; f++) {
          for (let c = 0; c < COEFFS; c++) {
            if (at(f, c) === 0) assert.ok(zeroBands.includes(c) || zeroFrames.includes(f), `sample ${s}: stray zero at ${f},${c}`);
            else assert.equal(at(f, c), 1);
          }
        }
        assert.ok(zeroBands.length <= 2 * count, `at most ${count} masks of width <= 2`);
        assert.ok(zeroFrames.length <= 5 * count, `at most ${count} masks of width <= 5 frames`);
        bandTotal += zeroBands.length;
        frameTotal += zeroFrames.length;
      }
      // widths uniform on 0..2 (mean 1) and 0..5 (mean 2.5); overlaps only lower the union for 'high'
      const bandMean = bandTotal / n;
      const frameMean = frameTotal / n;
      if (count === 1) {
        assert.ok(Math.abs(bandMean - 1) < 0.06, `band mean ${bandMean}`);
        assert.ok(Math.abs(frameMean - 2.5) < 0.12, `frame mean ${frameMean}`);
      } else {
        assert.ok(bandMean > 2 && bandMean < 3, `band mean ${bandMean}`);
        assert.ok(frameMean > 5.5 && frameMean < 7.5, `frame mean ${frameMean}`);
      }
    }
  });

  it('rejects SpecAugment on rows that are not frames x 13', () => {
    const aug = makeAugmenter({ noise: 'none', specAugment: 'low' }, new Rng(1));
    assert.match(userErrorMessage(() => aug(new Float32Array(100), 1, 100)), /augmentation: specAugment: needs frame-major inputs of frames x 13/);
  });
});
