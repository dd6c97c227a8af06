// `npm run docs:results`: docs/results/*.json → docs/results.md, and the `docs:results` / `docs:values` blocks of
// the README and of every page in docs/ refreshed from the same files (scripts/results-doc.ts renders them).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pagesWithBlocks, refreshBlocks, renderResults } from './results-doc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const resultsDir = path.join(root, 'docs/results');
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(resultsDir, file), 'utf8')) as Record<string, unknown>;

const files = fs.readdirSync(resultsDir).filter((f) => f.endsWith('.json')).sort().map((f) => ({ name: f.replace(/\.json$/, ''), json: read(f) }));
fs.writeFileSync(path.join(root, 'docs/results.md'), renderResults(files));
const refreshed = pagesWithBlocks(root).filter((page) => {
  const file = path.join(root, page);
  const before = fs.readFileSync(file, 'utf8');
  const after = refreshBlocks(before, read);
  if (after !== before) fs.writeFileSync(file, after);
  return after !== before;
});
console.log(`docs/results.md: ${files.length} results file(s); blocks refreshed in ${refreshed.length ? refreshed.join(', ') : 'no page (all current)'}`);
