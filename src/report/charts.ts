/**
 * Server-side inline SVG charts for report.html: no dependencies, no scripts, deterministic output.
 * Every data point is its own element (`<circle class="pt">`, `<rect class="cell">`, `<rect class="bar">`)
 * and every line carries `data-points`, so tests (and curious readers of the DOM) can count them.
 * All text passes through escapeXml because class names and labels come from users.
 */

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Colour-blind-safe palette (Okabe & Ito). */
export const COLORS = {
  blue: '#0072B2',
  orange: '#E69F00',
  green: '#009E73',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  sky: '#56B4E9',
  grey: '#555555',
} as const;

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';

/** Rough text width for layout; SVG cannot measure text without a browser. */
function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.58;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(4)}`;
  if (a >= 1e-3) return `${+v.toPrecision(3)}`;
  return v.toExponential(1);
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

// ------------------------------------------------------------------------------------------------
// Scales

/** Ticks at 1, 2 or 5 x 10^k covering [min, max]; also returns the widened ("nice") domain. */
export function niceTicks(min: number, max: number, count = 5): { ticks: number[]; lo: number; hi: number } {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step * 1e-6; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : +t.toPrecision(12));
  return { ticks, lo, hi };
}

/** Decade ticks (adding 2x and 5x when the range spans less than two decades). */
function logTicks(min: number, max: number): { ticks: number[]; lo: number; hi: number } {
  let lo = 10 ** Math.floor(Math.log10(min));
  let hi = 10 ** Math.ceil(Math.log10(max));
  if (hi <= lo) hi = lo * 10;
  const decades = Math.round(Math.log10(hi / lo));
  const ticks: number[] = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const m of decades < 2 ? [1, 2, 5] : [1]) {
      const t = +(d * m).toPrecision(6);
      if (t <= hi * 1.0001) ticks.push(t);
    }
  }
  // Tighten the domain to the ticks nearest the data so a narrow range is not squashed.
  const below = ticks.filter((t) => t <= min * 1.0001);
  const above = ticks.filter((t) => t >= max * 0.9999);
  lo = below.length ? below[below.length - 1]! : lo;
  hi = above.length ? above[0]! : hi;
  return { ticks: ticks.filter((t) => t >= lo * 0.9999 && t <= hi * 1.0001), lo, hi };
}

// ------------------------------------------------------------------------------------------------
// Line chart

export interface Series {
  /** Shown in the legend and as data-series on every element. */
  name: string;
  color: string;
  /** [x, y]; y null leaves a gap (e.g. a diverged loss). */
  points: Array<[number, number | null]>;
  dashed?: boolean;
  /** Draw as a step function (value holds until the next point), e.g. a learning-rate schedule. */
  step?: boolean;
}

export type MarkerKind = 'added' | 'discarded' | 'restored_best' | 'pruned' | 'training_complete' | 'time_limit' | 'interrupted';

export interface Marker {
  x: number;
  kind: MarkerKind;
  /** Short text drawn above the plot, e.g. '+set 1'. */
  label: string;
  /** Longer text for the tooltip. */
  title?: string;
}

export const MARKER_STYLE: Record<MarkerKind, { color: string; dash?: string; legend: string }> = {
  added: { color: COLORS.green, legend: 'dendrite set added' },
  discarded: { color: COLORS.vermillion, legend: 'dendrite set discarded' },
  restored_best: { color: COLORS.grey, dash: '5 3', legend: 'best weights restored' },
  pruned: { color: COLORS.vermillion, dash: '5 3', legend: 'dendrite set pruned' },
  training_complete: { color: COLORS.blue, dash: '2 3', legend: 'training complete' },
  time_limit: { color: COLORS.purple, dash: '2 3', legend: 'time limit' },
  interrupted: { color: COLORS.purple, dash: '2 3', legend: 'interrupted' },
};

export interface LineChartOptions {
  /** Accessible title (<title>) of the chart. */
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  markers?: Marker[];
  /** Shaded x ranges, e.g. dendrite-training phases. */
  bands?: Array<{ from: number; to: number; label: string }>;
  yLog?: boolean;
  /** The y axis never extends beyond these bounds (e.g. [0, 1] for accuracy). */
  yClamp?: [number, number];
  width?: number;
  height?: number;
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Assigns each label a row so labels in the same row do not overlap; returns row per input index. */
function assignLanes(items: Array<{ x: number; width: number }>, maxLanes: number): number[] {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.x - items[b]!.x);
  const laneEnds: number[] = [];
  const lanes = new Array<number>(items.length).fill(0);
  for (const i of order) {
    const { x, width } = items[i]!;
    let lane = laneEnds.findIndex((end) => end + 4 <= x);
    if (lane === -1) {
      lane = laneEnds.length < maxLanes ? laneEnds.length : laneEnds.indexOf(Math.min(...laneEnds));
    }
    laneEnds[lane] = x + width;
    lanes[i] = lane;
  }
  return lanes;
}

/** Where everything of one line chart goes: shared by the functions that draw its parts. */
interface ChartLayout {
  width: number;
  height: number;
  box: Box;
  /** The x domain. */
  x0: number;
  x1: number;
  yTicks: { ticks: number[]; lo: number; hi: number };
  sx: (x: number) => number;
  sy: (y: number) => number;
  markers: Marker[];
  /** Per marker: its label's lane (row above the plot), and whether the label sits left of its line. */
  lanes: number[];
  flip: boolean[];
  legendY: number;
  laneHeight: number;
  labelFont: number;
}

/** Whether a y value is drawn: not a gap, finite, and positive on a log axis. */
function plotted(y: number | null, yLog: boolean | undefined): y is number {
  return y !== null && Number.isFinite(y) && (!yLog || y > 0);
}

export function lineChart(o: LineChartOptions): string {
  const L = chartLayout(o);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" width="${L.width}" height="${L.height}" ` +
      `viewBox="0 0 ${L.width} ${L.height}" role="img" ${FONT} font-size="11">`,
    `<title>${escapeXml(o.title)}</title>`,
    ...svgBands(o, L),
    ...svgAxes(o, L),
    ...svgMarkers(L),
    ...svgSeries(o, L),
    svgLegend(o, L),
    '</svg>',
  ].join('\n');
}

