/**
 * Issue 25: the payoff check trains two networks; TensorBoard shows both (the first run in tensorboard/,
 * the second in tensorboard/<run>/, a run of its own), so the shipped network's curves are there
 * whichever ships.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { tensorboardRunDir } from '../../src/report/epoch-sinks.js';
import { TENSORBOARD_DIR } from '../../src/report/tensorboard.js';

const READER = fileURLToPath(new URL('./tfevents_reader.py', import.meta.url));

function steps(dir: string): Array<{ step: number; scalars: Record<string, number> }> {
  const files = readdirSync(dir).filter((f) => f.includes('tfevents'));
  assert.equal(files.length, 1, `${dir}: ${files.join(', ')}`);
  const r = spawnSync('/usr/bin/python3', [READER, join(dir, files[0]!)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { events: Array<{ step: number; scalars: Record<string, number> }> }).events.slice(1);
}

test('train --tensorboard: both networks of the payoff check are TensorBoard runs, the shipped one with its history', () => {
  const { dir, cleanup } = tempDir('tb-shipped');
  try {
    const data = join(dir, 'data');
    const out = join(dir, 'out');
    mkdirSync(data);
    writeEiDirectory(data, { features: 12, classes: 3, trainRows: 96, valRows: 30 });
    const flags = ['--model', 'dense', '--epochs', '6', '--seed', '1', '--switch-mode', 'fixed', '--first-fixed-switch-num', '2'];
    // the fold route: the dendritic network grows a set in a cycle, which its TensorBoard run shows
    const more = ['--fixed-switch-num', '2', '--max-dendrites', '1', '--retain-all-dendrites', '1', '--dendrite-route', 'fold', '--tensorboard'];
    const r = runCli(['train', '--data-directory', data, '--out-directory', out, ...flags, ...more, '--quiet'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const p = report.dendrites.payoff;
    assert.ok(p && p.plain && p.dendritic, 'both networks trained');
    const first = steps(join(out, TENSORBOARD_DIR));
    const second = steps(join(out, TENSORBOARD_DIR, tensorboardRunDir('dendritic_candidate')));
    assert.ok(first.length > 0 && second.length > 0, 'two TensorBoard runs');
    // the shipped network's run: its epochs and validation accuracy are report.json's history[]
    const matches = (run: typeof first) =>
      run.length === report.history.length &&
      run.every((e, i) => e.step === report.history[i].epoch && e.scalars['accuracy/validation'] === Math.fround(report.history[i].val_acc));
    assert.ok(matches(first) || matches(second), `shipped ${p.shipped}: no TensorBoard run holds report.json's history`);
    // the dendritic network's run shows its sets
    assert.ok([...first, ...second].some((e) => e.scalars.dendrite_sets! > 0));
  } finally {
    cleanup();
  }
});
