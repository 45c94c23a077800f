import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { defaultConfig, type Config } from '../../src/params/schema.js';
import { cycleFor, cycleMode } from '../../src/dendrites/cycle.js';
import { evaluate, loopParts, trainLoop, type EpochRecord } from '../../src/train/loop.js';
import { dendriteSetCount } from '../../src/dendrites/apply.js';
import { ringData, ringModel } from '../helpers/ring-data.js';
import { parseExperimentArgs } from '../../src/experiment/args.js';
import { runConfig } from '../../src/experiment/run.js';

const model = ringModel;

const config = (extra: Partial<Config>): Config => ({ ...defaultConfig(), learningRate: 0.01, batchSize: 16, seed: 5, ...extra });

test('restarts with dendrites off: at each switch the best weights come back at their rate, no set is added, the run ends by itself', () => {
  const train = ringData(240, 5),
    val = ringData(60, 6);
  const cfg = config({
    dendrites: false,
    restarts: true,
    epochs: 60,
    switchMode: 'fixed',
    firstFixedSwitchNum: 6,
    fixedSwitchNum: 6,
    maxDendrites: 2,
    maxDendriteTries: 1,
    lrPatience: 2,
  });
  const options = { ...cfg, ...loopParts(cfg, 4), cycle: cycleFor(cfg) };
  assert.ok(options.cycle?.restartsOnly, 'a restarts-only cycle');
  const m = model(3);
  const parameters = m.parameterCount();
  const seen: EpochRecord[] = [];
  // At each restart event the model holds the restored weights: they validate exactly as the best epoch so far did.
  const atRestart: Array<{ epoch: number; acc: number; loss: number; bestAcc: number; bestLoss: number; bestLr: number }> = [];
  const r = trainLoop(m, train, val, {
    ...options,
    observer: {
      epochEnd: (h) => seen.push(h),
      event: (e) => {
        if (e.type !== 'restored_best' || !e.detail?.startsWith('restart')) return;
        const v = evaluate(m, val);
        const best = seen.reduce((a, b) => (b.val_acc > a.val_acc || (b.val_acc === a.val_acc && b.val_loss < a.val_loss) ? b : a));
        atRestart.push({ epoch: e.epoch, acc: v.acc, loss: v.loss, bestAcc: best.val_acc, bestLoss: best.val_loss, bestLr: best.lr });
      },
    },
  });
  assert.ok(atRestart.length >= 1, `no restart: ${JSON.stringify(r.events)}`);
  for (const x of atRestart) {
    assert.equal(x.acc, x.bestAcc, `epoch ${x.epoch}: restored accuracy`);
    assert.ok(Math.abs(x.loss - x.bestLoss) < 1e-6, `epoch ${x.epoch}: restored loss ${x.loss} vs ${x.bestLoss}`);
    // training continues at the rate the restored weights were found with (a fresh schedule cannot lower it within one epoch)
    const next = r.history.find((h) => h.epoch === x.epoch + 1);
    if (next) assert.equal(next.lr, x.bestLr, `epoch ${x.epoch + 1} lr`);
  }
  const restoredEarlier = r.events.some((e) => {
    const from = /^restart \d+: .* from epoch (\d+)'s weights/.exec(e.detail ?? '');
    return e.type === 'restored_best' && from !== null && Number(from[1]) < e.epoch;
  });
  assert.ok(restoredEarlier, `a restart went back to an earlier epoch's weights: ${JSON.stringify(r.events)}`);
  assert.ok(!r.events.some((e) => e.type === 'added' || e.type === 'discarded'), JSON.stringify(r.events));
  assert.equal(dendriteSetCount(m), 0);
  assert.equal(m.parameterCount(), parameters);
  assert.ok(r.history.every((h) => h.dendrite_sets === 0));
  assert.equal(r.stoppedBy, 'completed');
  assert.ok(r.epochsRun < 60, `ran ${r.epochsRun} epochs`);
  const done = r.events.find((e) => e.type === 'training_complete');
  assert.match(done?.detail ?? '', /^no further restart after \d+/);
  // the weights that ship are the best epoch's
  const best = r.history.reduce((a, b) => (b.val_acc > a.val_acc || (b.val_acc === a.val_acc && b.val_loss < a.val_loss) ? b : a));
  assert.equal(r.best.epoch, best.epoch);
  assert.equal(evaluate(m, val).acc, best.val_acc);
});

test('restarts is off for switch-mode none (the baseline), for restarts 0, and never replaces a dendritic cycle', () => {
  assert.equal(cycleFor(config({ dendrites: false, restarts: false })), undefined);
  assert.equal(cycleFor(config({ dendrites: false, restarts: true, switchMode: 'none' })), undefined);
  assert.equal(cycleFor(config({ dendrites: true, restarts: true, switchMode: 'none' })), undefined, 'the experiment baseline stays plain');
  assert.equal(cycleMode(config({ dendrites: true, restarts: true })), 'dendrites');
  const dendritic = cycleFor(config({ dendrites: true, restarts: true }));
  assert.ok(dendritic && !dendritic.restartsOnly);
  const restarts = cycleFor(config({ dendrites: false }));
  assert.ok(restarts?.restartsOnly, 'on by default with dendrites off');
  assert.equal(restarts.splitLearningRate, false);
  assert.equal(restarts.pruneDendrites, false);
  assert.throws(() => restarts.addSet(model(1), new Rng(0)), /adds no sets/);
});

test("experiment: the 'restarts' mode is the plain network with restarts; the baseline stays plain", () => {
  const base = parseExperimentArgs(['--data-directory', '/d', '--modes', 'restarts,frozen']);
  assert.deepEqual(base.modes, ['restarts', 'frozen']);
  const restarts = runConfig(base.config, 'restarts', 1, 5);
  assert.deepEqual([restarts.dendrites, restarts.restarts, restarts.width, restarts.seed], [false, true, 1, 5]);
  assert.ok(cycleFor(restarts)?.restartsOnly);
  assert.equal(cycleFor(runConfig(base.config, 'baseline', 1, 5)), undefined);
  const differing = (Object.keys(restarts) as Array<keyof Config>).filter(
    (k) => JSON.stringify(restarts[k]) !== JSON.stringify(runConfig(base.config, 'baseline', 1, 5)[k]),
  );
  assert.deepEqual(differing.sort(), ['dendrites', 'switchMode']);
});
