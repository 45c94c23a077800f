/**
 * Issue 25: with the payoff check shipping the plain network, TensorBoard shows that network's epochs
 * too (tensorboard/payoff_plain/, a run of its own beside the dendritic run in tensorboard/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { PAYOFF_PLAIN_DIR } from '../../src/report/epoch-sinks.js';
import { TENSORBOARD_DIR } from '../../src/report/tensorboard.js';

const READER = fileURLToPath(new URL('./tfevents_reader.py', import.meta.url));

function steps(dir: string): Array<{ step: number; scalars: Record<string, number> }> {
  const files = readdirSync(dir).filter((f) => f.includes('tfevents'));
  assert.equal(files.length, 1, `${dir}: ${files.join(', ')}`);
  const r = spawnSync('/usr/bin/python3', [READER, join(dir, files[0]!)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { events: Array<{ step: number; scalars: Record<string, number> }> }).events.slice(1);
}

test('train --tensorboard: when the plain network ships, its epochs are a TensorBoard run of their own', () => {
  const { dir, cleanup } = tempDir('tb-shipped');
  try {
    const data = join(dir, 'data');
    const out = join(dir, 'out');
    mkdirSync(data);
    writeEiDirectory(data, { features: 12, classes: 3, trainRows: 96, valRows: 30 });
    const flags = ['--model', 'dense', '--epochs', '6', '--seed', '1', '--switch-mode', 'fixed', '--first-fixed-switch-num', '2'];
    const more = ['--fixed-switch-num', '2', '--max-dendrites', '1', '--retain-all-dendrites', '1', '--tensorboard'];
    const r = runCli(['train', '--data-directory', data, '--out-directory', out, ...flags, ...more, '--quiet'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const p = report.dendrites.payoff;
    assert.equal(p.shipped, 'plain', p.reason); // this seed and data: the plain network validates as well
    // the shipped (plain) run: history[] is its epochs, and TensorBoard has them
    const plain = steps(join(out, TENSORBOARD_DIR, PAYOFF_PLAIN_DIR));
    assert.deepEqual(
      plain.map((e) => e.step),
      report.history.map((h: { epoch: number }) => h.epoch),
    );
    plain.forEach((e, i) => assert.equal(e.scalars['accuracy/validation'], Math.fround(report.history[i].val_acc)));
    // the dendritic run stays where it was, with its dendrite set
    const dendritic = steps(join(out, TENSORBOARD_DIR));
    assert.deepEqual(
      dendritic.map((e) => e.step),
      p.dendritic.history.map((h: { epoch: number }) => h.epoch),
    );
    assert.ok(dendritic.some((e) => e.scalars.dendrite_sets! > 0));
  } finally {
    cleanup();
  }
});
