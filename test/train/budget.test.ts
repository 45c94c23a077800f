/**
 * TrainingBudget's phases: with the payoff check on, the dendritic run may use only part of a time
 * limit once a set is installed, so the plain run the check needs is left time of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainingBudget } from '../../src/train/budget.js';

test('a phase ends at its share of the limit while it applies; endPhase gives the rest back', () => {
  let nowMs = 0;
  const budget = new TrainingBudget(20, () => nowMs);
  let setInstalled = false;
  budget.limitPhase(0.5, () => setInstalled);
  nowMs = 12_000;
  assert.equal(budget.stopReason(), null, 'no set yet: the whole limit applies');
  assert.equal(budget.hasTimeFor(5), true);
  setInstalled = true;
  assert.equal(budget.stopReason(), 'time_limit', 'a set is installed: the phase ends at 10 s');
  assert.equal(budget.hasTimeFor(1), false);
  budget.endPhase();
  assert.equal(budget.stopReason(), null);
  assert.equal(budget.hasTimeFor(8), true);
  assert.equal(budget.hasTimeFor(9), false);
  nowMs = 20_000;
  assert.equal(budget.stopReason(), 'time_limit');
});

test('without a time limit a phase changes nothing', () => {
  let nowMs = 0;
  const budget = new TrainingBudget(0, () => nowMs);
  budget.limitPhase(0.5);
  nowMs = 1e9;
  assert.equal(budget.stopReason(), null);
  assert.equal(budget.hasTimeFor(1e6), true);
});
