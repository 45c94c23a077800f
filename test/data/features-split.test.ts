/**
 * Issue 25's small truths about `features`: --num-cepstral 10 writes a [frames, 10] shape that `auto`
 * trains with the KWS conv net; --split group keeps each speaker in one split; the log says which split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFeaturesArgs } from '../../src/commands/features.js';
import { groupOf, splitFiles, type WavFile } from '../../src/data/wav-dataset.js';
import { autoKind } from '../../src/models/select.js';
import { runCli } from '../helpers/ei-data.js';
import { FSDD, tempDir, userErrorMessage } from './helpers.js';

const SPEAKERS = ['jackson', 'theo', 'lucas', 'nicolas'];

function fsddSubset(dir: string, takes = 5): string {
  const wav = join(dir, 'wav');
  mkdirSync(wav, { recursive: true });
  for (const d of [0, 1]) for (const s of SPEAKERS) for (let t = 0; t < takes; t++) copyFileSync(join(FSDD, `${d}_${s}_${t}.wav`), join(wav, `${d}_${s}_${t}.wav`));
  return wav;
}

test('group split: whole speakers to validation by the file-name rule, none in both; the rule is named', () => {
  const files: WavFile[] = [];
  for (const d of ['0', '1']) for (const s of SPEAKERS) for (let t = 0; t < 5; t++) files.push({ name: `${d}_${s}_${t}.wav`, path: '', label: d });
  assert.equal(groupOf(files[0]!), 'jackson');
  assert.equal(groupOf({ name: 'yes/0a7c2a8d_nohash_0.wav', path: '', label: 'yes' }), '0a7c2a8d'); // folder labels: first field
  assert.equal(groupOf(files[0]!, /_(\w+?)_/), 'jackson');
  const split = splitFiles(files, { validationFraction: 0.2, seed: 1, splitBy: 'group' });
  const speakerOf = (i: number) => groupOf(files[i]!);
  const trainSpeakers = new Set(split.train.map(speakerOf));
  const valSpeakers = new Set(split.validation.map(speakerOf));
  assert.deepEqual([...valSpeakers].filter((s) => trainSpeakers.has(s)), []);
  assert.equal(valSpeakers.size, 1); // 1 of 4 speakers holds 25% >= 20%
  assert.deepEqual(split.validationGroups, [...valSpeakers]);
  assert.match(split.rule, /^group: by the file-name rule '<label>_<group>_\.\.\.', 4 groups, validation \w+ \(10 files\), no group in both splits$/);
  // random (the default) says so, and why it flatters
  const random = splitFiles(files, { validationFraction: 0.2, seed: 1 });
  assert.match(random.rule, /^random: a seeded 0\.2 of each class's files \(a speaker's recordings can be in both splits; --split group keeps each group in one\)$/);
  assert.match(userErrorMessage(() => splitFiles([files[0]!, files[1]!], { validationFraction: 0.2, seed: 1, splitBy: 'group' })), /--split group: found 1 group \('jackson'\): expected at least two/);
  assert.match(userErrorMessage(() => groupOf({ name: '0.wav', path: '', label: '0' })), /^0\.wav: group: file name has no group field/);
});

test("features --split group on FSDD: no speaker in both splits, the log names the split; --num-cepstral 10 is a [frames, 10] spectrogram auto trains with the KWS net", () => {
  const { dir, cleanup } = tempDir('features-split');
  try {
    const wav = fsddSubset(dir);
    const out = join(dir, 'g');
    const r = runCli(['features', '--wav-dir', wav, '--out-directory', out, '--split', 'group', '--num-cepstral', '10'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^features: split: group: by the file-name rule '<label>_<group>_\.\.\.', 4 groups, validation \w+ \(10 files\), no group in both splits$/m);
    const summary = JSON.parse(r.stdout) as { validationGroups: string[]; coeffs: number; frames: number; features: number };
    const names = JSON.parse(readFileSync(join(out, 'sample_names.json'), 'utf8')) as Record<string, string>;
    const ids = JSON.parse(readFileSync(join(out, 'sample_id_details.json'), 'utf8')) as { train: number[]; validation: number[] };
    const speaker = (i: number) => names[String(i)]!.split('_')[1]!;
    assert.deepEqual([...new Set(ids.validation.map(speaker))], summary.validationGroups);
    assert.ok(ids.train.every((i) => !summary.validationGroups.includes(speaker(i))));
    // the shape: frames x 10 coefficients, which `auto` reads as a spectrogram
    assert.equal(summary.coeffs, 10);
    const info = JSON.parse(readFileSync(join(out, 'train_input.json'), 'utf8')) as { inputShapeString: string };
    assert.equal(info.inputShapeString, `(${summary.frames}, 10)`);
    assert.equal(autoKind({ features: summary.features, inputShape: [summary.frames, 10] }), 'ei-kws');
    const info10 = join(out, 'train_input.json');
    const t = runCli(['train', '--data-directory', out, '--info-file', info10, '--out-directory', join(dir, 'model'), '--epochs', '1', '--dendrites', '0'], {
      timeoutMs: 120_000,
    });
    assert.equal(t.code, 0, t.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'model', 'report.json'), 'utf8')) as { model: { family: string }; data: { input_shape: number[] } };
    assert.equal(report.model.family, 'ei-kws');
    assert.deepEqual(report.data.input_shape, [summary.frames, 10]);
    // without --info-file the shape is not known: train says where it is
    const bare = runCli(['train', '--data-directory', out, '--out-directory', join(dir, 'bare'), '--epochs', '1', '--dendrites', '0'], { timeoutMs: 120_000 });
    assert.equal(bare.code, 0, bare.stderr);
    assert.ok(bare.stderr.includes(`note: ${info10} not read (no --info-file): pass --info-file ${info10} to use its classes and input shape`), bare.stderr);
    // refusals
    assert.match(userErrorMessage(() => parseFeaturesArgs(['--wav-dir', wav, '--out-directory', out, '--split', 'speaker'])), /--split: expected 'random' or 'group', got 'speaker'/);
    assert.match(userErrorMessage(() => parseFeaturesArgs(['--wav-dir', wav, '--out-directory', out, '--group-match', '_(\\w+)_'])), /--group-match: names the groups of --split group/);
    // the default (random) split is named in the log too
    const d = runCli(['features', '--wav-dir', wav, '--out-directory', join(dir, 'r')], { timeoutMs: 120_000 });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /^features: split: random: a seeded 0\.2 of each class's files/m);
  } finally {
    cleanup();
  }
});