/** The y ticks and domain: [0, 1] without data, decades on a log axis, else nice ticks within `yClamp`. */
function yAxisTicks(ys: number[], o: LineChartOptions): { ticks: number[]; lo: number; hi: number } {
  if (ys.length === 0) return { ticks: [0, 1], lo: 0, hi: 1 };
  if (o.yLog) return logTicks(Math.min(...ys), Math.max(...ys));
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  if (o.yClamp) {
    yTicks.lo = Math.max(yTicks.lo, o.yClamp[0]);
    yTicks.hi = Math.min(yTicks.hi, o.yClamp[1]);
    yTicks.ticks = yTicks.ticks.filter((t) => t >= yTicks.lo - 1e-12 && t <= yTicks.hi + 1e-12);
  }
  return yTicks;
}

/** Ranges, y ticks, the plot box (legend row, then marker label lanes, then the plot) and the scales. */
function chartLayout(o: LineChartOptions): ChartLayout {
  const width = o.width ?? 640;
  const height = o.height ?? 300;
  const markers = o.markers ?? [];
  const all = o.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).filter((y): y is number => plotted(y, o.yLog));

  const xMin = Math.min(...xs, ...markers.map((m) => m.x));
  const xMax = Math.max(...xs, ...markers.map((m) => m.x));
  const x0 = Number.isFinite(xMin) ? xMin : 0;
  const x1 = Number.isFinite(xMax) && xMax > x0 ? xMax : x0 + 1;
  const yTicks = yAxisTicks(ys, o);

  const legendY = 16;
  const laneHeight = 14;
  const labelFont = 10.5;
  const yTickWidth = Math.max(...yTicks.ticks.map((t) => textWidth(fmt(t), 11)));
  const box: Box = { left: Math.max(48, yTickWidth + 30), top: 0, right: width - 14, bottom: height - 42 };
  const sx = (x: number): number => box.left + ((x - x0) / (x1 - x0)) * (box.right - box.left);

  // A label sits right of its line, or left of it when it would run past the plot's right edge.
  const flip = markers.map((m) => sx(m.x) + 3 + textWidth(m.label, labelFont) > width - 2);
  const labelItems = markers.map((m, i) => {
    const w = textWidth(m.label, labelFont);
    return { x: flip[i] ? sx(m.x) - 3 - w : sx(m.x) + 3, width: w };
  });
  const lanes = assignLanes(labelItems, 4);
  const laneCount = markers.length ? Math.max(...lanes) + 1 : 0;
  box.top = legendY + 14 + laneCount * laneHeight + 4;

  const ly = (v: number): number => (o.yLog ? Math.log10(v) : v);
  const sy = (y: number): number => box.bottom - ((ly(y) - ly(yTicks.lo)) / (ly(yTicks.hi) - ly(yTicks.lo) || 1)) * (box.bottom - box.top);
  return { width, height, box, x0, x1, yTicks, sx, sy, markers, lanes, flip, legendY, laneHeight, labelFont };
}

