/**
 * O/sweep.html: one self-contained page (inline SVG and CSS, no script, nothing fetched) with the
 * trials' parallel-coordinates plot (one axis per swept parameter, then accuracy, loss, RAM and flash,
 * each with ticks; one line per trial, labelled with its id, coloured by validation accuracy, dashed when
 * pruned) and the accuracy-vs-RAM and accuracy-vs-flash Pareto fronts (a completed trial meeting the
 * constraints is on a front when no other has higher-or-equal accuracy with less-or-equal bytes, one of
 * them strictly; pruned and infeasible trials are drawn hollow and never on it), and the trial table
 * with what dendrites did in each trial (sets tried, kept, the network shipped).
 */
import type { Constraint, ParamValue } from './config.js';
import type { SweepFile } from './state.js';
import type { TrialResult } from './trial.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Axis {
  label: string;
  /** Position 0 (bottom) .. 1 (top) of a trial on this axis, or null when it has no value. */
  pos(t: TrialResult): number | null;
  ticks: Array<{ at: number; text: string }>;
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? v.toFixed(3).replace(/0+$/, '') : v.toExponential(2);
}

/** About `n` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart), lo and hi included. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= raw)!;
  const out: number[] = [lo];
  for (let v = Math.ceil(lo / step) * step; v < hi; v += step) {
    const r = Number(v.toPrecision(12));
    // skip round values that would sit on top of the limits' labels
    if (r - lo > step * 0.3 && hi - r > step * 0.3) out.push(r);
  }
  out.push(hi);
  return out;
}

/** Tick values of a log axis: the powers of ten (or 1-2-5 multiples of them) between lo and hi, lo and hi included. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [lo];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of hi / lo > 1000 ? [1] : [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v > lo * 1.15 && v < hi / 1.15) out.push(v);
    }
  }
  out.push(hi);
  return out;
}

function numericAxis(label: string, get: (t: TrialResult) => number | null, trials: readonly TrialResult[]): Axis {
  const values = trials.map(get).filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const log = lo > 0 && hi / lo > 20;
  const f = (v: number) => (log ? Math.log(v) : v);
  const span = f(hi) - f(lo);
  const pos = (v: number) => (span === 0 ? 0.5 : (f(v) - f(lo)) / span);
  return {
    label: log ? `${label} (log)` : label,
    pos: (t) => {
      const v = get(t);
      return v === null || !Number.isFinite(v) ? null : pos(v);
    },
    ticks: lo === hi ? [{ at: 0.5, text: fmt(lo) }] : (log ? logTicks(lo, hi) : niceTicks(lo, hi)).map((v) => ({ at: pos(v), text: fmt(v) })),
  };
}

function categoricalAxis(label: string, get: (t: TrialResult) => ParamValue | undefined, trials: readonly TrialResult[]): Axis {
  const cats = [...new Set(trials.map((t) => String(get(t))))].sort();
  const at = (c: string) => (cats.length === 1 ? 0.5 : cats.indexOf(c) / (cats.length - 1));
  return { label, pos: (t) => at(String(get(t))), ticks: cats.map((c) => ({ at: at(c), text: c })) };
}

/** Whether a trial can be on a front: completed (not pruned: its figures are of a model stopped early) and meeting the constraints. */
function frontEligible(t: TrialResult): boolean {
  return t.status === 'completed' && !t.constraints_missed?.length;
}

export function paretoFront(trials: readonly TrialResult[], bytes: (t: TrialResult) => number | undefined): TrialResult[] {
  const pts = trials.filter((t) => frontEligible(t) && t.metrics?.accuracy != null && bytes(t) !== undefined);
  return pts
    .filter(
      (a) =>
        !pts.some(
          (b) =>
            b !== a &&
            b.metrics!.accuracy! >= a.metrics!.accuracy! &&
            bytes(b)! <= bytes(a)! &&
            (b.metrics!.accuracy! > a.metrics!.accuracy! || bytes(b)! < bytes(a)!),
        ),
    )
    .sort((a, b) => bytes(a)! - bytes(b)!);
}

