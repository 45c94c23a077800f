/**
 * How audio became features: the settings `features` records in train_input.json (`dendriticFeatures`),
 * which `train` copies into report.json (`data.audio_features`) so that `predict` can turn a WAV file
 * into exactly the feature row the model was trained on.
 */
import { userError } from '../errors.js';
import { MFCC_DEFAULTS, type MfccOptions } from './mfcc.js';

export interface AudioFeatureSettings {
  windowSeconds: number;
  sampleRate: number;
  frames: number;
  coeffs: number;
  mfcc: MfccOptions;
}

/** Validates a recorded settings object; `where` names the file and field for the error. */
export function parseAudioFeatureSettings(value: unknown, where: string): AudioFeatureSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw userError(where, 'audio features', 'expected an object');
  const v = value as Record<string, unknown>;
  const positive = (key: string, obj: Record<string, unknown>, path: string): number => {
    const x = obj[key];
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw userError(where, `${path}${key}`, `expected a number > 0, got ${JSON.stringify(x)}`);
    return x;
  };
  const mfccIn = v.mfcc ?? {};
  if (typeof mfccIn !== 'object' || mfccIn === null || Array.isArray(mfccIn)) throw userError(where, 'mfcc', 'expected an object of MFCC settings');
  const mfcc: MfccOptions = { ...MFCC_DEFAULTS };
  for (const key of Object.keys(MFCC_DEFAULTS) as (keyof MfccOptions)[]) {
    const x = (mfccIn as Record<string, unknown>)[key];
    if (x === undefined) continue;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw userError(where, `mfcc.${key}`, `expected a number, got ${JSON.stringify(x)}`);
    mfcc[key] = x;
  }
  return {
    windowSeconds: positive('windowSeconds', v, ''),
    sampleRate: positive('sampleRate', v, ''),
    frames: positive('frames', v, ''),
    coeffs: positive('coeffs', v, ''),
    mfcc,
  };
}