/** Shaded x ranges behind the plot. */
function svgBands(o: LineChartOptions, { box, x0, x1, sx }: ChartLayout): string[] {
  return (o.bands ?? []).map((band) => {
    const a = sx(Math.max(band.from, x0)),
      b = sx(Math.min(band.to, x1));
    return (
      `<rect class="band" x="${r1(a)}" y="${r1(box.top)}" width="${r1(Math.max(b - a, 1))}" ` +
      `height="${r1(box.bottom - box.top)}" fill="#eef3f8"><title>${escapeXml(band.label)}</title></rect>`
    );
  });
}

/** Grid and axes. */
function svgAxes(o: LineChartOptions, { box, x0, x1, sx, sy, yTicks, height }: ChartLayout): string[] {
  const parts: string[] = ['<g class="axis y-axis">'];
  for (const t of yTicks.ticks) {
    const y = r1(sy(t));
    parts.push(
      `<line x1="${box.left}" x2="${box.right}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`,
      `<text class="tick" x="${box.left - 6}" y="${y}" dy="0.32em" text-anchor="end" fill="#444">${escapeXml(fmt(t))}</text>`,
    );
  }
  const midY = (box.top + box.bottom) / 2;
  parts.push(
    `<text class="axis-label" transform="translate(13 ${r1(midY)}) rotate(-90)" text-anchor="middle" fill="#222">${escapeXml(o.yLabel)}</text>`,
    '</g>',
  );
  const xTicks = niceTicks(x0, x1, Math.max(2, Math.min(10, Math.floor((box.right - box.left) / 60)))).ticks.filter(
    (t) => t >= x0 - 1e-9 && t <= x1 + 1e-9,
  );
  parts.push('<g class="axis x-axis">');
  for (const t of xTicks) {
    const x = r1(sx(t));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${box.bottom}" y2="${box.bottom + 4}" stroke="#444"/>`,
      `<text class="tick" x="${x}" y="${box.bottom + 16}" text-anchor="middle" fill="#444">${escapeXml(fmt(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${box.left}" x2="${box.right}" y1="${box.bottom}" y2="${box.bottom}" stroke="#444"/>`,
    `<line x1="${box.left}" x2="${box.left}" y1="${box.top}" y2="${box.bottom}" stroke="#444"/>`,
    `<text class="axis-label" x="${r1((box.left + box.right) / 2)}" y="${height - 8}" text-anchor="middle" fill="#222">${escapeXml(o.xLabel)}</text>`,
    '</g>',
  );
  return parts;
}

/** Event markers: a vertical line through the plot, its label in a lane above. */
function svgMarkers({ markers, box, sx, lanes, flip, legendY, laneHeight, labelFont }: ChartLayout): string[] {
  return markers.flatMap((m, i) => {
    const style = MARKER_STYLE[m.kind];
    const x = r1(sx(m.x));
    const labelY = legendY + 14 + lanes[i]! * laneHeight + 10;
    return [
      `<g class="marker marker-${m.kind}" data-kind="${m.kind}" data-x="${m.x}">`,
      `<title>${escapeXml(m.title ?? m.label)}</title>`,
      `<line x1="${x}" x2="${x}" y1="${labelY - 9}" y2="${box.bottom}" stroke="${style.color}" stroke-width="1.5"` +
        `${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}/>`,
      `<text x="${r1(flip[i] ? sx(m.x) - 3 : sx(m.x) + 3)}" y="${labelY}"${flip[i] ? ' text-anchor="end"' : ''} ` +
        `font-size="${labelFont}" fill="${style.color}">${escapeXml(m.label)}</text>`,
      '</g>',
    ];
  });
}

