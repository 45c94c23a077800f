/**
 * The checkbox's second run (the dendritic candidate) in the checkpoint and under a signal
 * (src/train/checkbox-resume.ts, src/train/run-checkpoint.ts): resuming in the second phase does not train
 * the dendrites-off network again and ends with the uninterrupted run's weights and accuracies; a signal
 * in the second run ends it with its best weights so far and the choice says so; old (format 1)
 * checkpoints still resume the first run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stoppedBySignal, trainAndChoose, type Choice, type ChooseHooks } from '../../src/train/payoff.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.js';
import { CHECKPOINT_FORMAT, encodeRunCheckpoint, readResumePoint, type ResumePoint } from '../../src/train/run-checkpoint.js';
import { createStopFlag, TrainingBudget } from '../../src/train/budget.js';
import type { TrainData } from '../../src/train/run.js';
import type { LoopResult } from '../../src/train/loop.js';
import type { Sequential } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import { defaultConfig, type Config } from '../../src/params/schema.js';
import { syntheticSplit, tempDir } from '../helpers/ei-data.js';

const { dir, cleanup } = tempDir('checkbox-resume');
after(cleanup);
const FP = 'fingerprint';

function data(): TrainData {
  const features = 12;
  const classes = 3;
  const rng = new Rng(4);
  const train = { ...syntheticSplit(90, features, classes, rng), n: 90, features };
  const val = { ...syntheticSplit(45, features, classes, rng), n: 45, features };
  return { train, val, classes, inputShape: undefined };
}

/** As test/train/checkbox.test.ts: sets every 2 epochs, kept, so the dendritic run restructures before and after any resume point. */
const config = (over: Partial<Config> = {}): Config => ({
  ...defaultConfig(),
  model: 'dense',
  epochs: 8,
  seed: 2,
  switchMode: 'fixed',
  firstFixedSwitchNum: 2,
  fixedSwitchNum: 2,
  maxDendrites: 2,
  retainAllDendrites: true,
  // the fold route's mechanics (sets grown in cycles from the plain optimum); expand has test/train/expand.test.ts
  dendriteRoute: 'fold',
  ...over,
});

/** Each checkpoint as train writes it (encoded at once: the loop state shares arrays the run goes on changing). */
function recorder(): { first: Uint8Array[]; second: Uint8Array[]; hooks: ChooseHooks } {
  const first: Uint8Array[] = [];
  const second: Uint8Array[] = [];
  return {
    first,
    second,
    hooks: {
      onCheckpoint: (state) => first.push(encodeRunCheckpoint(FP, { state })),
      onSecondCheckpoint: (s) => second.push(encodeRunCheckpoint(FP, { second: s })),
    },
  };
}

/** Through a file and the reader `train --resume` uses. */
function pointOf(bytes: Uint8Array, name: string): ResumePoint {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return readResumePoint(path, FP);
}

/** Epochs each run started (the plain run's through `observer`, the dendritic candidate's through `payoffObserver`). */
function epochCounter(): { plain: number[]; candidate: number[]; hooks: ChooseHooks } {
  const plain: number[] = [];
  const candidate: number[] = [];
  return { plain, candidate, hooks: { observer: { epochStart: (e) => plain.push(e) }, payoffObserver: { epochStart: (e) => candidate.push(e) } } };
}

const weights = (m: Sequential): number[][] => m.snapshot().map((a) => Array.from(a));
/** A loop's record without its wall-clock seconds (the only thing a resumed run may change). */
const untimed = (l: LoopResult): unknown => ({ ...l, history: l.history.map(({ seconds: _s, ...h }) => h) });

function assertSameChoice(resumed: Choice, reference: Choice): void {
  assert.deepEqual(weights(resumed.shipped.model), weights(reference.shipped.model), 'the shipped weights are bit-identical');
  assert.deepEqual(weights(resumed.dendritic.model), weights(reference.dendritic.model), "the dendritic candidate's (folded) weights are bit-identical");
  assert.equal(resumed.shipped.network, reference.shipped.network);
  assert.equal(resumed.payoff!.shipped, reference.payoff!.shipped);
  assert.equal(resumed.payoff!.dendritic!.valAcc, reference.payoff!.dendritic!.valAcc);
  assert.equal(resumed.payoff!.plain!.candidate.valAcc, reference.payoff!.plain!.candidate.valAcc);
  assert.deepEqual(resumed.payoff!.dendritic!.price, reference.payoff!.dendritic!.price);
  assert.deepEqual(untimed(resumed.dendritic.loop), untimed(reference.dendritic.loop));
  assert.deepEqual(untimed(resumed.primary.loop), untimed(reference.primary.loop));
  assert.equal(resumed.payoff!.reason, reference.payoff!.reason);
}

