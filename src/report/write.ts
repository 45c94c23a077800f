/**
 * Renders report.json and report.html. A run stages both in its out-directory transaction
 * (src/util/out-transaction.ts); `writeReport` writes them straight into a directory (tests, tools).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, userError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { requireRegularFile } from '../util/file-kind.js';
import { renderReportHtml } from './html.js';
import { validateReport, type Report } from './schema.js';

export const REPORT_JSON = 'report.json';
export const REPORT_HTML = 'report.html';

/**
 * JSON has no NaN or Infinity; a diverged metric is written as null, which the schema documents.
 * Confusion-matrix rows go on one line each: indented one number per line, the matrix of 1,000 classes
 * alone would take ten times the bytes.
 */
function toJson(report: Report): string {
  const rows: string[] = [];
  // A nonce no class name or warning can contain by chance.
  const tag = `\u0000row${Math.random().toString(36).slice(2)}-`;
  const text = JSON.stringify(
    report,
    (key: string, value: unknown) => {
      if (typeof value === 'number' && !Number.isFinite(value)) return null;
      if (key === 'confusion' && Array.isArray(value)) {
        return value.map((row: unknown) => {
          rows.push(JSON.stringify(row));
          return `${tag}${rows.length - 1}`;
        });
      }
      return value;
    },
    2,
  );
  const marker = new RegExp(`"${JSON.stringify(tag).slice(1, -1).replace(/\\/g, '\\\\')}(\\d+)"`, 'g');
  return `${text.replace(marker, (_m, i: string) => rows[Number(i)]!)}\n`;
}

/**
 * The contents of report.json and report.html. The report is checked against its own schema first: a
 * failure here is a bug in the code that built it (internal error), not the user's.
 */
export function renderReportFiles(report: Report): { json: string; html: string } {
  const json = toJson(report);
  let checked: Report;
  try {
    checked = validateReport(JSON.parse(json), 'report (internal)');
  } catch (err) {
    if (err instanceof UserError) throw new Error(`writeReport: the report does not match its schema: ${err.message}`);
    throw err;
  }
  return { json, html: renderReportHtml(checked) };
}

/** Writes OUT_DIR/report.json and OUT_DIR/report.html (each atomically). Returns the two paths. */
export function writeReport(outDir: string, report: Report): { json: string; html: string } {
  const files = renderReportFiles(report);
  const paths = { json: join(outDir, REPORT_JSON), html: join(outDir, REPORT_HTML) };
  writeFileAtomic(paths.json, files.json);
  writeFileAtomic(paths.html, files.html);
  return paths;
}

/** Reads and validates a report.json; every problem is a UserError naming the file. */
export function readReportJson(file: string): Report {
  if (!existsSync(file)) throw userError(file, '(file)', 'not found; expected the report.json a training run writes into its out directory');
  requireRegularFile(file, '(file)', 'the report.json a training run writes into its out directory');
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