/** Series: one path (split at gaps) plus one circle per point (smaller when there are many, so the line stays readable). */
function svgSeries(o: LineChartOptions, { sx, sy }: ChartLayout): string[] {
  return o.series.flatMap((s) => {
    const valid = s.points.filter((p): p is [number, number] => plotted(p[1], o.yLog));
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!plotted(y, o.yLog)) {
        pen = false;
        continue;
      }
      const px = r1(sx(x)),
        py = r1(sy(y));
      if (!pen) d += `M${px} ${py}`;
      else if (s.step) d += `H${px}V${py}`;
      else d += `L${px} ${py}`;
      pen = true;
    }
    const name = escapeXml(s.name);
    const radius = valid.length > 120 ? 1.2 : valid.length > 60 ? 1.7 : 2.2;
    return [
      `<g class="series" data-series="${name}">`,
      `<path class="line" data-series="${name}" data-points="${valid.length}" d="${d}" fill="none" stroke="${s.color}" ` +
        `stroke-width="2" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      ...valid.map(
        ([x, y]) =>
          `<circle class="pt" data-series="${name}" cx="${r1(sx(x))}" cy="${r1(sy(y))}" r="${radius}" fill="${s.color}">` +
          `<title>${name} @ ${escapeXml(fmt(x))}: ${escapeXml(fmt(y))}</title></circle>`,
      ),
      '</g>',
    ];
  });
}

/** Legend: series, then the marker kinds that occur. */
function svgLegend(o: LineChartOptions, { box, markers, legendY }: ChartLayout): string {
  const legend: string[] = [];
  let lx = box.left;
  const item = (swatch: string, label: string): void => {
    legend.push(`<g transform="translate(${r1(lx)} ${legendY - 4})">${swatch}<text x="22" y="4" fill="#222">${escapeXml(label)}</text></g>`);
    lx += 30 + textWidth(label, 11) + 12;
  };
  for (const s of o.series) {
    item(`<line x1="0" x2="16" y1="0" y2="0" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`, s.name);
  }
  for (const kind of [...new Set(markers.map((m) => m.kind))]) {
    const st = MARKER_STYLE[kind];
    item(`<line x1="8" x2="8" y1="-7" y2="7" stroke="${st.color}" stroke-width="2"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''}/>`, st.legend);
  }
  return `<g class="legend">${legend.join('')}</g>`;
}

// ------------------------------------------------------------------------------------------------
// Confusion matrix

/** Shortens in the middle: class names often share a prefix and differ at the end ('word_2', 'word_20'). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

/**
 * Heat map, rows = true class, columns = predicted class. Colour is the row-normalised fraction
 * (diagonal blue, confusions red) so a rare class's mistakes stand out as much as a common one's;
 * each cell shows the raw count. The right-hand column gives each class's recall.
 */
export function confusionMatrixChart(classes: string[], matrix: number[][], title = 'Confusion matrix'): string {
  const n = classes.length;
  const cell = Math.max(18, Math.min(46, Math.floor(720 / Math.max(n, 1))));
  const countFont = cell >= 30 ? 12 : cell >= 22 ? 10 : 8;
  const labelFont = 11;
  const maxLabel = 18;
  const labels = classes.map((c) => truncate(c, maxLabel));
  const labelWidth = Math.max(30, ...labels.map((l) => textWidth(l, labelFont))) + 10;
  // Column labels are rotated -45deg, so they need about 0.72 of their length in height.
  const colLabelHeight = labelWidth * 0.72 + 6;
  const left = labelWidth + 22;
  const top = colLabelHeight + 24;
  const gridW = cell * n;
  const width = left + gridW + 70;
  const height = top + gridW + 12;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart confusion-matrix" width="${r1(width)}" height="${r1(height)}" ` +
      `viewBox="0 0 ${r1(width)} ${r1(height)}" role="img" ${FONT} font-size="${labelFont}">`,
    `<title>${escapeXml(title)}</title>`,
    `<text class="axis-label" x="${r1(left + gridW / 2)}" y="12" text-anchor="middle" fill="#222" font-weight="600">predicted class</text>`,
    `<text class="axis-label" transform="translate(12 ${r1(top + gridW / 2)}) rotate(-90)" text-anchor="middle" fill="#222" font-weight="600">true class</text>`,
    `<text x="${r1(left + gridW + 8)}" y="${r1(top - 6)}" fill="#444">recall</text>`,
  ];

  labels.forEach((label, i) => {
    const full = escapeXml(classes[i]!);
    const cy = top + i * cell + cell / 2;
    const cx = left + i * cell + cell / 2;
    parts.push(
      `<text class="row-label" x="${r1(left - 6)}" y="${r1(cy)}" dy="0.32em" text-anchor="end" fill="#222">${escapeXml(label)}<title>${full}</title></text>`,
      `<text class="col-label" transform="translate(${r1(cx)} ${r1(top - 6)}) rotate(-45)" fill="#222">${escapeXml(label)}<title>${full}</title></text>`,
    );
  });

  matrix.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const frac = total > 0 ? count / total : 0;
      const hue = t === p ? '0, 114, 178' : '213, 94, 0';
      const alpha = count === 0 ? 0 : 0.08 + 0.92 * frac;
      const x = left + p * cell,
        y = top + t * cell;
      const dark = alpha > 0.55;
      const name = `true ${classes[t]} → predicted ${classes[p]}: ${count} (${(frac * 100).toFixed(1)}% of row)`;
      parts.push(
        `<g class="cm-cell"><title>${escapeXml(name)}</title>` +
          `<rect class="cell" data-true="${t}" data-pred="${p}" data-count="${count}" x="${r1(x)}" y="${r1(y)}" ` +
          `width="${cell}" height="${cell}" fill="rgba(${hue}, ${alpha.toFixed(3)})" stroke="#fff"/>` +
          `<text class="count" x="${r1(x + cell / 2)}" y="${r1(y + cell / 2)}" dy="0.32em" text-anchor="middle" ` +
          `font-size="${countFont}" fill="${count === 0 ? '#c4c4c4' : dark ? '#fff' : '#222'}">${count}</text></g>`,
      );
    });
    const recall = total > 0 ? `${((row[t]! / total) * 100).toFixed(0)}%` : '–';
    parts.push(`<text class="recall" x="${r1(left + gridW + 8)}" y="${r1(top + t * cell + cell / 2)}" dy="0.32em" fill="#444">${recall}</text>`);
  });
  parts.push(`<rect x="${r1(left)}" y="${r1(top)}" width="${gridW}" height="${gridW}" fill="none" stroke="#999"/>`, '</svg>');
  return parts.join('\n');
}

