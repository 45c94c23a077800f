import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseSweepConfig, hyperbandMilestones, type SweepConfig } from '../../src/sweep/config.js';

const GOOD = `method: random
run_cap: 12
seed: 4
metric:
  name: val_acc
  goal: maximize
parameters:
  learning_rate: {distribution: log_uniform_values, min: 0.0001, max: 0.1}
  width: {values: [0.5, 1, 2]}
  epochs: {value: 5}
  batch-size: {min: 8, max: 64}
  dropout: {distribution: q_uniform, min: 0, max: 0.5, q: 0.1}
  dendrites: {values: [true, false]}
  dendrite-form: {values: [gated, merged]}
  improvement-threshold: {value: "0.002,0.0005"}
early_terminate: {type: hyperband, min_iter: 2, eta: 3, s: 3}
program: train.py
`;

function fails(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseSweepConfig(text, 'sweep.yaml'),
    (err: Error) => {
      assert.equal(err.name, 'UserError');
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('a W&B sweep config parses: every kind of parameter, metric aliases, hyperband, ignored W&B keys', () => {
  const c: SweepConfig = parseSweepConfig(GOOD, 'sweep.yaml');
  assert.equal(c.method, 'random');
  assert.equal(c.trials, 12);
  assert.equal(c.seed, 4);
  assert.deepEqual(c.metric, { name: 'accuracy', goal: 'maximize' });
  assert.deepEqual(c.constraints, []);
  assert.deepEqual(c.ignored, ['program']);
  const by = Object.fromEntries(c.dimensions.map((d) => [d.param, d]));
  assert.deepEqual(Object.keys(by), ['learning-rate', 'width', 'epochs', 'batch-size', 'dropout', 'dendrites', 'dendrite-form', 'improvement-threshold']);
  assert.deepEqual(
    { ...by['learning-rate'], spec: undefined },
    { param: 'learning-rate', spec: undefined, kind: 'numeric', distribution: 'log_uniform_values', min: 0.0001, max: 0.1, log: true, q: undefined },
  );
  assert.equal(by['batch-size']!.kind === 'numeric' && by['batch-size']!.distribution, 'int_uniform'); // integer min/max
  assert.equal(by['dropout']!.kind === 'numeric' && by['dropout']!.q, 0.1);
  assert.deepEqual(by['width']!.kind === 'choice' && by['width']!.values, [0.5, 1, 2]);
  assert.deepEqual(by['dendrites']!.kind === 'choice' && by['dendrites']!.values, [true, false]);
  assert.equal(by['improvement-threshold']!.kind === 'fixed' && by['improvement-threshold']!.value, '0.002,0.0005');
  // W&B: with min_iter (and no max_iter) the bands are min_iter * eta^k for every k; s counts back from max_iter only.
  assert.deepEqual(
    { ...c.earlyTerminate, milestones: c.earlyTerminate?.milestones.slice(0, 4) },
    { type: 'hyperband', minIter: 2, eta: 3, strict: false, milestones: [2, 6, 18, 54] },
  );
});

test('loss metric defaults to minimize; grid size is the product of the values, capped by run_cap', () => {
  const c = parseSweepConfig('method: grid\nmetric: {name: loss}\nparameters:\n  width: {values: [1, 2, 3]}\n  seed: {values: [0, 1]}\n', 'g.yaml');
  assert.deepEqual(c.metric, { name: 'loss', goal: 'minimize' });
  assert.equal(c.trials, 6);
  assert.equal(parseSweepConfig('method: grid\nrun_cap: 4\nparameters:\n  width: {values: [1, 2, 3]}\n  seed: {values: [0, 1]}\n', 'g.yaml').trials, 4);
});

test('bad configs name the file and the line of the mistake', () => {
  const base = (param: string) => `method: random\nrun_cap: 3\nparameters:\n  epochs: {value: 2}\n${param}\n`;
  fails(base('  learning-rate: {min: 0, max: 0.1}'), /^sweep\.yaml:5: parameters\.learning-rate\.min: got 0, expected a number > 0 and <= 10$/);
  fails(base('  widht: {values: [1, 2]}'), /^sweep\.yaml:5: parameters\.widht: unknown parameter: expected a block parameter \(epochs, learning-rate, /);
  fails(base('  data-directory: {value: /tmp}'), /^sweep\.yaml:5: parameters\.data-directory: not a block parameter/);
  fails(
    base('  model: {values: [dense, lstm]}'),
    /^sweep\.yaml:5: parameters\.model\.values\[1\]: got "lstm", expected one of auto\|ei-kws\|dense\|conv2d$/,
  );
  fails(
    base('  batch-size: {distribution: uniform, min: 8, max: 64}'),
    /^sweep\.yaml:5: parameters\.batch-size: batch-size is an integer parameter: expected int_uniform/,
  );
  fails(
    base('  width: {distribution: normal, min: 1, max: 2}'),
    /^sweep\.yaml:5: parameters\.width\.min: normal takes mu and sigma, not min \(W&B's schema refuses it too\)/,
  );
  fails(
    base('  width: {distribution: gamma, min: 1, max: 2}'),
    /^sweep\.yaml:5: parameters\.width\.distribution: got "gamma", expected one of constant\|categorical\|/,
  );
  fails(base('  width: {min: 2, max: 1}'), /^sweep\.yaml:5: parameters\.width\.min: got min 2 and max 1, expected min < max$/);
  fails(base('  width: {min: 1, max: 20}'), /^sweep\.yaml:5: parameters\.width\.max: got 20, expected a number > 0 and <= 16$/);
  fails(base('  dendrites: {min: 0, max: 1}'), /^sweep\.yaml:5: parameters\.dendrites: a boolean parameter takes value or values/);
  fails(base('  width: {valeus: [1]}'), /^sweep\.yaml:5: parameters\.width\.valeus: unknown key/);
  fails(base('  epochs: {value: 3}'), /^sweep\.yaml:5: YAML: Map keys must be unique/);
  fails(base('  learning-rate: {value: 0.1}\n  learning_rate: {value: 0.2}'), /^sweep\.yaml:6: parameters\.learning_rate: learning-rate is given twice$/);
  fails('method: random\nparameters:\n  width: {values: [1, 2]}\n', /^sweep\.yaml:1: run_cap: missing: method random needs run_cap/);
  fails(
    'method: grid\nparameters:\n  width: {values: [1, 2]}\n  dropout: {min: 0.1, max: 0.2}\n',
    /^sweep\.yaml:3: parameters\.dropout: method grid needs value or values/,
  );
  fails('method: hill-climb\nparameters:\n  width: {values: [1]}\n', /^sweep\.yaml:1: method: got "hill-climb", expected grid, random or bayes$/);
  fails('method: grid\nmetric: {name: f1}\nparameters:\n  width: {values: [1]}\n', /^sweep\.yaml:2: metric\.name: got "f1", expected one of accuracy\|/);
  fails(
    'method: grid\nparameters:\n  width: {values: [1]}\nearly_terminate: {type: hyperband, eta: 3, s: 2}\n',
    /^sweep\.yaml:4: early_terminate\.min_iter: missing: expected min_iter .*, or max_iter and s$/,
  );
  fails('method: grid\nparameters:\n  width: {values: [1]\n', /^sweep\.yaml:[34]: YAML: /);
  fails('method: grid\nparameters:\n  width: {values: [1]}\nfoo: 1\n', /^sweep\.yaml:4: foo: unknown key: expected method, /);
});

test('hyperband brackets: min_iter * eta^k, or up to max_iter', () => {
  assert.deepEqual(hyperbandMilestones(1, 3, 4), [1, 3, 9, 27]);
  assert.deepEqual(hyperbandMilestones(2, 2, 3), [2, 4, 8]);
  assert.deepEqual(hyperbandMilestones(2, 2, Infinity, 20), [2, 4, 8, 16]);
  const c = parseSweepConfig(
    'method: grid\nparameters:\n  width: {values: [1]}\nearly_terminate: {type: hyperband, min_iter: 3, eta: 3, max_iter: 27}\n',
    's.yaml',
  );
  assert.deepEqual(c.earlyTerminate?.milestones, [3, 9, 27]);
});

test("W&B's keys as its reference defines them: probabilities, every distribution, nested parameters, Keras metric names, target, strict", () => {
  const c = parseSweepConfig(
    `method: random
run_cap: 4
metric: {name: val_accuracy, goal: maximize, target: 0.97}
parameters:
  optimizer: {distribution: categorical_w_probabilities, values: [adam, sgd], probabilities: [0.9, 0.1]}
  training:
    parameters:
      learning-rate: {distribution: q_log_uniform, min: -9.2, max: -2.3, q: 0.0001}
      dropout: {distribution: beta, a: 2, b: 5}
  width: {distribution: normal, mu: 1, sigma: 0.3}
  batch-size: {distribution: q_log_normal, mu: 3.5, sigma: 0.5, q: 1}
  lr-patience: {distribution: q_normal, mu: 5, sigma: 2, q: 1}
early_terminate: {type: hyperband, max_iter: 27, s: 2, eta: 3, strict: true}
`,
    'w.yaml',
  );
  assert.deepEqual(c.metric, { name: 'accuracy', goal: 'maximize', target: 0.97 });
  assert.deepEqual(c.earlyTerminate?.milestones, [3, 9]); // W&B: floor(27/3), floor(27/9), sorted
  assert.equal(c.earlyTerminate?.strict, true);
  const by = Object.fromEntries(c.dimensions.map((d) => [d.param, d]));
  assert.deepEqual(by.optimizer!.kind === 'choice' && by.optimizer!.probabilities, [0.9, 0.1]);
  assert.deepEqual(Object.keys(by), ['optimizer', 'learning-rate', 'dropout', 'width', 'batch-size', 'lr-patience']);
  const lr = by['learning-rate']!;
  assert.ok(lr.kind === 'numeric' && Math.abs(lr.min - Math.exp(-9.2)) < 1e-12 && Math.abs(lr.max - Math.exp(-2.3)) < 1e-12 && lr.log); // exponents
  assert.equal(c.notes, undefined); // goal given
  assert.deepEqual(parseSweepConfig('method: grid\nmetric: {name: val_accuracy}\nparameters:\n  width: {values: [1]}\n', 'm.yaml').notes, [
    'metric.goal is missing: W&B would minimize accuracy; this sweep maximizes it (write goal: to say which)',
  ]);
  for (const name of ['accuracy', 'val_acc', 'val_accuracy', 'validation.accuracy']) {
    assert.equal(parseSweepConfig(`method: grid\nmetric: {name: ${name}}\nparameters:\n  width: {values: [1]}\n`, 'm.yaml').metric.name, 'accuracy');
  }
  assert.deepEqual(parseSweepConfig(`method: grid\nmetric: {name: val_loss}\nparameters:\n  width: {values: [1]}\n`, 'm.yaml').metric, {
    name: 'loss',
    goal: 'minimize',
  });
  // inv_log_uniform: log(1/X) uniform on [min, max]
  const inv = parseSweepConfig('method: random\nrun_cap: 1\nparameters:\n  learning-rate: {distribution: inv_log_uniform, min: 2, max: 6}\n', 'i.yaml')
    .dimensions[0]!;
  assert.ok(inv.kind === 'numeric' && Math.abs(inv.min - Math.exp(-6)) < 1e-15 && Math.abs(inv.max - Math.exp(-2)) < 1e-15);
  const invValues = parseSweepConfig(
    'method: random\nrun_cap: 1\nparameters:\n  width: {distribution: inv_log_uniform_values, min: 0.5, max: 4}\n',
    'i.yaml',
  ).dimensions[0]!;
  assert.ok(invValues.kind === 'numeric' && invValues.min === 0.5 && invValues.max === 4 && invValues.log);
  // hyperband with min_iter alone (W&B accepts it)
  const hb = parseSweepConfig('method: grid\nparameters:\n  width: {values: [1]}\nearly_terminate: {type: hyperband, min_iter: 2}\n', 'h.yaml');
  assert.deepEqual(hb.earlyTerminate?.milestones.slice(0, 3), [2, 6, 18]);
  assert.equal(hb.earlyTerminate?.strict, false);
});

test('what is refused says why: probabilities that do not fit, impute, hyperband on a deployed metric, a normal outside the range', () => {
  const base = (param: string) => `method: random\nrun_cap: 3\nparameters:\n  epochs: {value: 2}\n${param}\n`;
  fails(
    base('  optimizer: {values: [adam, sgd], probabilities: [0.5]}'),
    /^sweep\.yaml:5: parameters\.optimizer\.probabilities: got 1 numbers, expected a list of 2/,
  );
  fails(
    base('  optimizer: {values: [adam, sgd], probabilities: [0.5, 0.6]}'),
    /^sweep\.yaml:5: parameters\.optimizer\.probabilities: they sum to 1\.1, expected 1$/,
  );
  fails(
    base('  dropout: {distribution: normal, mu: 50, sigma: 0.1}'),
    /^sweep\.yaml:5: parameters\.dropout: normal puts no probability inside dropout's range \[0, 0\.9\]/,
  );
  fails(
    base('  batch-size: {distribution: normal, mu: 32, sigma: 4}'),
    /^sweep\.yaml:5: parameters\.batch-size: batch-size is an integer parameter: expected q_normal with an integer q/,
  );
  fails(base('  width: {distribution: uniform, min: 1, max: 2, mu: 1}'), /^sweep\.yaml:5: parameters\.width\.mu: mu belongs to distribution normal/);
  fails(base('  training: {parameters: {widht: {value: 1}}}'), /^sweep\.yaml:5: parameters\.training\.parameters\.widht: unknown parameter/);
  fails('method: grid\nmetric: {name: accuracy, impute: worst}\nparameters:\n  width: {values: [1]}\n', /^sweep\.yaml:2: metric\.impute: not supported: /);
  fails(
    'method: grid\nmetric: {name: int8_accuracy}\nparameters:\n  width: {values: [1]}\nearly_terminate: {type: hyperband, min_iter: 2}\n',
    /^sweep\.yaml:5: early_terminate: hyperband judges trials on a metric of each epoch, and int8_accuracy is known only once/,
  );
  fails(
    'method: grid\nparameters:\n  width: {values: [1]}\nearly_terminate: {type: hyperband, max_iter: 27}\n',
    /^sweep\.yaml:4: early_terminate\.s: missing: max_iter needs s/,
  );
  fails(
    'method: grid\nparameters:\n  width: {values: [1]}\nconstraints: {ram: {max: -1, min: 3}}\n',
    /^sweep\.yaml:4: constraints\.ram: got min 3 and max -1, expected min <= max$/,
  );
  fails('method: grid\nparameters:\n  width: {values: [1]}\nconstraints: {f1: {max: 1}}\n', /^sweep\.yaml:4: constraints\.f1: unknown figure/);
});

test('constraints and deployed-model metrics parse', () => {
  const c = parseSweepConfig(
    'method: random\nrun_cap: 2\nmetric: {name: int8_accuracy}\nconstraints: {ram_bytes: {max: 65536}, latency: {max: 20}}\nparameters:\n  width: {min: 0.5, max: 2.0}\n',
    'c.yaml',
  );
  assert.deepEqual(c.metric, { name: 'int8_accuracy', goal: 'maximize' });
  assert.deepEqual(c.constraints, [
    { name: 'ram_bytes', max: 65536 },
    { name: 'latency_ms', max: 20 },
  ]);
});

test("docs/sweeps.md's example configuration parses as described; method custom is refused with the reason", () => {
  const doc = readFileSync(new URL('../../docs/sweeps.md', import.meta.url), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
  const c = parseSweepConfig(yaml, 'docs/sweeps.md');
  assert.deepEqual(c.metric, { name: 'accuracy', goal: 'maximize', target: 0.97 });
  assert.deepEqual(c.constraints, [{ name: 'ram_bytes', max: 65536 }]);
  assert.deepEqual(
    c.dimensions.map((d) => d.param),
    ['epochs', 'learning-rate', 'width', 'batch-size', 'dropout', 'dendrites', 'dendrite-rank'],
  );
  assert.deepEqual(c.earlyTerminate?.milestones.slice(0, 3), [3, 9, 27]);
  fails(
    'method: custom\nparameters:\n  width: {values: [1]}\n',
    /^sweep\.yaml:1: method: W&B's custom method takes its proposals from an external controller/,
  );
});
