// docs/results.md and the README and docs/ result blocks are rendered from experiment JSON (npm run docs:results),
// generic over rows and metric columns: a new method or metric shows up without code changes, and the
// committed pages are exactly what the committed JSON gives (nobody edits the numbers by hand).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { columnsOf, pagesWithBlocks, refreshBlocks, renderResults, table } from '../scripts/results-doc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const stat = (mean: number | null, sd: number | null = 0) => ({ mean, sd });
const rows = [
  { method: 'MostPop', warm: stat(0.83), cold: stat(0.043), 'recall@20': { warm: stat(0.109), cold: stat(0) } },
  { method: 'EASE', warm: stat(0.91234, 0.0021), cold: stat(null, null), 'recall@20': { warm: stat(0.3), cold: stat(null, null), all: stat(0.2) } },
];

test('columns: every statistic present, in order of first appearance, nested ones as "metric part"', () => {
  assert.deepEqual(columnsOf(rows).map((c) => c.label), ['warm AUC', 'cold AUC', 'recall@20 warm', 'recall@20 cold', 'recall@20 all']);
  const lines = table(rows).split('\n');
  assert.equal(lines[0], '| method | warm AUC | cold AUC | recall@20 warm | recall@20 cold | recall@20 all |');
  assert.equal(lines[2], '| MostPop | 0.830 | 0.043 | 0.109 | 0.000 | — |');
  assert.equal(lines[3], '| EASE | 0.912 ± 0.002 | — | 0.300 | — | 0.200 |');
});

test('a README block keeps the columns it names; an unknown column is an error naming the ones there are', () => {
  const json = { rows, provenance: { command: 'vasg experiment auc --data s', date: '2026-12-01T07:00:00.000Z', machine: { cpu: 'CPU', cores: 2, memoryGiB: 8, os: 'Linux', node: 'v20' } } };
  const block = '<!-- docs:results file=x.json columns=warm,recall@20.all -->\nold\n<!-- /docs:results -->';
  const fresh = refreshBlocks(`intro\n${block}\nend`, () => json);
  assert.match(fresh, /\| method \| warm AUC \| recall@20 all \|\n\|---\|---\|---\|\n\| MostPop \| 0.830 \| — \|/);
  assert.match(fresh, /`vasg experiment auc --data s`, 2026-12-01, 2 × CPU\./);
  assert.ok(!fresh.includes('old'));
  assert.equal(refreshBlocks(fresh, () => json), fresh);
  assert.throws(() => refreshBlocks(block.replace('recall@20.all', 'ndcg@5.warm'), () => json), /no column "ndcg@5.warm" \(there are warm, cold, recall@20.warm/);
});

test('docs/results.md and the blocks of the README and of docs/ are what npm run docs:results makes of docs/results/*.json', () => {
  const dir = path.join(root, 'docs/results');
  const read = (file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => ({ name: f.replace(/\.json$/, ''), json: read(f) }));
  assert.ok(files.length >= 1);
  for (const { name, json } of files) assert.ok(json.provenance?.command && json.provenance?.date && json.provenance?.machine, `${name}: command, date and machine recorded`);
  assert.equal(fs.readFileSync(path.join(root, 'docs/results.md'), 'utf8'), renderResults(files), 'run npm run docs:results');
  const pages = pagesWithBlocks(root);
  assert.ok(pages.includes('README.md') && pages.includes('docs/relations.md'));
  for (const page of pages) {
    const text = fs.readFileSync(path.join(root, page), 'utf8');
    assert.equal(refreshBlocks(text, read), text, `${page}: run npm run docs:results`);
  }
});

test('a values block shows the named numbers of a JSON file with its provenance; a missing key is an error naming it', () => {
  const json = { serve: { reload: { seconds: 0.53412, failed_requests: 0 } }, provenance: { command: 'npm run bench -- --only serve', date: '2026-12-01T10:00:00Z', machine: { cpu: 'CPU', cores: 2, memoryGiB: 24, os: 'Linux', node: 'v20' } } };
  const block = '<!-- docs:values file=../bench/x.json keys=serve.reload.seconds,serve.reload.failed_requests -->\nold\n<!-- /docs:values -->';
  const fresh = refreshBlocks(block, () => json);
  assert.match(fresh, /\| serve\.reload\.seconds \| 0\.5341 \|\n\| serve\.reload\.failed_requests \| 0 \|/);
  assert.match(fresh, /`npm run bench -- --only serve`, 2026-12-01, 2 × CPU\./);
  assert.equal(refreshBlocks(fresh, () => json), fresh);
  assert.throws(() => refreshBlocks(block.replace('failed_requests', 'dropped'), () => json), /no value at "serve\.reload\.dropped"/);
});
