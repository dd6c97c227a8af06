import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadDataset } from '../src/data/dataset.js';
import { npyDtype } from '../src/data/npy.js';
import { recordBytes } from '../src/data/formats/amazonfeatures.js';
import { widenFeatures } from '../src/data/features.js';

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
      `{'asin': 'B000000003', 'title': 'Cold', 'imUrl': 'http://x/3.jpg', 'categories': [['Clothing, Shoes & Jewelry', 'Women'], ${men.slice(1, -1)}]}`,
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
    dropped: { 'duplicate review': 1, 'review outside the category': 1, 'product without features': 1, 'interaction of product without features': 1 },
  });
  const ds = loadDataset(out).dataset;
  assert.deepEqual(ds.itemIds, ['B000000001', 'B000000003']);
  assert.equal(ds.items[0].title, 'Chaussure élégante');
  assert.equal(ds.items[1].category, 'Clothing, Shoes & Jewelry/Men/Shoes', 'the category column holds the selected path');
  assert.deepEqual([...widenFeatures(ds.features).data.subarray(3, 6)].map((x) => Math.round(x * 10) / 10), [3, 3.1, 3.2]);
  // --category repeated: products under either prefix.
  const both = vasg(['import', 'amazon', '--reviews', path.join(dir, 'reviews.json'), '--meta', path.join(dir, 'meta.json'), '--features', path.join(dir, 'f.b'), '--feature-dim', '3',
    '--category', 'Clothing, Shoes & Jewelry/Men', '--category', 'Clothing, Shoes & Jewelry/Women', '--out', path.join(dir, 'both'), '--json']);
  assert.equal(both.status, 0, both.stderr);
  assert.equal(JSON.parse(both.stdout).dropped['review outside the category'], undefined);
  assert.deepEqual(loadDataset(path.join(dir, 'both')).dataset.itemIds, ['B000000004', 'B000000001', 'B000000003'], 'in .b file order');
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
  assert.doesNotMatch(r.stderr, /reviews/, 'the .b file is checked before the reviews are read');
  assert.equal(fs.existsSync(out), false);
});

