/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no network) that answers at a
 * glance: did it learn, when were dendrite sets added or discarded and did they help, which classes
 * get confused, what it costs on the device, and whether the exported files match the trained model.
 */
import { BUDGET_FIGURES } from '../train/device-budget.js';
import { barChart, COLORS, confusionMatrixChart, escapeXml, lineChart, type Marker } from './charts.js';
import { FIDELITY_TOLERANCE, fidelityVerdict, int8DropLimitPoints, isWritten, type FidelityStatus } from './fidelity.js';
import type { DendriteEvent, EpochRecord, Report } from './schema.js';

const e = escapeXml;

const CHART_WIDTH = 1040;

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? '–' : `${(v * 100).toFixed(digits)}%`;
}

function num(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined ? '–' : v.toFixed(digits);
}

function bytes(n: number | undefined): string {
  if (n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function seconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function sci(v: number | null): string {
  if (v === null) return '–';
  if (v === 0) return '0';
  return v >= 1e-3 ? v.toFixed(4) : v.toExponential(1);
}

const EVENT_LABEL: Record<DendriteEvent['type'], string> = {
  added: 'dendrite set added',
  discarded: 'dendrite set discarded',
  restored_best: 'best weights restored',
  pruned: 'dendrite set pruned (the network validates as well without it)',
  training_complete: 'training complete',
  time_limit: 'time limit reached',
  interrupted: 'interrupted',
};

/** Short labels above the chart; numbering the sets lets a reader match marks to the events table. */
function eventMarkers(events: DendriteEvent[]): Marker[] {
  let added = 0;
  return events.map((ev) => {
    let label: string;
    switch (ev.type) {
      case 'added':
        added++;
        label = `+set ${added}`;
        break;
      case 'discarded':
        label = `−set ${added}`;
        added = Math.max(0, added - 1);
        break;
      case 'restored_best':
        label = 'best';
        break;
      case 'pruned':
        label = `−set ${added}`;
        added = Math.max(0, added - 1);
        break;
      case 'training_complete':
        label = 'done';
        break;
      case 'time_limit':
        label = 'time limit';
        break;
      case 'interrupted':
        label = 'stopped';
        break;
    }
    const title = `epoch ${ev.epoch}: ${EVENT_LABEL[ev.type]}${ev.detail ? ` (${ev.detail})` : ''}`;
    return { x: ev.epoch, kind: ev.type, label, title };
  });
}

/** The events of the run history[] belongs to: the plain run's when the payoff check shipped it. */
function historyEvents(r: Report): DendriteEvent[] {
  const p = r.dendrites.payoff;
  return p?.shipped === 'plain' ? (p.plain?.events ?? []) : p?.shipped === 'wider' ? [] : r.dendrites.events;
}

/** Contiguous runs of dendrite-phase epochs (correlation mode trains candidates with neurons frozen). */
function dendritePhaseBands(history: EpochRecord[]): Array<{ from: number; to: number; label: string }> {
  const bands: Array<{ from: number; to: number; label: string }> = [];
  for (const h of history) {
    if (h.phase !== 'dendrite') continue;
    const last = bands[bands.length - 1];
    if (last && last.to === h.epoch - 0.5) last.to = h.epoch + 0.5;
    else bands.push({ from: h.epoch - 0.5, to: h.epoch + 0.5, label: 'dendrite phase (neurons frozen)' });
  }
  return bands;
}

/**
 * Did dendrites help? Best validation accuracy while the network had no dendrite set, against the
 * best overall. Null when there were no dendrites or no validation.
 */
export function dendriteGain(history: EpochRecord[]): { without: number; withSets: number } | null {
  const best = (rows: EpochRecord[]): number | null => {
    const v = rows.map((h) => h.val_acc).filter((a): a is number => a !== null);
    return v.length ? Math.max(...v) : null;
  };
  const without = best(history.filter((h) => h.dendrite_sets === 0));
  const withSets = best(history.filter((h) => h.dendrite_sets > 0));
  return without === null || withSets === null ? null : { without, withSets };
}

function card(label: string, value: string, sub: string, tone: FidelityStatus | 'plain' = 'plain'): string {
  return `<div class="card ${tone}"><div class="label">${e(label)}</div><div class="value">${value}</div><div class="sub">${sub}</div></div>`;
}

function summary(r: Report): string {
  const verdict = fidelityVerdict(r.exports, int8DropLimitPoints(r.effective_config));
  const acc = r.validation?.accuracy ?? r.best?.val_acc ?? null;
  const gain = r.dendrites.enabled ? dendriteGain(r.history) : null;
  let dendriteSub = r.dendrites.enabled
    ? `${r.dendrites.tried} tried, ${r.dendrites.discarded} discarded · ${e(r.dendrites.mode === 'gd' ? 'gradient descent' : 'correlation')}`
    : 'dendrites off';
  if (gain) {
    const d = (gain.withSets - gain.without) * 100;
    dendriteSub += `<br>best val acc ${pct(gain.without)} before the first set → ${pct(gain.withSets)} with sets (${d >= 0 ? '+' : ''}${d.toFixed(1)} pts)`;
    // The gain above is the training curve's; a pruned set did not cause it (the network validates as
    // well without it), so the card must not leave the reader crediting the sets.
    const pruned = r.dendrites.pruned ?? 0;
    if (pruned > 0)
      dendriteSub += `; ${pruned} set${pruned === 1 ? '' : 's'} pruned after training as no more accurate than without${r.dendrites.added === 0 ? ", so the gain is not the sets' own" : ''}`;
  }
  if (r.dendrites.payoff?.shipped === 'plain')
    dendriteSub += r.dendrites.payoff.checkbox
      ? `<br>the dendrites-off network was shipped: the dendritic one did not validate better within the device budget (see below)`
      : `<br>a plain network of no more device cost validated as well or better and was shipped (see below)`;
  const stopped: Record<Report['timing']['stopped_by'], string> = {
    completed: 'the cycle finished (no further set or restart)',
    epochs: 'epoch limit reached',
    time_limit: 'time limit reached',
    signal: 'interrupted by a signal',
  };
  return `<section class="cards">
${card('Validation accuracy', pct(acc), r.best ? `best epoch ${r.best.epoch} of ${r.history.length}${r.validation?.loss != null ? ` · loss ${num(r.validation.loss)}` : ''}` : 'no validation split')}
${card('Parameters', int(r.model.parameters), `${int(r.model.macs)} MACs · ${e(r.model.family)} ×${r.model.width}`)}
${card('Dendrite sets', r.dendrites.enabled ? String(r.dendrites.added) : '–', dendriteSub)}
${card('Export fidelity', { ok: 'match', warn: 'check', fail: 'MISMATCH', unverified: 'unverified' }[verdict.status], e(verdict.text), verdict.status)}
${card('Training time', seconds(r.timing.training_seconds), `${stopped[r.timing.stopped_by]} · total ${seconds(r.timing.total_seconds)}`)}
</section>`;
}

function warnings(r: Report): string {
  if (r.warnings.length === 0) return '';
  return `<section class="warnings"><h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${e(w)}</li>`).join('')}</ul></section>`;
}

function curves(r: Report): string {
  if (r.history.length === 0) return '<section><h2>Learning curves</h2><p class="muted">No epochs were recorded.</p></section>';
  const shownEvents = historyEvents(r);
  const markers = eventMarkers(shownEvents);
  const bands = dendritePhaseBands(r.history);
  const pts = (key: 'loss' | 'val_loss' | 'acc' | 'val_acc'): Array<[number, number | null]> => r.history.map((h) => [h.epoch, h[key]]);
  const hasVal = r.history.some((h) => h.val_acc !== null || h.val_loss !== null);
  const loss = lineChart({
    title: 'Loss per epoch',
    xLabel: 'epoch',
    yLabel: 'loss',
    width: CHART_WIDTH,
    height: 300,
    series: [
      { name: 'train loss', color: COLORS.blue, points: pts('loss') },
      ...(hasVal ? [{ name: 'validation loss', color: COLORS.orange, points: pts('val_loss') }] : []),
    ],
    markers,
    bands,
  });
  const acc = lineChart({
    title: 'Accuracy per epoch',
    xLabel: 'epoch',
    yLabel: 'accuracy',
    width: CHART_WIDTH,
    height: 300,
    yClamp: [0, 1],
    series: [
      { name: 'train accuracy', color: COLORS.blue, points: pts('acc') },
      ...(hasVal ? [{ name: 'validation accuracy', color: COLORS.orange, points: pts('val_acc') }] : []),
    ],
    markers,
    bands,
  });
  const events = shownEvents.length
    ? `<table class="events"><thead><tr><th class="n">epoch</th><th>event</th><th>detail</th></tr></thead><tbody>${shownEvents
        .map(
          (ev, i) =>
            `<tr class="ev-${ev.type}"><td class="n">${ev.epoch}</td><td><span class="swatch"></span>${e(markers[i]!.label)} · ${e(EVENT_LABEL[ev.type])}</td><td>${e(ev.detail ?? '')}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const bandNote = bands.length ? ' Shaded epochs: dendrite phase (neurons frozen, candidates trained).' : '';
  return `<section id="curves"><h2>Learning curves</h2>
<p class="muted">Vertical marks: green = dendrite set added, red = set discarded, red dashed = set pruned after training, grey dashed = best weights restored.${bandNote}</p>
<figure class="chart-loss">${loss}</figure>
<figure class="chart-acc">${acc}</figure>
${events}
</section>`;
}

/**
 * The plain-first flow (issue 22): the budget (the dendrites-off network's int8 figures and their
 * limits), the dendritic network's figures against it, both validation accuracies, and why one shipped.
 */
function checkbox(
  r: Report,
  p: NonNullable<Report['dendrites']['payoff']>,
  cb: NonNullable<NonNullable<Report['dendrites']['payoff']>['checkbox']>,
): string {
  const d = p.dendritic;
  const figure = (name: string): string => {
    const f = d?.figures?.find((x) => x.name === name);
    return f ? `<td class="n">${int(f.value)}</td><td>${f.fits ? 'within' : '<strong>over</strong>'}</td>` : '<td class="n">-</td><td></td>';
  };
  const rows = cb.budget
    .map(
      (b) =>
        `<tr><td>${e(BUDGET_FIGURES.find((f) => f.name === b.name)?.label ?? b.name)}</td><td class="n">${int(b.value)}</td><td class="n">${int(b.limit)}</td>${figure(b.name)}</tr>`,
    )
    .join('');
  const acc = `<tr><td>validation accuracy</td><td class="n">${p.plain ? pct(p.plain.val_acc) : '-'}</td><td></td><td class="n">${d ? pct(d.val_acc) : '-'}</td><td></td></tr>`;
  const who =
    p.shipped === 'plain'
      ? 'the dendrites-off network (the network you configured, trained as with dendrites off)'
      : p.shipped === 'wider'
        ? `a wider plain network (width ${p.explicit?.wider?.width}, the widest within the explicit budget)`
        : 'the dendritic network';
  const sets = d?.distilled
    ? ` The candidate is the network you configured, trained on the soft targets (temperature ${d.distilled.temperature}, alpha ${d.distilled.alpha}) of a dendritic teacher with ${d.distilled.sets} ${e(d.distilled.form)} set${d.distilled.sets === 1 ? '' : 's'} that validated at ${pct(d.distilled.val_acc)} after ${d.distilled.epochs_run} epochs; the teacher is not shipped.`
    : d && r.effective_config['dendrite-route']?.value === 'expand'
      ? ` The candidate is the network you configured, trained again from fresh weights with a linear expansion (one dendrite set on every layer from the start, dendrite-route expand)${d.folded ? ", folded into the layers' own weights (it deploys as the plain network)" : ''}.`
      : d
        ? ` The dendritic network kept ${d.sets} set${d.sets === 1 ? '' : 's'}${d.folded ? ", folded into the layers' own weights (it deploys as the plain network)" : ''}.`
        : '';
  const dendriticEvents =
    p.shipped === 'plain' && d && r.dendrites.events.length
      ? `<table class="events"><thead><tr><th class="n">epoch</th><th>event (dendritic run)</th><th>detail</th></tr></thead><tbody>${r.dendrites.events
          .map(
            (ev) =>
              `<tr class="ev-${ev.type}"><td class="n">${ev.epoch}</td><td><span class="swatch"></span>${e(EVENT_LABEL[ev.type])}</td><td>${e(ev.detail ?? '')}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  return `<section id="payoff"><h2>Did the dendrites pay?</h2>
<p class="payoff-${p.shipped}">Shipped: ${who}, because ${e(p.reason)}.${sets}</p>
<p class="muted">Budget: the network you configured, int8 on a Cortex-M under TFLM; a network ships only if each figure is at most ${cb.ratio}x the budget (max-cost-ratio) and it validates strictly better than the dendrites-off network.</p>
<table class="budget"><thead><tr><th>figure</th><th class="n">dendrites off (budget)</th><th class="n">limit</th><th class="n">dendritic</th><th></th></tr></thead><tbody>${rows}${acc}</tbody></table>${p.explicit ? explicitBudget(p.explicit) : ''}${dendriticEvents}</section>`;
}

/** max-ram-kb / max-flash-kb / max-latency-ms: each candidate's figures against the explicit budget. */
function explicitBudget(x: NonNullable<NonNullable<Report['dendrites']['payoff']>['explicit']>): string {
  type Fig = { name: string; value: number; limit: number; fits: boolean };
  const show = (name: string, v: number): string => (name === 'latency_ms' ? `${v.toFixed(3)} ms` : int(v));
  const cell = (fs: Fig[] | null | undefined, name: string): string => {
    const f = fs?.find((g) => g.name === name);
    return f ? `<td class="n">${show(name, f.value)}</td><td>${f.fits ? 'within' : '<strong>over</strong>'}</td>` : '<td class="n">-</td><td></td>';
  };
  const rows = x.plain
    .map(
      (f) =>
        `<tr><td>${e(f.name)}</td><td class="n">${show(f.name, f.limit)}</td>${cell(x.plain, f.name)}${cell(x.dendritic, f.name)}${cell(x.wider?.figures ?? x.widest_plain?.figures, f.name)}</tr>`,
    )
    .join('');
  const widest = x.wider
    ? `The widest plain network within it, width ${x.wider.width}, was trained as a candidate: ${x.wider.epochs_run} epochs, validation ${pct(x.wider.val_acc)}.`
    : x.widest_plain
      ? `The widest plain network within it is width ${x.widest_plain.width} (${x.widest_plain.priced} widths priced), not trained: ${e(x.wider_note)}.`
      : 'No plain width on the 1/8 grid fits it.';
  return `<p class="muted">Explicit budget (max-ram-kb, max-flash-kb, max-latency-ms): a dendritic network over it does not ship. Latency: ${e(x.latency_reference)}, at ${x.target_clock_mhz} MHz. ${widest}</p>
<table class="explicit-budget"><thead><tr><th>figure</th><th class="n">explicit limit</th><th class="n">dendrites off</th><th></th><th class="n">dendritic</th><th></th><th class="n">widest plain</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** dendrite-payoff-check: which network was shipped, against what, and why (one paragraph). */
function payoff(r: Report): string {
  const p = r.dendrites.payoff;
  if (!p) return '';
  if (p.checkbox) return checkbox(r, p, p.checkbox);
  if (!p.dendritic) return '';
  const cost = (c: { val_acc: number; ram_bytes: number; flash_bytes: number; parameters: number; latency_ms: number }): string =>
    `${pct(c.val_acc)} validation accuracy, ${bytes(c.ram_bytes)} RAM, ${bytes(c.flash_bytes)} flash, ${int(c.parameters)} parameters, about ${c.latency_ms < 10 ? c.latency_ms.toFixed(2) : c.latency_ms.toFixed(1)} ms per inference (estimate)`;
  const d = `the dendritic model (width ${p.dendritic.width}, ${p.dendritic.sets} set${p.dendritic.sets === 1 ? '' : 's'}: ${cost(p.dendritic)})`;
  const q = p.plain ? `the widest plain network within its RAM and flash (width ${p.plain.width}: ${cost(p.plain)})` : '';
  const text = !p.checked
    ? `Shipped: ${d}; ${e(p.reason)}.`
    : p.shipped === 'plain'
      ? `Shipped: ${q}, because ${e(p.reason)}. Not shipped: ${d}. Everything below describes the plain network; the dendritic run's epochs are in report.json (<code>dendrites.payoff.dendritic.history</code>) and its events here:`
      : `Shipped: ${d}, because ${e(p.reason)}. Compared with ${q}.`;
  const dendriticEvents =
    p.shipped === 'plain' && r.dendrites.events.length
      ? `<table class="events"><thead><tr><th class="n">epoch</th><th>event (dendritic run)</th><th>detail</th></tr></thead><tbody>${r.dendrites.events
          .map(
            (ev) =>
              `<tr class="ev-${ev.type}"><td class="n">${ev.epoch}</td><td><span class="swatch"></span>${e(EVENT_LABEL[ev.type])}</td><td>${e(ev.detail ?? '')}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  const note =
    p.plain && p.plain.latency_ms > p.dendritic.latency_ms
      ? '<p class="muted">The budget is RAM and flash; the plain network may take longer per inference (latency is an estimate, not part of the check).</p>'
      : '';
  return `<section id="payoff"><h2>Did the dendrites pay?</h2>
<p class="payoff-${p.shipped}">${text}</p>${note}${dendriticEvents}</section>`;
}

function learningRate(r: Report): string {
  if (r.history.length === 0) return '';
  const lrs = r.history.map((h) => h.lr).filter((v) => v > 0);
  const yLog = lrs.length > 0 && Math.max(...lrs) / Math.min(...lrs) >= 10;
  const chart = lineChart({
    title: 'Learning rate per epoch',
    xLabel: 'epoch',
    yLabel: yLog ? 'learning rate (log)' : 'learning rate',
    width: CHART_WIDTH,
    height: 210,
    yLog,
    series: [{ name: 'learning rate', color: COLORS.purple, points: r.history.map((h) => [h.epoch, h.lr]), step: true }],
    markers: eventMarkers(historyEvents(r)),
  });
  return `<section id="lr"><h2>Learning rate</h2><figure class="chart-lr">${chart}</figure></section>`;
}

/**
 * Beyond these class counts the page summarises: a matrix of classes x classes cells and a row per class
 * would make the page grow with the square of the classes (hundreds of MB at 1,000), while report.json
 * keeps every number.
 */
export const HTML_MATRIX_MAX_CLASSES = 40;
export const HTML_PER_CLASS_MAX_ROWS = 50;
const TOP_CONFUSIONS = 20;

function confusion(r: Report): string {
  const v = r.validation;
  if (!v) return '<section><h2>Validation</h2><p class="muted">No validation split: no confusion matrix.</p></section>';
  const many = v.per_class.length > HTML_PER_CLASS_MAX_ROWS;
  const rows = many ? [...v.per_class].sort((a, b) => a.f1 - b.f1 || a.class.localeCompare(b.class)).slice(0, HTML_PER_CLASS_MAX_ROWS) : v.per_class;
  const rowsNote = many
    ? `<p class="muted">${int(v.per_class.length)} classes: the ${HTML_PER_CLASS_MAX_ROWS} with the lowest F1 are shown; report.json has every class.</p>`
    : '';
  const perClass = `${rowsNote}<table class="per-class"><thead><tr><th>class</th><th class="n">precision</th><th class="n">recall</th><th class="n">F1</th><th class="n">support</th></tr></thead><tbody>${rows
    .map(
      (c) =>
        `<tr><td>${e(c.class)}</td><td class="n">${num(c.precision)}</td><td class="n">${num(c.recall)}</td><td class="n${c.f1 < 0.5 ? ' bad' : ''}">${num(c.f1)}</td><td class="n">${int(c.support)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const classes = r.data.classes;
  const matrix =
    classes.length <= HTML_MATRIX_MAX_CLASSES
      ? `<p class="muted">Validation set, ${int(r.data.validation_samples)} samples. Rows: true class, columns: predicted. Colour is the share of the row; blue = correct, red = confused.</p>
<div class="${classes.length > 10 ? 'stack' : 'two'}"><figure class="chart-confusion">${confusionMatrixChart(classes, v.confusion)}</figure>`
      : `<p class="muted">Validation set, ${int(r.data.validation_samples)} samples, ${int(classes.length)} classes: too many for a matrix; the most frequent confusions are listed (report.json has the whole matrix).</p>
<div class="stack">${topConfusions(classes, v.confusion)}`;
  return `<section id="confusion"><h2>Where it confuses classes</h2>
${matrix}
<div><h3>Per class</h3>${perClass}</div></div></section>`;
}

/** The largest off-diagonal cells of the confusion matrix, as a table. */
function topConfusions(classes: readonly string[], m: readonly (readonly number[])[]): string {
  const cells: { t: number; p: number; n: number }[] = [];
  m.forEach((row, t) =>
    row.forEach((n, p) => {
      if (t !== p && n > 0) cells.push({ t, p, n });
    }),
  );
  cells.sort((a, b) => b.n - a.n || a.t - b.t || a.p - b.p);
  if (cells.length === 0) return '<p>No validation sample was confused.</p>';
  const body = cells
    .slice(0, TOP_CONFUSIONS)
    .map((c) => `<tr><td>${e(classes[c.t]!)}</td><td>${e(classes[c.p]!)}</td><td class="n">${int(c.n)}</td></tr>`)
    .join('');
  return `<table class="confusions"><thead><tr><th>true class</th><th>predicted as</th><th class="n">samples</th></tr></thead><tbody>${body}</tbody></table>`;
}

function fidelity(r: Report): string {
  if (r.exports.length === 0) return '<section id="fidelity"><h2>Export fidelity</h2><p class="muted">Nothing was exported.</p></section>';
  const verdict = fidelityVerdict(r.exports, int8DropLimitPoints(r.effective_config));
  const t = FIDELITY_TOLERANCE;
  const rows = verdict.rows
    .map(({ check: x, status, accuracy_delta, reason }) => {
      const delta =
        x.format === 'engine' || accuracy_delta === null
          ? ''
          : ` <span class="muted">(${accuracy_delta >= 0 ? '+' : ''}${(accuracy_delta * 100).toFixed(1)})</span>`;
      return `<tr class="fid-${status}"><td class="nowrap">${e(x.format)}</td><td>${x.format === 'engine' ? '(in memory)' : isWritten(x) ? e(x.file ?? '') : `<span class="muted">${status === 'fail' ? 'not written' : 'verified, not written'}</span>`}</td><td class="n">${bytes(x.bytes)}</td><td class="n">${pct(x.accuracy)}${delta}</td><td class="n">${sci(x.max_prob_diff)}</td><td class="n">${pct(x.argmax_agreement, 2)}</td><td>${e(x.verified_with)}</td><td><span class="badge ${status}">${status}</span> ${e(reason)}</td></tr>`;
    })
    .join('');
  return `<section id="fidelity"><h2>Export fidelity</h2>
<p class="muted">Each exported file run on the validation set and compared with the trained model (engine). Tolerances: float max prob diff ≤ ${t.floatMaxProbDiff} and every argmax equal (a float export outside them fails the run); int8 agreement ≥ ${t.int8MinAgreement * 100}%, accuracy drop ≤ ${int8DropLimitPoints(r.effective_config)} points (max-int8-drop).</p>
<table class="fidelity"><thead><tr><th>format</th><th>file</th><th class="n">size</th><th class="n">accuracy (Δ pts)</th><th class="n">max prob diff</th><th class="n">argmax agreement</th><th>verified with</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function deployment(r: Report): string {
  if (r.deployment.length === 0) return '';
  const bars = (title: string, key: 'parameters' | 'flash_bytes' | 'ram_bytes', color: string, format: (v: number) => string): string =>
    `<figure class="chart-deploy-${key}">${barChart({ title, bars: r.deployment.map((d) => ({ label: d.variant, value: d[key] })), color, format, width: 330 })}</figure>`;
  const accuracy = (variant: string): string => pct(r.exports.find((x) => x.format === variant)?.accuracy);
  const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`);
  const ram = (d: Report['deployment'][number]): string =>
    d.runtime === 'tflm' && d.ram_planned_bytes != null && d.ram_persistent_bytes != null
      ? `${bytes(d.ram_bytes)}<div class="sub">${bytes(d.ram_planned_bytes)} tensors + ${bytes(d.ram_persistent_bytes)} TFLM records</div>`
      : `${bytes(d.ram_bytes)}${d.runtime === 'onnxruntime' ? '<div class="sub">estimate</div>' : ''}`;
  const flash = (d: Report['deployment'][number]): string =>
    d.code_bytes != null && d.model_bytes !== undefined
      ? `${bytes(d.flash_bytes)}<div class="sub">${bytes(d.model_bytes)} model + ${bytes(d.code_bytes)} code</div>`
      : bytes(d.flash_bytes);
  const table = `<table><thead><tr><th>variant</th><th class="n">accuracy</th><th class="n">RAM</th><th class="n">flash</th><th class="n">latency (estimate)</th><th class="n">parameters</th><th class="n">MACs</th><th class="n">operators</th></tr></thead><tbody>${r.deployment
    .map(
      (d) =>
        `<tr><td>${e(d.variant)}</td><td class="n">${accuracy(d.variant)}</td><td class="n">${ram(d)}</td><td class="n">${flash(d)}</td><td class="n">${ms(d.latency_ms)}</td><td class="n">${int(d.parameters)}</td><td class="n">${int(d.macs)}</td><td class="n">${d.operators === undefined ? '-' : int(d.operators)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const tflm = r.deployment.find((d) => d.runtime === 'tflm');
  const cortexM = tflm?.cortex_m ? cortexMTable(r) : '';
  const notes = tflm
    ? `<ul class="notes"><li>RAM: TensorFlow Lite Micro's <code>arena_used_bytes()</code> on a Cortex-M with the reference kernels, computed exactly (${e(tflm.ram_checked_against ?? '')})${tflm.ram_bytes_64bit != null ? `; a 64-bit (desktop) build needs ${bytes(tflm.ram_bytes_64bit)}` : ''}. Edge Impulse's SDK builds Cortex-M targets with CMSIS-NN kernels unless told otherwise (<code>EI_CLASSIFIER_TFLITE_ENABLE_CMSIS_NN</code>)${tflm.cortex_m ? ': their figures are in the Cortex-M table below' : '; their scratch buffers and kernel data are not in these figures'}.</li>
<li>Flash: ${e(tflm.flash_method ?? 'model file')}.</li>
<li>Latency: ${e(tflm.latency_reference ?? '')}${tflm.cortex_m ? '; the Cortex-M table gives lower bounds from instruction counts instead' : ''}.</li></ul>`
    : '<p class="notes">Figures of schema version 1: estimates.</p>';
  return `<section id="deployment"><h2>Cost on the device</h2>
<div class="three">${bars('Parameters', 'parameters', COLORS.blue, int)}${bars('Flash', 'flash_bytes', COLORS.green, bytes)}${bars('RAM (TFLM arena)', 'ram_bytes', COLORS.vermillion, bytes)}</div>
${table}${notes}${cortexM}</section>`;
}

/** Schema 3: what the file costs as Edge Impulse deploys it to a Cortex-M4F, both kernel sets, the default marked. */
function cortexMTable(r: Report): string {
  const rows: string[] = [];
  let m: NonNullable<Report['deployment'][number]['cortex_m']> | undefined;
  for (const d of r.deployment) {
    if (!d.cortex_m) continue;
    m = d.cortex_m;
    for (const [key, name] of [
      ['cmsis_nn', 'CMSIS-NN'],
      ['reference', 'reference'],
    ] as const) {
      const k = d.cortex_m[key];
      const isDefault = (key === 'cmsis_nn') === (d.cortex_m.default_kernels === 'cmsis-nn');
      rows.push(
        `<tr><td>${e(d.variant)}</td><td>${name}${isDefault ? ' <span class="badge pass">default</span>' : ''}</td><td class="n">${bytes(k.ram_bytes)}</td><td class="n">${bytes(k.flash_bytes)}<div class="sub">${bytes(d.model_bytes ?? 0)} model + ${bytes(k.code_bytes)} code</div></td><td class="n">${int(k.invoke_instructions)}</td><td class="n">${int(k.setup_instructions)}</td><td class="n">≥ ${k.latency_lower_bound_ms < 10 ? k.latency_lower_bound_ms.toFixed(2) : k.latency_lower_bound_ms.toFixed(1)} ms</td></tr>`,
      );
    }
  }
  if (!m) return '';
  return `<h3>On a Cortex-M4F as Edge Impulse deploys it</h3>
<table><thead><tr><th>variant</th><th>kernels</th><th class="n">RAM</th><th class="n">flash</th><th class="n">instructions / Invoke</th><th class="n">setup / call</th><th class="n">latency at ${(m.clock_hz / 1e6).toFixed(0)} MHz</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<ul class="notes"><li>${e(m.method)}.</li><li>Setup: Edge Impulse's <code>run_nn_inference()</code> builds the interpreter and allocates tensors on every inference; the latency bound counts it. A Cortex-M4 needs at least one cycle per instruction (more for loads, branches and flash wait states), so real latency is higher.</li></ul>`;
}

function modelAndData(r: Report): string {
  const d = r.data;
  const layers = r.model.layers
    .map(
      (l) => `<tr><td>${e(l.name)}</td><td>${e(l.kind)}</td><td class="n">[${l.output_shape.join(', ')}]</td><td class="n">${int(l.parameters)}</td></tr>`,
    )
    .join('');
  return `<section id="model"><h2>Data and model</h2>
<div class="two"><table class="kv"><tbody>
<tr><th>training samples</th><td>${int(d.train_samples)}</td></tr>
<tr><th>validation samples</th><td>${int(d.validation_samples)}</td></tr>
<tr><th>features</th><td>${int(d.features)} (input shape [${d.input_shape.join(', ')}])</td></tr>
<tr><th>classes (${d.classes.length})</th><td>${d.classes.map(e).join(', ')}</td></tr>
<tr><th>label layout</th><td>${e(d.label_layout)}</td></tr>
</tbody></table>
<table><thead><tr><th>layer</th><th>kind</th><th class="n">output</th><th class="n">parameters</th></tr></thead><tbody>${layers}
<tr class="total"><td colspan="3">total</td><td class="n">${int(r.model.parameters)}</td></tr></tbody></table></div></section>`;
}

function config(r: Report): string {
  const rows = Object.entries(r.effective_config)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([k, v]) =>
        `<tr${v.source === 'default' ? '' : ' class="set"'}><td><code>${e(k)}</code></td><td><code>${e(JSON.stringify(v.value))}</code></td><td>${e(v.source)}</td></tr>`,
    )
    .join('');
  return `<section id="config"><h2>Effective configuration</h2>
<p class="muted">Every parameter as training used it, and where its value came from (bold: not a default).</p>
<table class="config"><thead><tr><th>parameter</th><th>value</th><th>source</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d2127; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
header p { margin: 0; color: #5b6470; }
h2 { font-size: 19px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 0 0 8px; }
section { background: #fff; border: 1px solid #e3e6ea; border-radius: 10px; padding: 18px 20px; margin-top: 18px; }
figure { margin: 10px 0 0; }
svg.chart { max-width: 100%; height: auto; display: block; }
.muted { color: #68717d; font-size: 13.5px; margin: 0 0 6px; }
.cards { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; background: none; border: none; padding: 0; }
.card { background: #fff; border: 1px solid #e3e6ea; border-radius: 10px; padding: 14px 16px; border-top: 4px solid #9aa3ad; }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: #68717d; }
.card .value { font-size: 28px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card .sub { font-size: 12.5px; color: #5b6470; }
#deployment td .sub { font-size: 11.5px; color: #68717d; }
#deployment .notes { font-size: 12.5px; color: #5b6470; margin: 8px 0 0; padding-left: 18px; }
.card.ok { border-top-color: #009E73; } .card.ok .value { color: #007a5a; }
.card.warn { border-top-color: #E69F00; } .card.warn .value { color: #a86f00; }
.card.fail { border-top-color: #D55E00; } .card.fail .value { color: #c24f00; }
.card.unverified { border-top-color: #9aa3ad; }
.warnings { background: #fff8e6; border-color: #f0d58c; }
.warnings ul { margin: 0; padding-left: 20px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin-top: 8px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #edf0f2; vertical-align: top; }
thead th { font-weight: 600; color: #454d57; border-bottom: 2px solid #dfe3e7; }
th.n { text-align: right; }
td.nowrap { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.bad { color: #c24f00; font-weight: 600; }
tr.total td { font-weight: 600; border-top: 2px solid #dfe3e7; }
table.kv th { width: 38%; font-weight: 500; color: #5b6470; }
table.config tr.set td, table.config tr.set code { font-weight: 650; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.two { display: grid; grid-template-columns: auto 1fr; gap: 24px; align-items: start; }
.stack > * + * { margin-top: 16px; }
.three { display: grid; grid-template-columns: repeat(3, 1fr); gap: 16px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600; color: #fff; background: #9aa3ad; }
.badge.ok { background: #009E73; } .badge.warn { background: #E69F00; } .badge.fail { background: #D55E00; }
table.events { max-width: 900px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; background: #999; }
tr.ev-added .swatch { background: #009E73; } tr.ev-discarded .swatch { background: #D55E00; }
tr.ev-restored_best .swatch { background: #fff; border: 1.5px dashed #555; }
tr.ev-pruned .swatch { background: #fff; border: 1.5px dashed #D55E00; }
footer { color: #8a929c; font-size: 12.5px; margin-top: 18px; text-align: center; }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(2, 1fr); } .two, .three { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } section { break-inside: avoid; } }
`;

export function renderReportHtml(report: Report): string {
  const r = report;
  const title = `Dendritic report · ${r.model.family} ×${r.model.width} · ${pct(r.validation?.accuracy ?? r.best?.val_acc ?? null)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header><h1>Dendritic training report</h1>
<p>${e(r.model.family)} ×${r.model.width} · ${int(r.data.train_samples)} training / ${int(r.data.validation_samples)} validation samples · ${r.data.classes.length} classes · created ${e(r.created)} · dendritic ${e(r.dendritic_version)}</p></header>
${summary(r)}
${warnings(r)}
${payoff(r)}
${curves(r)}
${learningRate(r)}
${confusion(r)}
${fidelity(r)}
${deployment(r)}
${modelAndData(r)}
${config(r)}
<footer>report.json schema version ${r.schema_version} · re-render with <code>dendritic report OUT_DIR</code></footer>
</main>
</body>
</html>
`;
}