// ------------------------------------------------------------------------------------------------
// Bar chart

export interface BarChartOptions {
  title: string;
  bars: Array<{ label: string; value: number }>;
  /** Formats a value for the label at the end of its bar. */
  format?: (v: number) => string;
  color?: string;
  width?: number;
}

/** Horizontal bars, one per label, each labelled with its value; the scale starts at zero. */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 300;
  const format = o.format ?? fmt;
  const barH = 22,
    gap = 8,
    top = 26;
  const labelWidth = Math.max(40, ...o.bars.map((b) => textWidth(b.label, 11))) + 10;
  const valueWidth = Math.max(...o.bars.map((b) => textWidth(format(b.value), 11)), 20) + 8;
  const plotW = Math.max(40, width - labelWidth - valueWidth - 8);
  const max = Math.max(...o.bars.map((b) => b.value), 0) || 1;
  const height = top + o.bars.length * (barH + gap) + 4;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" role="img" ${FONT} font-size="11">`,
    `<title>${escapeXml(o.title)}</title>`,
    `<text x="0" y="14" font-weight="600" fill="#222">${escapeXml(o.title)}</text>`,
  ];
  o.bars.forEach((b, i) => {
    const y = top + i * (barH + gap);
    const w = (Math.max(b.value, 0) / max) * plotW;
    parts.push(
      `<text x="${r1(labelWidth - 8)}" y="${y + barH / 2}" dy="0.32em" text-anchor="end" fill="#222">${escapeXml(b.label)}</text>`,
      `<rect class="bar" data-label="${escapeXml(b.label)}" data-value="${b.value}" x="${r1(labelWidth)}" y="${y}" ` +
        `width="${r1(Math.max(w, 1))}" height="${barH}" rx="2" fill="${o.color ?? COLORS.blue}"><title>${escapeXml(`${b.label}: ${format(b.value)}`)}</title></rect>`,
      `<text x="${r1(labelWidth + w + 5)}" y="${y + barH / 2}" dy="0.32em" fill="#222">${escapeXml(format(b.value))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
