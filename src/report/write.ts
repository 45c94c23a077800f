/**
 * Writes report.json and report.html into the out directory, each atomically (temp name, then rename)
 * so a reader never sees half a file, even when the run is killed mid-write.
 */
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, userError } from '../errors.js';
import { renderReportHtml } from './html.js';
import { validateReport, type Report } from './schema.js';

export const REPORT_JSON = 'report.json';
export const REPORT_HTML = 'report.html';

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
}

/** JSON has no NaN or Infinity; a diverged metric is written as null, which the schema documents. */
function toJson(report: Report): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}

/**
 * Writes OUT_DIR/report.json and OUT_DIR/report.html. The report is checked against its own schema
 * first: a failure here is a bug in the code that built it (internal error), not the user's.
 * Returns the two paths.
 */
export function writeReport(outDir: string, report: Report): { json: string; html: string } {
  const json = toJson(report);
  let checked: Report;
  try {
    checked = validateReport(JSON.parse(json), 'report (internal)');
  } catch (err) {
    if (err instanceof UserError) throw new Error(`writeReport: the report does not match its schema: ${err.message}`);
    throw err;
  }
  const paths = { json: join(outDir, REPORT_JSON), html: join(outDir, REPORT_HTML) };
  writeAtomic(paths.json, json);
  writeAtomic(paths.html, renderReportHtml(checked));
  return paths;
}

/**
 * `dendritic report OUT_DIR`: reads OUT_DIR/report.json, validates it and writes OUT_DIR/report.html.
 * A missing, unreadable or malformed file is a UserError naming the file. Returns the html path.
 */
export function rerenderReport(outDir: string): string {
  const report = readReportJson(join(outDir, REPORT_JSON));
  const html = join(outDir, REPORT_HTML);
  writeAtomic(html, renderReportHtml(report));
  return html;
}

/** Reads and validates a report.json; every problem is a UserError naming the file. */
export function readReportJson(file: string): Report {
  if (!existsSync(file)) throw userError(file, '(file)', 'not found; expected the report.json a training run writes into its out directory');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw userError(file, '(file)', `cannot be read: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw userError(file, '(file)', `not valid JSON: ${(err as Error).message}`);
  }
  return validateReport(parsed, file);
}
