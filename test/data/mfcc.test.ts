import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { mfcc, mfccFrameCount, padOrCrop } from '../../src/data/mfcc.js';
import { readWav } from '../../src/data/wav.js';
import { computeWavFeatures } from '../../src/data/wav-dataset.js';
import { FSDD, PYTHON, SHARED, python, tempDir, userErrorMessage } from './helpers.js';
import { needs } from '../helpers/prerequisites.js';

const REF = join(SHARED, 'bench/ei_mfcc_ref.py');
const TOLERANCE = 1e-3;
const run = promisify(execFile);

/** The reference script's output for one file (one float per line, frame-major). */
async function reference(file: string, windowSeconds?: number): Promise<Float64Array> {
  const args = [REF, file, ...(windowSeconds !== undefined ? [String(windowSeconds)] : [])];
  const { stdout } = await run(PYTHON, args, { maxBuffer: 64 << 20 });
  return Float64Array.from(stdout.trim().split('\n').map(Number));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'feature counts differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** ~20 FSDD recordings: every speaker and digit, theo's two quietest takes and a clipped jackson take. */
function sampleFiles(): string[] {
  const all = readdirSync(FSDD).filter((f) => f.endsWith('.wav')).sort();
  const peak = (f: string): number => readWav(join(FSDD, f)).samples.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const theo = all.filter((f) => f.includes('_theo_')).map((f) => ({ f, p: peak(f) }));
  theo.sort((a, b) => a.p - b.p);
  const clipped = all.filter((f) => f.includes('_jackson_')).find((f) => peak(f) >= 32767);
  assert.ok(clipped !== undefined, 'expected a clipped jackson take in FSDD');
  const picks = new Set([theo[0]!.f, theo[1]!.f, clipped]);
  const speakers = ['george', 'jackson', 'lucas', 'nicolas', 'theo', 'yweweler'];
  for (let i = 0; picks.size < 20; i++) picks.add(`${i % 10}_${speakers[i % 6]}_${(i * 7) % 50}.wav`);
  return [...picks];
}

describe('MFCC parity with the Python reference (ei_mfcc_ref.py)', { skip: needs('numpy') }, () => {
  const { dir, cleanup } = tempDir('mfcc');
  after(cleanup);

  it('matches within 1e-3 on every coefficient of 20 FSDD recordings (1 s window)', async () => {
    const files = sampleFiles();
    assert.equal(files.length, 20);
    // two reference processes at a time: the machine has two cores
    const refs: Float64Array[] = [];
    for (let i = 0; i < files.length; i += 2) {
      refs.push(...(await Promise.all(files.slice(i, i + 2).map((f) => reference(join(FSDD, f))))));
    }
    let worst = 0;
    files.forEach((f, i) => {
      const ours = computeWavFeatures(join(FSDD, f), 1);
      assert.equal(ours.frames, 50);
      assert.equal(ours.coeffs, 13);
      const d = maxAbsDiff(ours.features, refs[i]!);
      assert.ok(d <= TOLERANCE, `${f}: largest difference ${d}`);
      worst = Math.max(worst, d);
    });
    console.log(`# MFCC parity: largest difference over ${files.length} FSDD files: ${worst.toExponential(2)}`);
  });

  it('matches for a short window (15 frames: the 101-frame normalisation pads past the signal) and a long one', async () => {
    const f = join(FSDD, '4_nicolas_12.wav');
    for (const seconds of [0.3, 2.5]) {
      const ref = await reference(f, seconds);
      const ours = computeWavFeatures(f, seconds);
      assert.equal(ours.frames, mfccFrameCount(Math.round(8000 * seconds), 8000));
      assert.ok(maxAbsDiff(ours.features, ref) <= TOLERANCE, `window ${seconds} s`);
    }
  });

  it('matches with every option overridden, and at 16 kHz (reference function called directly)', () => {
    // a 16 kHz chirp with noise, written by Python; the reference's mfcc_ei called with overrides
    const out = python(
      `
import importlib.util, wave
spec = importlib.util.spec_from_file_location('ref', sys.argv[1]); ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
rng = np.random.default_rng(5)
t = np.arange(16000) / 16000
sig = np.round(8000 * np.sin(2 * np.pi * (200 + 1500 * t) * t) + rng.normal(0, 300, t.size)).astype('<i2')
with wave.open(sys.argv[2], 'wb') as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(sig.tobytes())
s = sig.astype(np.float64)
a = ref.mfcc_ei(s, 16000)
b = ref.mfcc_ei(s, 16000, frame_len=0.025, stride=0.01, nfilt=40, nfft=512, ncep=20, low=80, high=7000, pre=0.9, win=51)
print(json.dumps([a.tolist(), b.tolist()]))
`,
      [REF, join(dir, 'chirp16k.wav')],
    );
    const [a, b] = JSON.parse(out) as [number[], number[]];
    const wav = readWav(join(dir, 'chirp16k.wav'));
    const defaults = mfcc(wav.samples, 16000);
    assert.equal(defaults.frames, 50);
    assert.ok(maxAbsDiff(defaults.features, a) <= TOLERANCE, 'defaults at 16 kHz');
    const custom = mfcc(padOrCrop(wav.samples, 16000), 16000, {
      frameLength: 0.025,
      frameStride: 0.01,
      numFilters: 40,
      fftLength: 512,
      numCepstral: 20,
      lowFrequency: 80,
      highFrequency: 7000,
      preEmphasis: 0.9,
      winSize: 51,
    });
    assert.equal(custom.coeffs, 20);
    assert.equal(custom.features.length, b.length);
    assert.ok(maxAbsDiff(custom.features, b) <= TOLERANCE, 'overridden options');
  });

  it('rejects impossible options with a UserError naming the option', () => {
    const sig = new Float32Array(8000);
    assert.match(userErrorMessage(() => mfcc(sig, 8000, { numCepstral: 40 })), /mfcc: numCepstral: 40 exceeds numFilters/);
    assert.match(userErrorMessage(() => mfcc(sig, 8000, { highFrequency: 6000 })), /mfcc: lowFrequency\/highFrequency: expected 0 <= low < high <= 4000/);
    assert.match(userErrorMessage(() => mfcc(sig, 8000, { fftLength: 255 })), /mfcc: fftLength: expected an even number/);
    assert.match(userErrorMessage(() => mfcc(new Float32Array(50), 8000)), /mfcc: frame length: signal of 50 samples is shorter than one frame of 160/);
  });
});
