import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadDataset } from '../src/data/dataset.js';
import { recordBytes } from '../src/data/formats/amazonfeatures.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-import-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const bin = path.resolve('bin/vasg.js');

function writeB(file: string, dim: number, ids: string[]): void {
  const buf = Buffer.alloc(ids.length * recordBytes(dim));
  ids.forEach((asin, i) => {
    const start = i * recordBytes(dim);
    buf.write(asin, start, 'latin1');
    for (let k = 0; k < dim; k++) buf.writeFloatLE(i + k / 10, start + 10 + 4 * k);
  });
  fs.writeFileSync(file, buf);
}

function vasg(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

test('vasg import amazon: category, duplicates, products without features, cold-start products', () => {
  const men = "[['Clothing, Shoes & Jewelry', 'Men', 'Shoes']]";
  fs.writeFileSync(
    path.join(dir, 'meta.json'),
    [
      `{'asin': 'B000000001', 'title': u'Chaussure \\xe9l\\xe9gante', 'imUrl': 'http://x/1.jpg', 'categories': ${men}}`,
      `{'asin': 'B000000002', 'title': 'No features', 'categories': ${men}}`,
      `{'asin': 'B000000003', 'title': 'Cold', 'imUrl': 'http://x/3.jpg', 'categories': ${men}}`,
      "{'asin': 'B000000004', 'title': 'Women', 'categories': [['Clothing, Shoes & Jewelry', 'Women']]}",
    ].join('\n'),
  );
  const review = (u: string, a: string, t: number) => JSON.stringify({ reviewerID: u, asin: a, overall: 4, unixReviewTime: t });
  fs.writeFileSync(
    path.join(dir, 'reviews.json'),
    [review('U1', 'B000000001', 1), review('U1', 'B000000001', 2), review('U2', 'B000000001', 3), review('U2', 'B000000002', 4), review('U3', 'B000000004', 5)].join('\n'),
  );
  writeB(path.join(dir, 'f.b'), 3, ['B000000004', 'B000000001', 'B000000009', 'B000000003']);
  const out = path.join(dir, 'out');
  const r = vasg(['import', 'amazon', '--reviews', path.join(dir, 'reviews.json'), '--meta', path.join(dir, 'meta.json'), '--features', path.join(dir, 'f.b'), '--feature-dim', '3', '--category', 'Clothing, Shoes & Jewelry/Men', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    users: 2,
    items: 2,
    interactions: 2,
    featureDim: 3,
    dropped: { 'duplicate review': 1, 'product without features': 1, 'interaction of product without features': 1 },
  });
  const ds = loadDataset(out).dataset;
  assert.deepEqual(ds.itemIds, ['B000000001', 'B000000003']);
  assert.equal(ds.items[0].title, 'Chaussure élégante');
  assert.deepEqual([...ds.features.data.subarray(3, 6)].map((x) => Math.round(x * 10) / 10), [3, 3.1, 3.2]);
});

test('vasg import amazon refuses a truncated .b file and leaves no output', () => {
  fs.writeFileSync(path.join(dir, 'm2.json'), "{'asin': 'B000000001', 'categories': [['A']]}\n");
  fs.writeFileSync(path.join(dir, 'r2.json'), JSON.stringify({ reviewerID: 'U', asin: 'B000000001', overall: 5 }) + '\n');
  writeB(path.join(dir, 't.b'), 3, ['B000000001', 'B000000002']);
  fs.truncateSync(path.join(dir, 't.b'), recordBytes(3) + 7);
  const out = path.join(dir, 'out2');
  const r = vasg(['import', 'amazon', '--reviews', path.join(dir, 'r2.json'), '--meta', path.join(dir, 'm2.json'), '--features', path.join(dir, 't.b'), '--feature-dim', '3', '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /t\.b: truncated record at byte offset 22/);
  assert.equal(fs.existsSync(out), false);
});