test('second phase: a checkpoint from the start of the dendritic run and after each of its epochs; resuming from any of them trains no plain epoch and ends bit-identical', () => {
  const d = data();
  const rec = recorder();
  const reference = trainAndChoose(config(), d, rec.hooks);
  assert.ok(reference.payoff?.dendritic, reference.payoff?.reason);
  const dendriticEpochs = reference.dendritic.loop.epochsRun;
  assert.ok(dendriticEpochs >= 4, `the dendritic run trained ${dendriticEpochs} epochs`);
  assert.ok(rec.first.length > 0, 'the plain run checkpointed as before');
  // one at the start, then one per epoch that did not end the run
  assert.ok(rec.second.length >= dendriticEpochs - 1 && rec.second.length <= dendriticEpochs + 1, `${rec.second.length} second-phase checkpoints`);

  const start = pointOf(rec.second[0]!, 'start.dndckpt');
  assert.ok(start.second && start.second.state === undefined, 'the first second-phase checkpoint comes before any dendritic epoch');
  assert.equal(start.second.plain.loop.epochsRun, reference.primary.loop.epochsRun);

  for (const at of [0, 3]) {
    const point = pointOf(rec.second[at]!, `at-${at}.dndckpt`);
    const seen = epochCounter();
    const info: string[] = [];
    const resumed = trainAndChoose(config(), d, { ...seen.hooks, resumeSecond: point.second!, info: (l) => info.push(l) });
    assert.deepEqual(seen.plain, [], 'the dendrites-off network is not trained again');
    const from = point.second!.state?.epoch ?? 0;
    assert.equal(seen.candidate[0], from + 1, `the dendritic run continues after its epoch ${from}`);
    assert.match(
      info.join('\n'),
      at === 0 ? /resuming the dendritic network from its start/ : new RegExp(`resuming the dendritic network after its epoch ${from}`),
    );
    assertSameChoice(resumed, reference);
  }
});

test('a kill during a resumed second run: its checkpoints continue the same phase, and resuming again still ends bit-identical', () => {
  const d = data();
  const rec = recorder();
  const reference = trainAndChoose(config(), d, rec.hooks);
  const again = recorder();
  trainAndChoose(config(), d, { ...again.hooks, resumeSecond: pointOf(rec.second[2]!, 'mid.dndckpt').second! });
  assert.equal(again.first.length, 0, 'no first-phase checkpoint from a resumed second phase');
  assert.ok(again.second.length > 0);
  const next = pointOf(again.second[0]!, 'mid-again.dndckpt');
  assert.equal(
    next.second!.state!.epoch,
    pointOf(rec.second[3]!, 'ref-3.dndckpt').second!.state!.epoch,
    "the resumed run's first checkpoint is its next epoch",
  );
  assertSameChoice(trainAndChoose(config(), d, { resumeSecond: next.second! }), reference);
});

test('a signal during the dendritic run stops it at its epoch boundary: the choice uses its best weights so far, says so, and --resume from its last checkpoint ends as the uninterrupted run', () => {
  const d = data();
  const reference = trainAndChoose(config(), d);
  const flag = createStopFlag();
  const budget = new TrainingBudget(0);
  budget.watchStopFlag(flag);
  const rec = recorder();
  const stopped = trainAndChoose(config(), d, {
    ...rec.hooks,
    budget,
    payoffObserver: { epochEnd: (r) => (r.epoch === 3 ? Atomics.store(flag, 0, 15) : undefined) },
  });
  const loop = stopped.dendritic.loop;
  assert.equal(loop.stoppedBy, 'signal');
  assert.equal(loop.epochsRun, 3, 'the epoch the signal interrupted is not counted');
  assert.ok(loop.best.epoch >= 1 && loop.best.epoch <= 3);
  assert.ok(loop.events.some((e) => e.type === 'interrupted' && e.epoch === 4));
  assert.equal(stopped.primary.loop.epochsRun, reference.primary.loop.epochsRun, 'the plain run was not cut');
  const p = stopped.payoff!;
  assert.ok(p.dendritic, 'the dendritic candidate is still priced and compared');
  assert.equal(p.shipped, p.dendritic.fits && p.dendritic.valAcc > p.plain!.candidate.valAcc ? 'dendritic' : 'plain');
  assert.match(p.reason, /stopped by a signal after 3 more epochs/);
  assert.match(p.warning ?? '', /dendritic network's training was stopped by a signal after 3 epochs.*--resume continues it/);
  assert.equal(stoppedBySignal(stopped), true, 'train keeps the checkpoint');
  assert.equal(stoppedBySignal(reference), false);
  // the kept checkpoint is the last complete epoch: --resume continues there
  const last = pointOf(rec.second.at(-1)!, 'signalled.dndckpt');
  assert.equal(last.second!.state!.epoch, 3);
  assertSameChoice(trainAndChoose(config(), d, { resumeSecond: last.second! }), reference);
});

test('format 1 checkpoints ({ fingerprint, state }) resume the first run as before; a newer format and another fingerprint are refused', () => {
  const d = data();
  const rec = recorder();
  const reference = trainAndChoose(config(), d, rec.hooks);
  const firstPoint = pointOf(rec.first[1]!, 'first.dndckpt');
  assert.ok(firstPoint.state && !firstPoint.second);
  const { format: _f, ...v1 } = { format: 1, fingerprint: FP, state: firstPoint.state };
  const old = pointOf(encodeCheckpoint(v1), 'v1.dndckpt');
  assert.equal(old.state!.epoch, 2);
  const seen = epochCounter();
  const resumed = trainAndChoose(config(), d, { ...seen.hooks, resumeFrom: old.state! });
  assert.equal(seen.plain[0], 3, 'the plain run continues after epoch 2');
  assertSameChoice(resumed, reference);

  writeFileSync(join(dir, 'newer.dndckpt'), encodeCheckpoint({ format: CHECKPOINT_FORMAT + 1, fingerprint: FP, state: firstPoint.state }));
  assert.throws(() => readResumePoint(join(dir, 'newer.dndckpt'), FP), /format 3 was written by a newer Dendritic/);
  writeFileSync(join(dir, 'other.dndckpt'), rec.second[1]!);
  assert.throws(() => readResumePoint(join(dir, 'other.dndckpt'), 'another'), /other data or parameters/);
  // a second-phase checkpoint has no top-level state, so a format-1 reader (which resumes `state`) refuses it
  const second = decodeCheckpoint(rec.second[1]!) as Record<string, unknown>;
  assert.deepEqual([second.format, second.state === undefined, typeof second.second], [2, true, 'object']);
});
