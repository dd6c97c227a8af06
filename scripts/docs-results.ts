// `npm run docs:results`: docs/results/*.json → docs/results.md, and the README's results summary
// refreshed from the same files (scripts/results-doc.ts renders them).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { refreshBlocks, renderResults } from './results-doc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const resultsDir = path.join(root, 'docs/results');
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(resultsDir, file), 'utf8')) as Record<string, unknown>;

const files = fs.readdirSync(resultsDir).filter((f) => f.endsWith('.json')).sort().map((f) => ({ name: f.replace(/\.json$/, ''), json: read(f) }));
fs.writeFileSync(path.join(root, 'docs/results.md'), renderResults(files));
const readme = path.join(root, 'README.md');
fs.writeFileSync(readme, refreshBlocks(fs.readFileSync(readme, 'utf8'), read));
console.log(`docs/results.md: ${files.length} results file(s); README summary refreshed`);