test('vasg import amazon streams features.npy across buffer boundaries; prepare reads the output', () => {
  const dim = 5;
  const asins = Array.from({ length: 700 }, (_, i) => `P${String(i).padStart(9, '0')}`);
  // Every third product is in the category; the .b lists them all (others cost no memory), P…1 twice.
  fs.writeFileSync(
    path.join(dir, 'm3.json'),
    asins.map((a, i) => `{'asin': '${a}', 'title': "it's \\"${i}\\"", 'categories': [['${i % 3 === 0 ? 'Shop' : 'Other'}']]}`).join('\n'),
  );
  const reviews: string[] = [];
  for (let u = 0; u < 40; u++) {
    for (let k = 0; k < 6; k++) reviews.push(JSON.stringify({ reviewerID: `U${u}`, asin: asins[3 * ((u * 7 + k * 11) % 200)], overall: 5, unixReviewTime: 1000 + k }));
  }
  fs.writeFileSync(path.join(dir, 'r3.json'), reviews.join('\n'));
  writeB(path.join(dir, 'f3.b'), dim, [...asins, asins[3]]);
  const out = path.join(dir, 'out3');
  const r = vasg(['import', 'amazon', '--reviews', path.join(dir, 'r3.json'), '--meta', path.join(dir, 'm3.json'), '--features', path.join(dir, 'f3.b'), '--feature-dim', String(dim), '--category', 'Shop', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.items, 234);
  assert.equal(report.featureDim, dim);
  const ds = loadDataset(out).dataset;
  ds.itemIds.forEach((id, row) => {
    const i = Number(id.slice(1)); // writeB: value k of record i is i + k/10
    assert.deepEqual([...widenFeatures(ds.features).data.subarray(row * dim, row * dim + dim)].map((x) => Math.round(x * 10) / 10), [0, 1, 2, 3, 4].map((k) => Math.round((i + k / 10) * 10) / 10));
  });
  assert.equal(ds.items[1].title, 'it\'s "3"');
  const p = vasg(['prepare', '--data', out, '--out', path.join(dir, 'split3'), '--json']);
  assert.equal(p.status, 0, p.stderr);
});

test('a non-finite feature value is an error naming the byte offset, and nothing is written', () => {
  writeB(path.join(dir, 'nan.b'), 3, ['B000000001', 'B000000002']);
  const buf = fs.readFileSync(path.join(dir, 'nan.b'));
  buf.writeFloatLE(NaN, recordBytes(3) + 10 + 4);
  fs.writeFileSync(path.join(dir, 'nan.b'), buf);
  fs.writeFileSync(path.join(dir, 'm4.json'), "{'asin': 'B000000001'}\n{'asin': 'B000000002'}\n");
  fs.writeFileSync(path.join(dir, 'r4.json'), JSON.stringify({ reviewerID: 'U', asin: 'B000000002', overall: 5 }) + '\n');
  const out = path.join(dir, 'out4');
  const r = vasg(['import', 'amazon', '--reviews', path.join(dir, 'r4.json'), '--meta', path.join(dir, 'm4.json'), '--features', path.join(dir, 'nan.b'), '--feature-dim', '3', '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nan\.b: record at byte offset 22 \(ASIN B000000002\), value 1: expected a finite number, found NaN/);
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(dir).filter((name) => name.startsWith('.out4')), []);
});

test('vasg import amazon --dtype float16: streamed as <f2 (values within float16 rounding); a value past ±65504 names its record and row', () => {
  const out = path.join(dir, 'out3h');
  const r = vasg(['import', 'amazon', '--reviews', path.join(dir, 'r3.json'), '--meta', path.join(dir, 'm3.json'), '--features', path.join(dir, 'f3.b'), '--feature-dim', '5', '--category', 'Shop', '--dtype', 'float16', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(npyDtype(path.join(out, 'features.npy')), 'float16');
  const [half, full] = [loadDataset(out).dataset, loadDataset(path.join(dir, 'out3')).dataset];
  assert.equal(half.featureDtype, 'float16');
  assert.deepEqual(half.itemIds, full.itemIds);
  widenFeatures(half.features).data.forEach((x, k) => assert.ok(Math.abs(x - widenFeatures(full.features).data[k]) <= Math.abs(widenFeatures(full.features).data[k]) * 2 ** -11));

  writeB(path.join(dir, 'big.b'), 3, ['B000000001', 'B000000002']);
  const buf = fs.readFileSync(path.join(dir, 'big.b'));
  buf.writeFloatLE(1e5, recordBytes(3) + 10 + 8);
  fs.writeFileSync(path.join(dir, 'big.b'), buf);
  const args = ['import', 'amazon', '--reviews', path.join(dir, 'r4.json'), '--meta', path.join(dir, 'm4.json'), '--features', path.join(dir, 'big.b'), '--feature-dim', '3'];
  const bad = vasg([...args, '--dtype', 'float16', '--out', path.join(dir, 'out6')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /big\.b: record at byte offset 22 \(ASIN B000000002, row 1 of features\.npy\), value 2: 100000 does not fit float16/);
  assert.equal(fs.existsSync(path.join(dir, 'out6')), false);
  assert.equal(vasg([...args, '--out', path.join(dir, 'out6')]).status, 0, 'float32 holds it');
});

test('vasg import amazon refuses an empty .b file (0 bytes) rather than writing an empty data set', () => {
  fs.writeFileSync(path.join(dir, 'm5.json'), "{'asin': 'B000000001', 'categories': [['A']]}\n");
  fs.writeFileSync(path.join(dir, 'r5.json'), JSON.stringify({ reviewerID: 'U', asin: 'B000000001', overall: 5 }) + '\n');
  fs.writeFileSync(path.join(dir, 'empty.b'), '');
  const out = path.join(dir, 'out5');
  const r = vasg(['import', 'amazon', '--reviews', path.join(dir, 'r5.json'), '--meta', path.join(dir, 'm5.json'), '--features', path.join(dir, 'empty.b'), '--feature-dim', '3', '--out', out]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /empty\.b: the image-feature file is empty \(0 bytes/);
  assert.equal(fs.existsSync(out), false);
  // A .b file with records, none of them for these products, is refused the same way.
  writeB(path.join(dir, 'other.b'), 3, ['B000000777']);
  const other = vasg(['import', 'amazon', '--reviews', path.join(dir, 'r5.json'), '--meta', path.join(dir, 'm5.json'), '--features', path.join(dir, 'other.b'), '--feature-dim', '3', '--out', out]);
  assert.equal(other.status, 1, other.stdout);
  assert.match(other.stderr, /other\.b: none of the 1 products .* has a record in this image-feature file/);
  assert.equal(fs.existsSync(out), false);
});
