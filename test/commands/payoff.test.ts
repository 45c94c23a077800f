/**
 * dendrite-payoff-check: the width search (explicit budgets), and the train command end to end (issue 22:
 * the dendrites-off network is the budget, both candidates priced in report.json, the shipped files are the shipped network's).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLAIN_WIDTH_STEP, fitsBudget, priceInt8, widestPlainWidth, widthGrid, type DeviceBudget } from '../../src/train/payoff.js';
import { buildModel } from '../../src/models/select.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { Rng } from '../../src/engine/rng.js';
import { readTfliteGraph } from '../../src/export/tflite/schema.js';
import { validateReport } from '../../src/report/schema.js';
import { renderReportHtml } from '../../src/report/html.js';
import { makeFixtureReport } from '../report/fixture.js';
import { runCli, syntheticSplit, tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { testConfig } from '../helpers/config.js';

/** Costs that grow with the channel counts a width rounds to, as real networks' do. */
const stepPrice = (w: number): DeviceBudget => {
  const channels = Math.max(1, Math.round(20 * w));
  return { ramBytes: 900 + 40 * channels, flashBytes: 60_000 + 300 * channels };
};

test('widthGrid: multiples of 1/8 up to the maximum width', () => {
  const grid = widthGrid(16);
  assert.equal(grid.length, 128);
  assert.equal(grid[0], PLAIN_WIDTH_STEP);
  assert.equal(grid[7], 1);
  assert.equal(grid.at(-1), 16);
  assert.deepEqual(widthGrid(0.1), []);
});

test('widestPlainWidth returns the widest width within both budgets, from any start, pricing a handful of widths', () => {
  const grid = widthGrid(16);
  for (const budget of [
    { ramBytes: 1900, flashBytes: 70_000 }, // RAM binds: 25 channels -> width 1.25
    { ramBytes: 10_000, flashBytes: 66_000 }, // flash binds: 20 channels -> width 1
    { ramBytes: 1900, flashBytes: 66_000 },
    { ramBytes: 1e9, flashBytes: 1e9 }, // everything fits: the schema's maximum
  ]) {
    const linear = grid.filter((w) => fitsBudget(stepPrice(w), budget)).at(-1);
    for (const start of [undefined, 0.125, 0.5, 1, 3, 16]) {
      const calls: number[] = [];
      const found = widestPlainWidth((w) => (calls.push(w), stepPrice(w)), budget, { maxWidth: 16, ...(start === undefined ? {} : { start }) });
      assert.equal(found?.width, linear, `budget ${JSON.stringify(budget)} start ${start}`);
      assert.ok(fitsBudget(found!.price, budget));
      assert.equal(new Set(calls).size, calls.length, 'each width priced once');
      assert.ok(calls.length <= 16, `${calls.length} widths priced`);
    }
  }
  assert.equal(widestPlainWidth(stepPrice, { ramBytes: 1900, flashBytes: 70_000 }, { maxWidth: 16, start: 1 })?.width, 1.25);
  assert.equal(widestPlainWidth(stepPrice, { ramBytes: 1900, flashBytes: 66_000 }, { maxWidth: 16, start: 1 })?.width, 1);
});

test('widestPlainWidth: a budget below the narrowest width gives none', () => {
  const narrowest = stepPrice(PLAIN_WIDTH_STEP);
  for (const budget of [
    { ramBytes: narrowest.ramBytes - 1, flashBytes: 1e9 },
    { ramBytes: 1e9, flashBytes: narrowest.flashBytes - 1 },
  ]) {
    for (const start of [undefined, 1, 16]) {
      assert.equal(widestPlainWidth(stepPrice, budget, { maxWidth: 16, ...(start === undefined ? {} : { start }) }), null);
    }
  }
  // exactly the narrowest width's price still fits
  assert.equal(widestPlainWidth(stepPrice, narrowest, { maxWidth: 16, start: 1 })?.width, PLAIN_WIDTH_STEP);
});