/** What dendrites did in a trial, in a few words: '3 tried, 1 kept; shipped dendritic (1 set)'. */
export function dendriteOutcome(d: TrialResult['dendrites']): string {
  if (!d) return 'unknown';
  if (!d.enabled) return 'off; shipped plain';
  const shipped = d.shipped === 'dendritic' ? `dendritic (${d.shipped_sets} set${d.shipped_sets === 1 ? '' : 's'})` : 'plain';
  return `${d.tried} tried, ${d.kept} kept; shipped ${shipped}`;
}

function colour(acc: number | null | undefined, lo: number, hi: number): string {
  if (acc == null) return '#999';
  const x = hi > lo ? (acc - lo) / (hi - lo) : 1;
  return `hsl(${Math.round(10 + 110 * x)}, 70%, 42%)`;
}

function parallelCoordinates(trials: readonly TrialResult[], swept: readonly string[], accLo: number, accHi: number, bestId: string | undefined): string {
  const axes: Axis[] = swept.map((p) => {
    const vals = trials.map((t) => t.params[p]);
    return vals.every((v) => typeof v === 'number')
      ? numericAxis(p, (t) => t.params[p] as number, trials)
      : categoricalAxis(p, (t) => t.params[p], trials);
  });
  axes.push(numericAxis('accuracy', (t) => t.metrics?.accuracy ?? null, trials));
  axes.push(numericAxis('loss', (t) => t.metrics?.loss ?? null, trials));
  axes.push(numericAxis('RAM bytes', (t) => t.deployment?.ram_bytes ?? null, trials));
  axes.push(numericAxis('flash bytes', (t) => t.deployment?.flash_bytes ?? null, trials));
  const W = Math.max(640, 130 * axes.length) + 90;
  const H = 360;
  const top = 40;
  const bottom = 300;
  const x = (i: number) => 60 + (i * (W - 210)) / Math.max(1, axes.length - 1);
  const y = (p: number) => bottom - p * (bottom - top);
  const parts: string[] = [];
  const ends = new Map<string, TrialResult[]>();
  for (const t of trials) {
    const pts = axes.map((a, i) => {
      const p = a.pos(t);
      return p === null ? null : `${x(i).toFixed(1)},${y(p).toFixed(1)}`;
    });
    if (pts.some((p) => p === null)) continue;
    const isBest = t.id === bestId;
    parts.push(
      `<polyline class="trial" data-trial="${esc(t.id)}" points="${pts.join(' ')}" fill="none" stroke="${colour(t.metrics?.accuracy, accLo, accHi)}" stroke-width="${isBest ? 3 : 1.2}" opacity="${isBest ? 1 : 0.7}"${t.status === 'pruned' ? ' stroke-dasharray="4 3"' : ''}><title>${esc(t.id)} ${esc(t.status)}${t.pruned_at_epoch !== undefined ? ` at epoch ${t.pruned_at_epoch}` : ''}</title></polyline>`,
    );
    // the trial's id at the end of its line, so a line can be found in the table (lines ending together share one label)
    const last = pts[pts.length - 1]!;
    ends.set(last, [...(ends.get(last) ?? []), t]);
  }
  for (const [at, ts] of ends) {
    const [ex, ey] = at.split(',').map(Number) as [number, number];
    const text = ts.map((t) => `${t.id}${t.status === 'pruned' ? ' (pruned)' : ''}`).join(', ');
    parts.push(
      `<text class="label" data-trial="${esc(ts.map((t) => t.id).join(' '))}" x="${(ex + 6).toFixed(1)}" y="${(ey + 3).toFixed(1)}">${esc(text)}</text>`,
    );
  }
  axes.forEach((a, i) => {
    parts.push(`<line x1="${x(i)}" y1="${top}" x2="${x(i)}" y2="${bottom}" stroke="#333"/>`);
    parts.push(`<text x="${x(i)}" y="${bottom + 30}" text-anchor="middle" class="axis">${esc(a.label)}</text>`);
    for (const tk of a.ticks) {
      parts.push(`<line x1="${x(i) - 4}" y1="${y(tk.at).toFixed(1)}" x2="${x(i)}" y2="${y(tk.at).toFixed(1)}" stroke="#333"/>`);
      parts.push(`<text x="${x(i) - 6}" y="${(y(tk.at) + 3).toFixed(1)}" text-anchor="end" class="tick">${esc(tk.text)}</text>`);
    }
  });
  // room for the longest end label (about 5.5 px a character at 9 px)
  const longest = Math.max(0, ...[...ends.values()].map((ts) => ts.map((t) => `${t.id}${t.status === 'pruned' ? ' (pruned)' : ''}`).join(', ').length));
  const Wl = Math.max(W, Math.ceil(x(axes.length - 1) + 12 + longest * 5.5));
  return `<svg id="parallel-coordinates" width="${Wl}" height="${H}" viewBox="0 0 ${Wl} ${H}" role="img"><title>Parallel coordinates of the trials</title>${parts.join('')}</svg>`;
}

