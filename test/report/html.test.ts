import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barChart, confusionMatrixChart, escapeXml, lineChart, niceTicks } from '../../src/report/charts.js';
import { fidelityVerdict } from '../../src/report/fidelity.js';
import { dendriteGain, renderReportHtml } from '../../src/report/html.js';
import type { ExportCheck } from '../../src/report/schema.js';
import { FIXTURE_CLASSES, HOSTILE_CLASS, makeFixtureReport } from './fixture.js';

/** The markup of the <figure class="NAME"> element. */
function figure(html: string, name: string): string {
  const m = html.match(new RegExp(`<figure class="${name}">([\\s\\S]*?)</figure>`));
  assert.ok(m, `figure ${name} present`);
  return m[1]!;
}

function count(text: string, re: RegExp): number {
  return (text.match(re) ?? []).length;
}

function attrs(el: string): Record<string, string> {
  return Object.fromEntries([...el.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

const report = makeFixtureReport(40);
const html = renderReportHtml(report);

test('learning curves: one point per epoch per series, one marker per dendrite event', () => {
  assert.equal(report.history.length, 40);
  for (const [fig, series] of [
    ['chart-loss', ['train loss', 'validation loss']],
    ['chart-acc', ['train accuracy', 'validation accuracy']],
  ] as const) {
    const svg = figure(html, fig);
    assert.ok(svg.startsWith('<svg'), `${fig} is an inline SVG`);
    for (const name of series) {
      assert.equal(count(svg, new RegExp(`<circle class="pt" data-series="${name}"`, 'g')), 40, `${fig}/${name} points`);
      assert.match(svg, new RegExp(`<path class="line" data-series="${name}" data-points="40"`));
    }
    const markers = [...svg.matchAll(/<g class="marker marker-([a-z_]+)" data-kind="[a-z_]+" data-x="(\d+)"/g)];
    assert.equal(markers.length, report.dendrites.events.length);
    assert.deepEqual(
      markers.map((m) => [m[1], Number(m[2])]),
      report.dendrites.events.map((e) => [e.type, e.epoch]),
    );
    assert.equal(count(svg, /class="marker marker-added"/g), 3);
    assert.equal(count(svg, /class="marker marker-discarded"/g), 1);
    // best-weights restored is dashed; added is a solid line.
    assert.match(svg, /class="marker marker-restored_best"[\s\S]*?stroke-dasharray/);
    assert.doesNotMatch(svg.match(/class="marker marker-added"[\s\S]*?<\/g>/)![0], /stroke-dasharray/);
  }
});

test('points are placed by value: x increases with epoch, y decreases as the value grows', () => {
  const svg = figure(html, 'chart-loss');
  const pts = [...svg.matchAll(/<circle class="pt" data-series="validation loss"[^>]*>/g)].map((m) => attrs(m[0]));
  const values = report.history.map((h) => h.val_loss!);
  for (let i = 1; i < pts.length; i++) {
    assert.ok(Number(pts[i]!.cx) > Number(pts[i - 1]!.cx));
    for (let j = 0; j < i; j++) {
      if (Math.abs(values[i]! - values[j]!) > 1e-3) {
        assert.equal(Number(pts[i]!.cy) < Number(pts[j]!.cy), values[i]! > values[j]!, `epochs ${j + 1} and ${i + 1}`);
      }
    }
  }
  // Linear scale: the pixel distance between two points is proportional to their value difference.
  const [a, b, c] = [0, 10, 39];
  const ratioPx = (Number(pts[a]!.cy) - Number(pts[b]!.cy)) / (Number(pts[a]!.cy) - Number(pts[c]!.cy));
  const ratioV = (values[a]! - values[b]!) / (values[a]! - values[c]!);
  assert.ok(Math.abs(ratioPx - ratioV) < 0.01, `${ratioPx} vs ${ratioV}`);
});

test('a missing (diverged) value leaves a gap instead of a point', () => {
  const r = makeFixtureReport(40);
  r.history[5]!.val_loss = null;
  r.history[6]!.val_loss = null;
  const svg = figure(renderReportHtml(r), 'chart-loss');
  assert.equal(count(svg, /<circle class="pt" data-series="validation loss"/g), 38);
  const path = svg.match(/<path class="line" data-series="validation loss" data-points="38" d="([^"]*)"/);
  assert.ok(path, 'path with 38 points');
  assert.equal(count(path[1]!, /M/g), 2, 'the line restarts after the gap');
});

test('learning-rate chart is a step line with one point per epoch', () => {
  const svg = figure(html, 'chart-lr');
  assert.equal(count(svg, /<circle class="pt" data-series="learning rate"/g), 40);
  const d = svg.match(/<path class="line" data-series="learning rate" data-points="40" d="([^"]*)"/)![1]!;
  assert.equal(count(d, /H/g), 39);
  assert.equal(count(d, /L/g), 0);
});

test('confusion matrix: one cell per (true, predicted) pair showing its count', () => {
  const svg = figure(html, 'chart-confusion');
  const cm = report.validation!.confusion;
  const cells = [
    ...svg.matchAll(/<rect class="cell" data-true="(\d+)" data-pred="(\d+)" data-count="(\d+)"[^>]*\/><text class="count"[^>]*>(\d+)<\/text>/g),
  ];
  assert.equal(cells.length, FIXTURE_CLASSES.length ** 2);
  for (const [, t, p, c, shown] of cells) {
    assert.equal(Number(c), cm[Number(t)]![Number(p)]);
    assert.equal(Number(shown), cm[Number(t)]![Number(p)]);
  }
  // Row recall printed at the right: correct / row total.
  const recalls = [...svg.matchAll(/<text class="recall"[^>]*>(\d+)%<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(
    recalls,
    cm.map((row, k) => Math.round((100 * row[k]!) / row.reduce((a, b) => a + b, 0))),
  );
});

test('user text is escaped everywhere', () => {
  assert.ok(!html.includes(HOSTILE_CLASS), 'raw class name never appears');
  assert.ok(html.includes(escapeXml(HOSTILE_CLASS)));
  assert.ok(!html.includes('<script'), 'no script element');
  assert.ok(!html.includes('<img'), 'no injected element');
  assert.ok(!/<b>/.test(html));
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('page is self-contained and has every section', () => {
  assert.ok(!/(src|href)=["']?(https?:|\/\/)/i.test(html), 'no network references');
  for (const id of ['curves', 'lr', 'confusion', 'fidelity', 'deployment', 'model', 'config']) {
    assert.match(html, new RegExp(`<section id="${id}">`));
  }
  // Summary shows the accuracy and the fidelity verdict.
  assert.match(html, new RegExp(`${(report.validation!.accuracy * 100).toFixed(1)}%`));
  assert.match(html, /Export fidelity<\/div><div class="value">match</);
  // Every configuration key appears (escaped) in the configuration table.
  for (const key of Object.keys(report.effective_config)) assert.ok(html.includes(escapeXml(key)), key);
  // Deployment bars: one per variant per metric, widths proportional to values.
  const flash = figure(html, 'chart-deploy-flash_bytes');
  const bars = [...flash.matchAll(/<rect class="bar"[^>]*>/g)].map((m) => attrs(m[0]));
  assert.equal(bars.length, report.deployment.length);
  const ratio = Number(bars[1]!.width) / Number(bars[0]!.width);
  assert.ok(Math.abs(ratio - report.deployment[1]!.flash_bytes / report.deployment[0]!.flash_bytes) < 0.01);
  // The RAM figure says which kernels it holds for: a Cortex-M deployment of the SDK defaults to CMSIS-NN,
  // whose figures (schema 3) are in the Cortex-M table, the default marked, with the stated values.
  assert.match(
    html,
    /<li>RAM: [^<]*<code>arena_used_bytes\(\)<\/code> on a Cortex-M with the reference kernels[^]*?CMSIS-NN kernels unless told otherwise[^]*?Cortex-M table below/,
  );
  const int8 = report.deployment[1]!.cortex_m!;
  assert.match(html, /<h3>On a Cortex-M4F as Edge Impulse deploys it<\/h3>/);
  assert.match(
    html,
    new RegExp(
      `<tr><td>tflite-int8</td><td>CMSIS-NN <span class="badge pass">default</span></td><td class="n">[^<]+</td>[^]*?${int8.cmsis_nn.invoke_instructions.toLocaleString('en-US')}`,
    ),
  );
  assert.match(html, /latency at 80 MHz/);
  assert.match(html, new RegExp(`≥ ${int8.reference.latency_lower_bound_ms.toFixed(1)} ms`));
});

test('a report without validation or dendrites still renders', () => {
  const r = makeFixtureReport(5);
  r.validation = null;
  r.best = null;
  r.dendrites = { enabled: false, mode: 'gd', added: 0, tried: 0, discarded: 0, events: [] };
  r.exports = [];
  r.deployment = [];
  r.warnings = [];
  for (const h of r.history) {
    h.val_acc = null;
    h.val_loss = null;
  }
  const out = renderReportHtml(r);
  assert.match(out, /No validation split/);
  assert.equal(count(figure(out, 'chart-loss'), /<circle class="pt"/g), 5);
  assert.equal(count(figure(out, 'chart-loss'), /class="marker /g), 0);
});

test('niceTicks: steps of 1, 2 or 5 x 10^k that cover the data', () => {
  for (const [lo, hi] of [
    [0.13, 0.97],
    [0, 2.31],
    [0.0021, 0.0049],
    [-3, 17],
    [1, 40],
    [5, 5],
  ] as const) {
    const { ticks, lo: a, hi: b } = niceTicks(lo, hi, 5);
    assert.ok(a <= lo && b >= hi, `[${a}, ${b}] covers [${lo}, ${hi}]`);
    const step = ticks[1]! - ticks[0]!;
    const mant = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
    assert.ok(
      [1, 2, 5].some((m) => Math.abs(mant - m) < 1e-6),
      `step ${step}`,
    );
    assert.ok(ticks.length >= 2 && ticks.length <= 12);
  }
});

test('log-scale line chart puts decades at equal distances', () => {
  const svg = lineChart({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    yLog: true,
    series: [
      {
        name: 's',
        color: '#000',
        points: [
          [1, 1e-1],
          [2, 1e-2],
          [3, 1e-3],
        ],
      },
    ],
  });
  const ys = [...svg.matchAll(/<circle class="pt"[^>]*cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(Math.abs(ys[1]! - ys[0]! - (ys[2]! - ys[1]!)) < 0.2);
});

test('bar and confusion charts escape labels', () => {
  assert.ok(!barChart({ title: '<t>', bars: [{ label: '<x>', value: 1 }] }).includes('<x>'));
  assert.ok(
    !confusionMatrixChart(
      ['<a>', 'b'],
      [
        [1, 0],
        [0, 1],
      ],
    ).includes('<a>'),
  );
});

test('fidelity verdict: float mismatch fails, int8 loss beyond tolerance warns', () => {
  const base: ExportCheck[] = [
    { format: 'engine', accuracy: 0.9, max_prob_diff: 0, argmax_agreement: 1, verified_with: 'engine' },
    { format: 'onnx', accuracy: 0.9, max_prob_diff: 2e-7, argmax_agreement: 1, verified_with: 'ort' },
    { format: 'tflite-int8', accuracy: 0.89, max_prob_diff: 0.05, argmax_agreement: 0.98, verified_with: 'tfl' },
  ];
  assert.equal(fidelityVerdict(base).status, 'ok');
  const broken = structuredClone(base);
  broken[1]!.max_prob_diff = 0.3;
  broken[1]!.argmax_agreement = 0.7;
  assert.equal(fidelityVerdict(broken).status, 'fail');
  assert.match(fidelityVerdict(broken).text, /onnx/);
  const lossy = structuredClone(base);
  lossy[2]!.accuracy = 0.885; // 1.5 points below the engine
  assert.equal(fidelityVerdict(lossy).status, 'warn');
  assert.equal(fidelityVerdict(lossy, 2).status, 'ok');
  const tiny = structuredClone(base);
  tiny[1]!.max_prob_diff = 2e-4; // above the pipeline's 1e-4: what training would reject
  assert.equal(fidelityVerdict(tiny).status, 'fail');
  const unrun = structuredClone(base);
  unrun[1]!.argmax_agreement = null;
  assert.equal(fidelityVerdict(unrun).status, 'unverified');
  assert.equal(fidelityVerdict([]).status, 'unverified');
});

test('dendriteGain compares the best validation accuracy without and with sets', () => {
  const g = dendriteGain(report.history)!;
  const v = (f: (s: number) => boolean): number => Math.max(...report.history.filter((h) => f(h.dendrite_sets)).map((h) => h.val_acc!));
  assert.equal(
    g.without,
    v((s) => s === 0),
  );
  assert.equal(
    g.withSets,
    v((s) => s > 0),
  );
});

test('a pruned set gets its own dashed marker, label and table row', () => {
  const base = makeFixtureReport();
  const pruned = {
    ...base,
    dendrites: {
      ...base.dendrites!,
      added: 1,
      pruned: 1,
      events: [...base.dendrites!.events, { epoch: 30, type: 'pruned' as const, detail: 'set 2 removed: val_acc 0.8400 without it, 0.8390 with it' }],
    },
  };
  const page = renderReportHtml(pruned);
  const svg = figure(page, 'chart-acc');
  assert.match(svg, /class="marker marker-pruned" data-kind="pruned" data-x="30"[\s\S]*?stroke-dasharray/);
  assert.match(page, /<tr class="ev-pruned">[\s\S]*?dendrite set pruned[\s\S]*?set 2 removed/);
  // The summary card's gain with sets is not credited to a set that pruning showed adds nothing.
  assert.match(page, /with sets \([+-]\d+\.\d pts\); 1 set pruned after training as no more accurate than without</);
  const none = renderReportHtml({ ...pruned, dendrites: { ...pruned.dendrites, added: 0, pruned: 2 } });
  assert.match(none, /2 sets pruned after training as no more accurate than without, so the gain is not the sets' own</);
  assert.doesNotMatch(renderReportHtml(base), /pts\); \d+ sets? pruned after training/);
});
