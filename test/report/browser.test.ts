/**
 * Opens the rendered report.html in headless Chromium (Debian's `chromium`; CI installs it; skipped with a line saying so where it is missing) and checks
 * what a person would see: the DOM Chromium built contains the charts with their data points and the
 * confusion counts, and the screenshot is a painted page, with the chart colours on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../../src/report/write.js';
import { COLORS } from '../../src/report/charts.js';
import { makeFixtureReport, HOSTILE_CLASS } from './fixture.js';
import { countNonBackground, decodePng, readPngSize, type DecodedPng } from './png.js';
import { needs } from '../helpers/prerequisites.js';

const TIMEOUT_MS = 60_000;

function findChromium(): string {
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  throw new Error('chromium not found although needs() found it');
}

/** Runs chromium in its own process group and kills the whole group afterwards, timeout or not. */
function runChromium(binary: string, args: string[]): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.resume();
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group already exited.
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`chromium did not finish within ${TIMEOUT_MS / 1000}s`));
    }, TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup();
      resolve({ stdout, code });
    });
  });
}

function baseArgs(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    `--user-data-dir=${profile}`,
  ];
}

/** Pixels within `tol` of an sRGB colour. */
function countColour(png: DecodedPng, hex: string, tol = 30): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  let n = 0;
  const { pixels, channels } = png;
  for (let i = 0; i < pixels.length; i += channels) {
    if (Math.abs(pixels[i]! - r) <= tol && Math.abs(pixels[i + 1]! - g) <= tol && Math.abs(pixels[i + 2]! - b) <= tol) n++;
  }
  return n;
}

test('report.html in headless Chromium: charts in the DOM and a painted screenshot', { skip: needs('chromium'), timeout: 150_000 }, async () => {
  const chromium = findChromium();
  const dir = mkdtempSync(join(tmpdir(), 'dendritic-browser-'));
  try {
    const report = makeFixtureReport(40);
    const { html } = writeReport(dir, report);
    const url = pathToFileURL(html).href;

    // 1. The DOM as Chromium parsed it.
    const dom = await runChromium(chromium, [...baseArgs(join(dir, 'profile-dom')), '--dump-dom', url]);
    assert.equal(dom.code, 0, 'chromium --dump-dom exit code');
    const text = dom.stdout;
    assert.match(text, /<section id="curves">/);
    const figure = (name: string): string => {
      const m = text.match(new RegExp(`<figure class="${name}">([\\s\\S]*?)</figure>`));
      assert.ok(m, `${name} in the DOM`);
      return m[1]!;
    };
    for (const [name, series] of [
      ['chart-loss', ['train loss', 'validation loss']],
      ['chart-acc', ['train accuracy', 'validation accuracy']],
      ['chart-lr', ['learning rate']],
    ] as const) {
      const svg = figure(name);
      assert.match(svg, /^<svg/);
      for (const s of series) {
        const pts = svg.match(new RegExp(`<circle class="pt" data-series="${s}"`, 'g')) ?? [];
        assert.equal(pts.length, report.history.length, `${name}/${s} points`);
      }
      const markers = svg.match(/<g class="marker marker-/g) ?? [];
      assert.equal(markers.length, report.dendrites.events.length, `${name} markers`);
    }
    const cm = report.validation!.confusion;
    const cells = [
      ...figure('chart-confusion').matchAll(
        /<rect class="cell" data-true="(\d+)" data-pred="(\d+)" data-count="(\d+)"[^>]*>(?:<\/rect>)?<text class="count"[^>]*>(\d+)<\/text>/g,
      ),
    ];
    assert.equal(cells.length, cm.length * cm.length);
    for (const [, t, p, c, shown] of cells) {
      assert.equal(Number(c), cm[Number(t)]![Number(p)]);
      assert.equal(Number(shown), cm[Number(t)]![Number(p)]);
    }
    // The hostile class name became text, not markup.
    assert.ok(!text.includes('<b>'), 'no <b> element in the DOM');
    assert.ok(
      text.includes('&lt;b&gt;&amp;"odd"&lt;/b&gt;') || text.includes('&lt;b&gt;&amp;&quot;odd&quot;&lt;/b&gt;'),
      `${HOSTILE_CLASS} shown as text`,
    );
    assert.ok(!/<script/i.test(text), 'no script element in the DOM');

    // 2. The screenshot.
    const png = join(dir, 'report.png');
    const shot = await runChromium(chromium, [...baseArgs(join(dir, 'profile-shot')), `--screenshot=${png}`, '--window-size=1280,2400', url]);
    assert.equal(shot.code, 0, 'chromium --screenshot exit code');
    assert.ok(existsSync(png), 'screenshot written');
    const buf = readFileSync(png);
    assert.deepEqual(readPngSize(buf), { width: 1280, height: 2400 });
    const image = decodePng(buf);
    const inked = countNonBackground(image, [255, 255, 255], 24);
    const total = image.width * image.height;
    // A blank page has no pixel away from white; text, lines and heat-map cells cover a few percent.
    assert.ok(inked > total * 0.03, `non-background pixels: ${inked} of ${total}`);
    // The chart colours were painted: train (blue), validation (orange), dendrite-added marks (green).
    assert.ok(countColour(image, COLORS.blue) > 2000, 'blue series painted');
    assert.ok(countColour(image, COLORS.orange) > 1000, 'orange series painted');
    assert.ok(countColour(image, COLORS.green) > 200, 'green dendrite marks painted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
