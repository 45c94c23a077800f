/** The report stage's public API: build a Report, write it, print progress while training. */
export { REPORT_SCHEMA_VERSION, validateReport } from './schema.js';
export type * from './schema.js';
export { renderReportHtml } from './html.js';
export { writeReport, REPORT_JSON, REPORT_HTML } from './write.js';
export { createProgressLogger, chooseProgressMode, type ProgressLogger, type ProgressMode, type RunSummary } from './progress.js';
export { fidelityVerdict, FIDELITY_TOLERANCE } from './fidelity.js';
