import { join } from 'node:path';
import { renderReportHtml } from '../report/html.js';
import { readReportJson, REPORT_HTML, REPORT_JSON } from '../report/write.js';
import { OutTransaction } from '../util/out-transaction.js';

/**
 * `dendritic report OUT_DIR`: reads OUT_DIR/report.json, validates it and writes OUT_DIR/report.html,
 * as a transaction (a read-only or full disk is refused before and leaves the directory as it was).
 * A missing, unreadable or malformed file is a UserError naming the file. Returns the html path.
 */
export function rerenderReport(outDir: string): string {
  const report = readReportJson(join(outDir, REPORT_JSON));
  const html = renderReportHtml(report);
  const tx = OutTransaction.open(outDir, { command: 'report', manages: [REPORT_HTML] });
  try {
    tx.writeFile(REPORT_HTML, html);
    tx.publish();
  } finally {
    tx.abort();
  }
  return join(outDir, REPORT_HTML);
}