test('with real int8 prices: the plain width found fits the dendritic model, the next grid width does not', () => {
  const features = 12,
    classes = 3;
  const val = { ...syntheticSplit(30, features, classes, new Rng(2)), n: 30, features };
  const build = (width: number) => buildModel({ kind: 'dense', features, classes, width, dropout: 0.25, seed: 1 });
  const dendritic = build(1);
  addDendriteSet(dendritic, testConfig({ dendriteLayers: 'hidden', candidateWeightInit: 0.01, dendriteActivation: 'tanh', dendriteRank: 2 }), new Rng(3));
  const budget = priceInt8(dendritic, val);
  const plainSameWidth = priceInt8(build(1), val);
  assert.ok(plainSameWidth.operators < budget.operators, 'a set adds operators');
  const found = widestPlainWidth((w) => priceInt8(build(w), val), budget, { maxWidth: 16, start: 1 });
  assert.ok(found, 'plain width 1 is cheaper than width 1 with a set');
  assert.ok(found.width >= 1, `width ${found.width}`);
  assert.ok(fitsBudget(found.price, budget));
  assert.ok(!fitsBudget(priceInt8(build(found.width + PLAIN_WIDTH_STEP), val), budget), 'the next width up does not fit');
});

test('train CLI (issue 22): the dendrites-off network trains first and is the budget; the shipped files are the shipped network, within 1.05x of it, never worse on validation than dendrites off', () => {
  const { dir, cleanup } = tempDir('payoff-');
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { features: 12, classes: 3, trainRows: 96, valRows: 30 });
    const args = (out: string, extra: string[]) => [
      'train',
      '--data-directory',
      data,
      '--out-directory',
      join(dir, out),
      '--model',
      'dense',
      '--epochs',
      '6',
      '--seed',
      '1',
      '--switch-mode',
      'fixed',
      '--first-fixed-switch-num',
      '2',
      '--fixed-switch-num',
      '2',
      '--max-dendrites',
      '1',
      '--retain-all-dendrites',
      '1',
      ...extra,
    ];
    const off = runCli(args('off', ['--dendrites', '0']), { timeoutMs: 60_000 });
    assert.equal(off.code, 0, off.stderr);
    const offReport = validateReport(JSON.parse(readFileSync(join(dir, 'off', 'report.json'), 'utf8')));
    for (const form of ['linear', 'gated']) {
      const r = runCli(args(form, ['--dendrite-route', 'fold', '--dendrite-form', form]), { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      const out = join(dir, form);
      const report = validateReport(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
      const p = report.dendrites.payoff;
      assert.ok(p?.checkbox, 'dendrites.payoff.checkbox present');
      assert.ok(p.plain && p.dendritic, p.reason);
      assert.equal(p.dendritic.sets, 1);
      assert.equal(p.dendritic.folded, form === 'linear');
      // the plain candidate is the dendrites-off run: same validation, same best epoch
      assert.equal(p.plain.val_acc, offReport.validation?.accuracy);
      assert.equal(p.plain.best_epoch, offReport.best?.epoch);
      assert.deepEqual(
        p.checkbox.budget.map((b) => [b.name, b.value]),
        p.plain.figures!.map((f) => [f.name, f.value]),
      );
      assert.equal(p.dendritic.fits, form === 'linear', JSON.stringify(p.dendritic.figures));
      assert.equal(p.shipped, p.dendritic.fits && p.dendritic.val_acc > p.plain.val_acc ? 'dendritic' : 'plain');
      const shipped = p.shipped === 'plain' ? p.plain : p.dendritic;
      assert.ok(shipped.val_acc >= offReport.validation!.accuracy, 'never validates worse than dendrites off');
      // the int8 file written is the shipped network's, within 1.05x of the dendrites-off file on every figure
      const int8 = readFileSync(join(out, 'model_quantized_int8_io.tflite'));
      assert.equal(int8.length, shipped.model_bytes);
      assert.equal(readTfliteGraph(new Uint8Array(int8)).operators.length, p.plain.operators);
      const deployed = report.deployment.find((d) => d.variant === 'tflite-int8')!;
      const offDeployed = offReport.deployment.find((d) => d.variant === 'tflite-int8')!;
      assert.ok(deployed.ram_bytes <= 1.05 * offDeployed.ram_bytes && deployed.flash_bytes <= 1.05 * offDeployed.flash_bytes);
      assert.equal(report.model.parameters, p.plain.parameters, 'the deployed network has the configured size');
      assert.equal(report.validation?.accuracy, shipped.val_acc);
      assert.ok(!report.model.layers.some((l) => l.kind.startsWith('dendritic')));
      assert.match(r.stderr, /checkbox: shipping the (dendrites-off|dendritic) network: /);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      assert.match(html, new RegExp(`class="payoff-${p.shipped}"`));
      assert.match(html, /<table class="budget">/);
    }
    // the default route, expand: the configured network from fresh weights with one linear set per layer, folded
    {
      const r = runCli(args('expand', []), { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      const report = validateReport(JSON.parse(readFileSync(join(dir, 'expand', 'report.json'), 'utf8')));
      const p = report.dendrites.payoff;
      assert.ok(p?.plain && p.dendritic, p?.reason);
      assert.deepEqual([report.effective_config['dendrite-route']?.value, report.effective_config['dendrite-route']?.source], ['expand', 'default']);
      assert.deepEqual([p.dendritic.sets, p.dendritic.folded, p.dendritic.fits], [1, true, true]);
      assert.deepEqual(
        p.dendritic.figures!.map((f) => [f.name, f.value]),
        p.plain.figures!.map((f) => [f.name, f.value]),
      );
      assert.equal(p.plain.val_acc, offReport.validation?.accuracy);
      assert.equal(p.shipped, p.dendritic.val_acc > p.plain.val_acc ? 'dendritic' : 'plain');
      assert.match(p.reason, /linear expansion \(one set per layer, 4x its channels, folded into the weights/);
      assert.ok(!report.model.layers.some((l) => l.kind.startsWith('dendritic')));
      assert.equal(report.model.parameters, p.plain.parameters);
      assert.match(readFileSync(join(dir, 'expand', 'report.html'), 'utf8'), /trained again from fresh weights with a linear expansion/);
    }
    // dendrite-route distill: a gated teacher, the configured network as the candidate, at the plain cost
    const r = runCli(args('distill', ['--dendrite-route', 'distill', '--distill-temperature', '3', '--distill-alpha', '0.8']), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = validateReport(JSON.parse(readFileSync(join(dir, 'distill', 'report.json'), 'utf8')));
    const p = report.dendrites.payoff;
    assert.ok(p?.dendritic?.distilled && p.plain, p?.reason);
    const t = p.dendritic.distilled;
    assert.deepEqual([t.form, t.sets, t.temperature, t.alpha], ['gated', 1, 3, 0.8]);
    assert.ok(t.epochs_run > 0 && t.val_acc > 0);
    assert.equal(p.dendritic.folded, false);
    assert.equal(p.dendritic.fits, true);
    assert.deepEqual(
      p.dendritic.figures!.map((f) => [f.name, f.value]),
      p.plain.figures!.map((f) => [f.name, f.value]),
    );
    assert.equal(p.dendritic.parameters, p.plain.parameters);
    assert.equal(p.plain.val_acc, offReport.validation?.accuracy);
    assert.ok(!report.model.layers.some((l) => l.kind.startsWith('dendritic')));
    assert.match(p.reason, /distilled from a dendritic teacher/);
    assert.match(
      readFileSync(join(dir, 'distill', 'report.html'), 'utf8'),
      /soft targets \(temperature 3, alpha 0.8\) of a dendritic teacher with 1 gated set/,
    );
    // explicit budget: each figure set, against each candidate, in report.json and report.html
    const x = runCli(args('explicit', ['--max-flash-kb', '100000', '--max-latency-ms', '5', '--target-clock-mhz', '160']), { timeoutMs: 60_000 });
    assert.equal(x.code, 0, x.stderr);
    const xr = validateReport(JSON.parse(readFileSync(join(dir, 'explicit', 'report.json'), 'utf8')));
    const ex = xr.dendrites.payoff?.explicit;
    assert.ok(ex, 'dendrites.payoff.explicit present');
    assert.equal(ex.target_clock_mhz, 160);
    assert.match(ex.latency_reference, /CMSIS-NN.* at 160 MHz: instructions per inference.*lower bound/);
    assert.deepEqual(
      ex.plain.map((f) => [f.name, f.limit, f.fits]),
      [
        ['flash_bytes', 100000 * 1024, true],
        ['latency_ms', 5, true],
      ],
    );
    const offPlain = offReport.deployment.find((d) => d.variant === 'tflite-int8')!;
    // the Cortex-M default deployment's figures (CMSIS-NN), the latency bound at 160 MHz instead of 80
    const offM = offPlain.cortex_m!.cmsis_nn;
    assert.equal(ex.plain[0]!.value, offM.flash_bytes);
    const at80 = offM.latency_lower_bound_ms;
    assert.ok(Math.abs(ex.plain[1]!.value - at80 / 2) < 0.01, `${ex.plain[1]!.value} vs ${at80} / 2`);
    assert.ok(ex.widest_plain && ex.widest_plain.width > 1 && ex.widest_plain.figures.every((f) => f.fits));
    // the widest plain width within the budget was trained as a candidate; the shipped files are the shipped network's
    assert.ok(ex.wider, ex.wider_note);
    assert.equal(ex.wider.width, ex.widest_plain.width);
    const xp = xr.dendrites.payoff!;
    const bestOther = xp.shipped === 'wider' ? null : xp.shipped === 'plain' ? xp.plain!.val_acc : xp.dendritic!.val_acc;
    if (xp.shipped === 'wider') {
      assert.ok(ex.wider.val_acc > Math.max(xp.plain!.val_acc, xp.dendritic!.fits ? xp.dendritic!.val_acc : 0));
      assert.equal(xr.validation?.accuracy, ex.wider.val_acc);
      assert.equal(xr.model.parameters, ex.wider.parameters);
    } else assert.ok(ex.wider.val_acc <= bestOther!, xp.reason);
    assert.match(
      readFileSync(join(dir, 'explicit', 'report.html'), 'utf8'),
      /<table class="explicit-budget">.*at 160 MHz|at 160 MHz.*<table class="explicit-budget">/s,
    );
    const bad = validateReport.bind(null, {
      ...xr,
      dendrites: {
        ...xr.dendrites,
        payoff: { ...xr.dendrites.payoff!, explicit: { ...ex, plain: [{ name: 'ram_bytes', value: -1, limit: 1, fits: true }] } },
      },
    });
    assert.throws(bad, /explicit\.plain\[0\]\.value/);
  } finally {
    cleanup();
  }
});

test('report.json: dendrites.payoff is optional (older reports stay valid) and checked when present; report.html says which network shipped', () => {
  const base = makeFixtureReport();
  assert.equal(base.dendrites.payoff, undefined);
  validateReport(JSON.parse(JSON.stringify(base)));
  const priced = { width: 1, val_acc: 0.8, ram_bytes: 2100, flash_bytes: 33_000, model_bytes: 5700, operators: 14, latency_ms: 0.4, parameters: 691 };
  const plainEvents = [
    { epoch: 9, type: 'restored_best' as const, detail: 'restart 1: validation stalled' },
    { epoch: 20, type: 'restored_best' as const },
  ];
  const payoff = {
    checked: true,
    shipped: 'plain' as const,
    dendritic: { ...priced, sets: 2, history: base.history },
    plain: {
      ...priced,
      width: 1.375,
      val_acc: 0.82,
      ram_bytes: 1500,
      operators: 4,
      best_epoch: 20,
      epochs_run: 30,
      stopped_by: 'completed' as const,
      events: plainEvents,
    },
    reason: 'the plain width-1.375 network validates better',
  };
  const report = { ...base, dendrites: { ...base.dendrites, added: 0, payoff } };
  assert.deepEqual(validateReport(JSON.parse(JSON.stringify(report))), JSON.parse(JSON.stringify(report)));
  const bad = (mutate: (p: any) => void, field: RegExp): void => {
    const r = JSON.parse(JSON.stringify(report));
    mutate(r.dendrites.payoff);
    assert.throws(() => validateReport(r), field);
  };
  bad((p) => (p.shipped = 'both'), /dendrites\.payoff\.shipped: expected one of 'dendritic', 'plain'/);
  bad((p) => delete p.plain.ram_bytes, /dendrites\.payoff\.plain\.ram_bytes/);
  bad((p) => (p.plain = null), /dendrites\.payoff\.plain: expected the plain candidate when checked is true/);
  bad((p) => ((p.checked = false), (p.plain = null)), /dendrites\.payoff\.shipped: expected 'dendritic'/);
  bad((p) => (p.dendritic.history[0].val_acc = 2), /dendrites\.payoff\.dendritic\.history\[0\]\.val_acc/);
  bad((p) => (p.dendritic = null), /dendrites\.payoff\.dendritic: expected the dendritic candidate \(null only with checkbox\)/);

  // the plain-first flow (issue 22): the budget and each candidate's figures; no dendritic network when no time was left
  const figures = [
    { name: 'ram_bytes', value: 1500, limit: 1575, fits: true },
    { name: 'macs', value: 20_000, limit: 21_000, fits: true },
  ];
  const checkbox = {
    ...payoff,
    dendritic: null,
    plain: { ...payoff.plain, width: 1, macs: 20_000, figures, fits: true },
    reason: 'no dendritic network was trained: the dendrites-off run used the whole time limit',
    checkbox: { ratio: 1.05, budget: figures.map(({ name, value, limit }) => ({ name, value, limit })) },
  };
  const cbReport = { ...base, dendrites: { ...base.dendrites, added: 0, payoff: checkbox } };
  assert.deepEqual(validateReport(JSON.parse(JSON.stringify(cbReport))), JSON.parse(JSON.stringify(cbReport)));
  const cbHtml = renderReportHtml(cbReport);
  assert.match(cbHtml, /class="payoff-plain">Shipped: the dendrites-off network/);
  assert.match(
    cbHtml,
    /<td>multiply-accumulates per inference \(counted from the .tflite file\)<\/td><td class="n">20,000<\/td><td class="n">21,000<\/td>/,
  );
  const cbBad = JSON.parse(JSON.stringify(cbReport));
  cbBad.dendrites.payoff.shipped = 'dendritic';
  assert.throws(() => validateReport(cbBad), /expected 'plain' when no dendritic network was trained/);

  const html = renderReportHtml(report);
  assert.match(html, /<section id="payoff">/);
  assert.match(html, /class="payoff-plain">Shipped: the widest plain network within its RAM and flash \(width 1\.375/);
  assert.match(html, /event \(dendritic run\)/, "the dendritic run's events are still shown");
  // the learning curves belong to the shipped (plain) run: its restart marks, not the dendritic sets
  const curves = html.slice(html.indexOf('<section id="curves">'), html.indexOf('<section id="lr">'));
  assert.match(curves, /restart 1: validation stalled/);
  assert.doesNotMatch(curves, /\+set \d/, 'no set markers');
  const kept = renderReportHtml({
    ...base,
    dendrites: { ...base.dendrites, payoff: { ...payoff, shipped: 'dendritic', dendritic: { ...priced, sets: 2 } } },
  });
  assert.match(kept, /class="payoff-dendritic">Shipped: the dendritic model/);
});
