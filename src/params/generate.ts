/**
 * Regenerates the committed artifacts from the schema: parameters.json, and in docs/parameters.md the
 * parameter table and the `--help` copy (the README links there). Run: `node --import tsx src/params/generate.ts`.
 * test/params/generated.test.ts fails when the committed files differ from what this produces.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderHelp, renderParametersJson, renderReadmeTable } from './parameters-json.js';

export const REGENERATE_COMMAND = 'node --import tsx src/params/generate.ts';

/** The parameter table's markers (the table lived in the README until issue 18; it is in docs/parameters.md). */
export const README_START = '<!-- parameters:start -->';
export const README_END = '<!-- parameters:end -->';
export const HELP_START = '<!-- help:start -->';
export const HELP_END = '<!-- help:end -->';

/** Same relative path from src/params and dist/params. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GeneratedFiles {
  'parameters.json': string;
  'docs/parameters.md': string;
}

/**
 * Replaces what lies between two marker lines. When the markers are missing, appends them at the end
 * under `heading` (if given); nothing else in the text is touched.
 */
export function replaceBetweenMarkers(text: string, start: string, end: string, body: string, heading?: string): string {
  const startAt = text.indexOf(start);
  const endAt = text.indexOf(end);
  if (startAt === -1 || endAt === -1 || endAt < startAt) {
    const base = text.endsWith('\n') || text === '' ? text : `${text}\n`;
    return `${base}${heading ? `\n${heading}\n` : ''}\n${start}\n${body}\n${end}\n`;
  }
  return `${text.slice(0, startAt + start.length)}\n${body}\n${text.slice(endAt)}`;
}

/** What the three files should contain, given their current text. */
export function generateFiles(current: { docs: string }): GeneratedFiles {
  const withTable = replaceBetweenMarkers(current.docs, README_START, README_END, renderReadmeTable(), '## All parameters');
  return {
    'parameters.json': renderParametersJson(),
    'docs/parameters.md': replaceBetweenMarkers(withTable, HELP_START, HELP_END, `\`\`\`\n${renderHelp()}\`\`\``),
  };
}

export function readCurrent(root = REPO_ROOT): { docs: string } {
  const read = (path: string) => {
    try {
      return readFileSync(`${root}${path}`, 'utf8');
    } catch {
      return '';
    }
  };
  return { docs: read('docs/parameters.md') };
}

export function writeGeneratedFiles(root = REPO_ROOT): string[] {
  const files = generateFiles(readCurrent(root));
  for (const [path, text] of Object.entries(files)) writeFileSync(`${root}${path}`, text);
  return Object.keys(files);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const path of writeGeneratedFiles()) process.stdout.write(`wrote ${path}\n`);
}