function paretoPlot(id: string, trials: readonly TrialResult[], bytesLabel: string, bytes: (t: TrialResult) => number | undefined): string {
  const pts = trials.filter((t) => t.metrics?.accuracy != null && bytes(t) !== undefined);
  const W = 480;
  const H = 320;
  const [l, r, tp, b] = [70, W - 30, 20, H - 50];
  const bx = pts.map((t) => bytes(t)!);
  const ay = pts.map((t) => t.metrics!.accuracy!);
  const [x0, x1] = bx.length ? [Math.min(...bx), Math.max(...bx)] : [0, 1];
  const [y0, y1] = ay.length ? [Math.min(...ay), Math.max(...ay)] : [0, 1];
  const sx = (v: number) => (x1 === x0 ? (l + r) / 2 : l + ((v - x0) / (x1 - x0)) * (r - l));
  const sy = (v: number) => (y1 === y0 ? (tp + b) / 2 : b - ((v - y0) / (y1 - y0)) * (b - tp));
  const front = paretoFront(pts, bytes);
  const onFront = new Set(front.map((t) => t.id));
  const parts: string[] = [
    `<line x1="${l}" y1="${b}" x2="${r}" y2="${b}" stroke="#333"/><line x1="${l}" y1="${tp}" x2="${l}" y2="${b}" stroke="#333"/>`,
    `<text x="${(l + r) / 2}" y="${H - 10}" text-anchor="middle" class="axis">${esc(bytesLabel)}</text>`,
    `<text x="14" y="${(tp + b) / 2}" transform="rotate(-90 14 ${(tp + b) / 2})" text-anchor="middle" class="axis">validation accuracy</text>`,
  ];
  for (const v of x1 > x0 ? niceTicks(x0, x1, 4) : [x0]) {
    parts.push(`<line class="xtick" x1="${sx(v).toFixed(1)}" y1="${b}" x2="${sx(v).toFixed(1)}" y2="${b + 4}" stroke="#333"/>`);
    parts.push(`<text x="${sx(v).toFixed(1)}" y="${b + 15}" text-anchor="middle" class="tick">${esc(fmt(v))}</text>`);
  }
  for (const v of y1 > y0 ? niceTicks(y0, y1, 4) : [y0]) {
    parts.push(`<line class="ytick" x1="${l - 4}" y1="${sy(v).toFixed(1)}" x2="${l}" y2="${sy(v).toFixed(1)}" stroke="#333"/>`);
    parts.push(`<text x="${l - 6}" y="${(sy(v) + 3).toFixed(1)}" text-anchor="end" class="tick">${esc(fmt(v))}</text>`);
  }
  if (front.length > 1) {
    // A staircase: between two front trials nothing better than the cheaper one's accuracy was found,
    // so a straight line would promise trade-offs no trial showed.
    const steps = front.flatMap((t, i) => {
      const at = [sx(bytes(t)!), sy(t.metrics!.accuracy!)] as const;
      const corner = i === 0 ? [] : [[at[0], sy(front[i - 1]!.metrics!.accuracy!)] as const];
      return [...corner, at].map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`);
    });
    parts.push(`<polyline class="front" points="${steps.join(' ')}" fill="none" stroke="#c33" stroke-width="1.5"/>`);
  }
  const labels = new Map<string, string[]>();
  for (const t of pts) {
    const f = onFront.has(t.id);
    const pruned = t.status === 'pruned';
    const off = !frontEligible(t); // pruned, or missing a constraint: hollow, never on the front
    const why = pruned
      ? `, pruned at epoch ${t.pruned_at_epoch ?? '?'}`
      : t.constraints_missed?.length
        ? `, misses ${t.constraints_missed.join(', ')}`
        : '';
    const [cx, cy] = [sx(bytes(t)!), sy(t.metrics!.accuracy!)];
    parts.push(
      `<circle class="${f ? 'point on-front' : pruned ? 'point pruned' : off ? 'point infeasible' : 'point'}" data-trial="${esc(t.id)}" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${f ? 5 : 3.5}" fill="${f ? '#c33' : off ? 'none' : '#69c'}"${off ? ' stroke="#888"' : ''}><title>${esc(t.id)}: ${fmt(t.metrics!.accuracy!)} at ${bytes(t)} bytes${esc(why)}</title></circle>`,
    );
    const at = `${cx.toFixed(1)},${cy.toFixed(1)}`;
    labels.set(at, [...(labels.get(at) ?? []), t.id.replace(/^t0*/, 't')]);
  }
  // one label per point, naming every trial there
  for (const [at, ids] of labels) {
    const [cx, cy] = at.split(',').map(Number) as [number, number];
    parts.push(`<text class="label" x="${(cx + 6).toFixed(1)}" y="${(cy - 4).toFixed(1)}">${esc(ids.join(', '))}</text>`);
  }
  return `<svg id="${id}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img"><title>Accuracy vs ${esc(bytesLabel)}</title>${parts.join('')}</svg>`;
}

export function renderSweepHtml(file: SweepFile): string {
  const trials = file.trials.filter((t) => t.status !== 'failed');
  const all = [...file.trials].sort((a, b) => a.id.localeCompare(b.id));
  const swept = [...new Set(file.trials.flatMap((t) => Object.keys(t.params)))].filter(
    (p) => new Set(file.trials.map((t) => JSON.stringify(t.params[p]))).size > 1,
  );
  const accs = trials.map((t) => t.metrics?.accuracy).filter((a): a is number => a != null);
  const accLo = accs.length ? Math.min(...accs) : 0;
  const accHi = accs.length ? Math.max(...accs) : 1;
  const counts = ['completed', 'pruned', 'failed'].map((s) => `${file.trials.filter((t) => t.status === s).length} ${s}`).join(', ');
  const best = file.best;
  const rows = all.map(
    (t) =>
      `<tr${t.id === best?.id ? ' class="best"' : ''}><td>${esc(t.id)}</td><td>${esc(t.status)}</td>${swept.map((p) => `<td>${esc(String(t.params[p]))}</td>`).join('')}<td>${t.metrics?.accuracy != null ? fmt(t.metrics.accuracy) : ''}</td><td>${t.metrics?.loss != null ? fmt(t.metrics.loss) : ''}</td><td>${t.deployment?.ram_bytes ?? ''}</td><td>${t.deployment?.flash_bytes ?? ''}</td><td>${t.deployment?.macs ?? ''}</td><td>${t.metrics?.int8_accuracy != null ? fmt(t.metrics.int8_accuracy) : ''}</td><td>${t.dendrites ? t.dendrites.tried : ''}</td><td>${t.dendrites ? t.dendrites.kept : ''}</td><td class="shipped">${t.dendrites ? esc(t.dendrites.shipped === 'dendritic' ? `dendritic (${t.dendrites.shipped_sets})` : 'plain') : ''}</td><td>${t.seconds.toFixed(1)}</td><td>${esc(t.worker)}</td><td class="note">${esc(t.status === 'pruned' ? `pruned at epoch ${t.pruned_at_epoch ?? '?'}` : t.constraints_missed?.length ? `misses ${t.constraints_missed.join(', ')}` : (t.error ?? ''))}</td></tr>`,
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sweep ${esc(file.name ?? file.sweep_id)}</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}svg{background:#fafafa;border:1px solid #ddd;margin:0.5em 0;max-width:100%;height:auto}
.axis{font-size:12px}.tick{font-size:10px;fill:#555}.label{font-size:9px;fill:#444}td.note,td.shipped{text-align:left}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
tr.best{background:#efe}.plots{display:flex;flex-wrap:wrap;gap:1em}</style></head><body>
<h1>Sweep ${esc(file.name ?? file.sweep_id)}</h1>
<p>${esc(file.method)} search, metric ${esc(file.metric.name)} (${esc(file.metric.goal)}); ${file.trials.length} of ${file.trials_planned} trials finished (${counts})${file.pending.length ? `, ${file.pending.length} pending` : ''}; updated ${esc(file.updated)}.</p>
<p id="best">${
    best
      ? `Best: <b>${esc(best.id)}</b>, ${esc(file.metric.name)} ${fmt(best.value)}${best.deployment ? `, RAM ${best.deployment.ram_bytes} B, flash ${best.deployment.flash_bytes} B, ${best.deployment.macs} MACs` : ''}; dendrites: ${esc(dendriteOutcome(best.dendrites ?? null))}${file.constraints?.length ? `; meets ${esc(file.constraints.map(constraintText).join(', '))}` : ''}: ${esc(
          Object.entries(best.params)
            .map(([k, v]) => `--${k} ${String(v)}`)
            .join(' '),
        )}`
      : 'No completed trial yet.'
  }</p>
<h2>Parallel coordinates</h2>
<p>One line per trial, labelled with its id (dashed: pruned, stopped early by hyperband), coloured from the lowest (red) to the highest (green) validation accuracy; the best trial is drawn thick. Failed trials are left out.</p>
${parallelCoordinates(trials, swept, accLo, accHi, best?.id)}
<h2>Accuracy against device cost (int8 TFLite, TFLM on a Cortex-M)</h2>
<p>Red: the Pareto front, the completed trials no other beats on both accuracy and bytes. Hollow: pruned trials (their figures are of a model stopped early) and trials that miss a constraint; they are never on the front.</p>
<div class="plots">${paretoPlot('pareto-ram', trials, 'RAM bytes', (t) => t.deployment?.ram_bytes)}${paretoPlot('pareto-flash', trials, 'flash bytes', (t) => t.deployment?.flash_bytes)}</div>
<h2>Trials</h2>
<table><thead><tr><th>id</th><th>status</th>${swept.map((p) => `<th>${esc(p)}</th>`).join('')}<th>accuracy</th><th>loss</th><th>RAM</th><th>flash</th><th>MACs</th><th>int8 accuracy</th><th>sets tried</th><th>sets kept</th><th>shipped</th><th>seconds</th><th>worker</th><th>note</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
</body></html>
`;
}

function constraintText(c: Constraint): string {
  return [c.min !== undefined ? `${c.name} >= ${c.min}` : '', c.max !== undefined ? `${c.name} <= ${c.max}` : ''].filter(Boolean).join(' and ');
}
