import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadDataset } from '../src/data/dataset.js';
import { npyDtype, readNpy, writeNpy } from '../src/data/npy.js';
import { isHalf, widenFeatures } from '../src/data/features.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-table-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const bin = path.resolve('bin/vasg.js');
const at = (name: string) => path.join(dir, name);

function vasg(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

/** 30 users × 6 products each among 40 (deterministic), as SQL VALUES rows (user, item, stars, time). */
function logRows(): Array<[string, string, number, string]> {
  const rows: Array<[string, string, number, string]> = [];
  for (let u = 0; u < 30; u++) {
    for (let k = 0; k < 6; k++) {
      const item = (u * 7 + k * 5) % 40;
      rows.push([`user${u}`, `0${item}`, 1 + ((u + k) % 5), `2015-01-${String(1 + k).padStart(2, '0')} 12:00:00`]);
    }
  }
  return rows;
}

test('vasg import table: Parquet logs by glob (written by DuckDB), filters, CSV item table with a vector column; prepare reads the output', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const rows = logRows();
  const values = (part: typeof rows) => part.map(([u, i, r, t]) => `('${u}', '${i}', ${r}, TIMESTAMP '${t}')`).join(', ');
  // Two files; the second repeats one pair (merged) and has one old row (dropped by --since).
  await db.run(`COPY (SELECT * FROM (VALUES ${values(rows.slice(0, 100))}) t(uid, sku, stars, bought)) TO '${at('log-1.parquet')}' (FORMAT parquet)`);
  const extra: typeof rows = [['user0', '010', 5, '2015-02-01 00:00:00'], ['user1', '039', 5, '2010-01-01 00:00:00']];
  await db.run(`COPY (SELECT * FROM (VALUES ${values([...rows.slice(100), ...extra])}) t(uid, sku, stars, bought)) TO '${at('log-2.parquet')}' (FORMAT parquet)`);
  db.closeSync();
  instance.closeSync();
  // Items 00..041: 040/041 are never bought (cold); 05 has no vector (dropped with its interactions).
  const items = ['sku,name,kind,vec'];
  for (let i = 0; i < 42; i++) items.push(`0${i},"Produit n°${i}, ""spécial""",${i % 2 ? 'odd' : 'even'},${i === 5 ? '' : `"[${i}, ${-i}, 0.5]"`}`);
  fs.writeFileSync(at('items.csv'), items.join('\n') + '\n');
  const out = at('out1');
  const r = vasg(['import', 'table', '--interactions', at('log-*.parquet'), '--user-col', 'uid', '--item-col', 'sku', '--rating-col', 'stars', '--time-col', 'bought',
    '--min-rating', '2', '--since', '2014-06-01', '--items', at('items.csv'), '--item-id-col', 'sku', '--title-col', 'name', '--category-col', 'kind', '--vector-col', 'vec', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const below = rows.filter(([, , s]) => s < 2).length;
  const of05 = rows.filter(([, i, s]) => i === '05' && s >= 2).length;
  assert.deepEqual(report.dropped, {
    'rating below --min-rating': below,
    'before --since (or no time)': 1,
    'duplicate interaction': 1,
    'product without features': 1,
    'interaction of product without features': of05,
  });
  assert.equal(report.items, 41);
  assert.equal(report.featureDim, 3);
  assert.equal(report.interactions, rows.length - below - of05);
  const ds = loadDataset(out).dataset;
  const row = ds.itemIds.indexOf('07');
  assert.deepEqual([...widenFeatures(ds.features).data.subarray(3 * row, 3 * row + 3)], [7, -7, 0.5]);
  assert.equal(ds.items[row].title, 'Produit n°7, "spécial"');
  assert.equal(ds.items[row].category, 'odd');
  assert.ok(ds.itemIds.includes('041'), 'never-bought product of the item table kept (cold start)');
  const merged = ds.interactions.users.findIndex((u, k) => ds.userIds[u] === 'user0' && ds.itemIds[ds.interactions.items[k]] === '010');
  assert.equal(ds.interactions.timestamps[merged], Date.parse('2015-02-01T00:00:00Z') / 1000);
  const p = vasg(['prepare', '--data', out, '--out', at('split1'), '--min-interactions', '3', '--json']);
  assert.equal(p.status, 0, p.stderr);
});

test('vasg import table: NDJSON log, implicit feedback, features from .npy + ids (ids on either side missing)', () => {
  const lines = logRows().map(([u, i, , t]) => JSON.stringify({ who: u, what: i, when: t }));
  lines.push(JSON.stringify({ who: 'user3', what: null }));
  fs.writeFileSync(at('log.ndjson'), lines.join('\n') + '\n');
  // Features for 00..037 and for 'ghost' (never in the log): 038/039 lack features.
  const ids = [...Array.from({ length: 38 }, (_, i) => `0${i}`), 'ghost'];
  fs.writeFileSync(at('ids.txt'), ['item_id', ...ids].join('\n') + '\n');
  writeNpy(at('f.npy'), { data: Float32Array.from(ids.flatMap((_, k) => [k, 1])), rows: ids.length, cols: 2 });
  const out = at('out2');
  const r = vasg(['import', 'table', '--interactions', at('log.ndjson'), '--user-col', 'who', '--item-col', 'what', '--features', at('f.npy'), '--feature-ids', at('ids.txt'), '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const lacking = logRows().filter(([, i]) => i === '038' || i === '039').length;
  assert.deepEqual(report.dropped, { 'row without user or item id': 1, 'product without features': 2, 'interaction of product without features': lacking });
  const ds = loadDataset(out).dataset;
  assert.ok(!ds.itemIds.includes('ghost'));
  assert.ok([...ds.interactions.ratings].every((x) => x === 1));
  const row = ds.itemIds.indexOf('012');
  assert.deepEqual([...widenFeatures(ds.features).data.subarray(2 * row, 2 * row + 2)], [12, 1]);
  // --dtype float16: the same features (small integers are exact in float16), at half the bytes.
  const half = vasg(['import', 'table', '--interactions', at('log.ndjson'), '--user-col', 'who', '--item-col', 'what', '--features', at('f.npy'), '--feature-ids', at('ids.txt'), '--dtype', 'float16', '--out', at('out2h'), '--json']);
  assert.equal(half.status, 0, half.stderr);
  assert.equal(npyDtype(at('out2h/features.npy')), 'float16');
  const halfFeatures = loadDataset(at('out2h')).dataset.features;
  assert.ok(isHalf(halfFeatures), 'float16 features stay float16 in memory');
  assert.deepEqual(widenFeatures(halfFeatures), ds.features);
});

test('vasg import table: gzip TSV with unicode ids, duplicates merged; a ragged gzip CSV names its line', () => {
  fs.writeFileSync(at('log.tsv.gz'), zlib.gzipSync('user\titem\tstars\nusér\t01\t4\n日本\t02\t5\nusér\t01\t3\n'));
  const r = vasg(['import', 'table', '--interactions', at('log.tsv.gz'), '--user-col', 'user', '--item-col', 'item', '--rating-col', 'stars', '--out', at('tsv'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { users: 2, items: 2, interactions: 2, featureDim: 0, dropped: { 'duplicate interaction': 1 } });
  const ds = loadDataset(at('tsv')).dataset;
  assert.deepEqual([ds.userIds, ds.itemIds, [...ds.interactions.ratings]], [['usér', '日本'], ['01', '02'], [4, 5]]);
  fs.writeFileSync(at('ragged.csv.gz'), zlib.gzipSync('user,item\nu1,a\nu2,b\nu3,c,extra\n'));
  const bad = vasg(['import', 'table', '--interactions', at('ragged.csv.gz'), '--user-col', 'user', '--item-col', 'item', '--out', at('bad-gz')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /ragged\.csv\.gz:4: Expected Number of Columns: 2 Found: 3 \(the line starts "u3,c,extra"\)/);
  assert.equal(fs.existsSync(at('bad-gz')), false);
});

test('vasg import table: errors name the file, the flag or the line, and write nothing', () => {
  fs.writeFileSync(at('log.csv'), 'user,item,stars\nu1,a,4\nu2,b,five\n');
  const run = (file: string, extra: string[]) => vasg(['import', 'table', '--interactions', at(file), '--user-col', 'user', '--item-col', 'item', ...extra, '--out', at('bad')]);
  let r = run('log.csv', ['--rating-col', 'rating']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /log\.csv: no column "rating" \(--rating-col\); columns: user, item, stars/);
  r = run('log.csv', ['--rating-col', 'stars']);
  assert.match(r.stderr, /log\.csv: 1 values of --rating-col stars are not numbers, e\.g\. "five"/);
  fs.writeFileSync(at('ragged.csv'), 'user,item\nu1,a\nu2,b\nu3,c,extra\n');
  r = run('ragged.csv', []);
  assert.match(r.stderr, /ragged\.csv:4: Expected Number of Columns: 2 Found: 3/);
  // An unclosed quote swallows the rest of the file: named at the line where it opened, with that line only,
  // both when DuckDB's sniffer meets it (line 4) and when only the full read does (line 25001).
  fs.writeFileSync(at('quote.csv'), 'user,item\nu1,a\nu2,b\nu3,"c\nu4,d\nu5,e\n');
  r = run('quote.csv', []);
  assert.match(r.stderr, /quote\.csv:4: Value with unterminated quote found\. \(the line starts "u3,\\"c"\)\n$/);
  const rows = Array.from({ length: 30000 }, (_, k) => (k === 24999 ? `u${k},"i${k}` : `u${k},i${k % 9}`));
  fs.writeFileSync(at('late-quote.csv'), `user,item\n${rows.join('\n')}\n`);
  r = run('late-quote.csv', []);
  assert.match(r.stderr, /late-quote\.csv:25001: Value with unterminated quote found\. \(the line starts "u24999,\\"i24999"\)\n$/);
  r = run('nothing-*.csv', []);
  assert.match(r.stderr, /nothing-\*\.csv: .*No files found/);
  r = run('log.csv', ['--min-rating', '3']);
  assert.match(r.stderr, /--min-rating needs --rating-col/);
  // Vectors that do not parse, or hold NaN, are errors naming the item table (not silently featureless products).
  fs.writeFileSync(at('vec-text.csv'), 'item_id,vec\na,"[0.1, 0.2]"\nb,"0.3;0.4"\n');
  r = run('log.csv', ['--items', at('vec-text.csv'), '--vector-col', 'vec']);
  assert.match(r.stderr, /vec-text\.csv: 1 values of --vector-col vec are not vectors, e\.g\. "0\.3;0\.4"/);
  fs.writeFileSync(at('vec-nan.csv'), 'item_id,vec\na,"[0.1, 0.2]"\nb,"[0.3, nan]"\n');
  r = run('log.csv', ['--items', at('vec-nan.csv'), '--vector-col', 'vec']);
  assert.match(r.stderr, /vec-nan\.csv \(--vector-col vec\): item "b", value 1: expected a finite number, found NaN/);
  assert.equal(fs.existsSync(at('bad')), false);
});

test("the README's sample dumps (scripts/sample-dumps) import: Amazon 2014 with .b features, 2018 with images, Parquet log", () => {
  assert.equal(vasg(['generate', '--preset', 'tiny', '--out', at('gen'), '--images', at('gen-images'), '--json']).status, 0);
  const s = spawnSync(process.execPath, [path.resolve('dist/scripts/sample-dumps.js'), '--from', at('gen'), '--out', at('dumps'), '--images', at('gen-images')], { encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  const items = loadDataset(at('gen')).dataset.itemIds.length;
  const a = vasg(['import', 'amazon', '--reviews', at('dumps/amazon2014/reviews.json.gz'), '--meta', at('dumps/amazon2014/meta.json.gz'), '--features', at('dumps/amazon2014/image_features.b'),
    '--feature-dim', '64', '--category', 'Clothing, Shoes & Jewelry/Men', '--out', at('men14')]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stderr, /meta\.json\.gz:4: skipped \(unterminated string/);
  assert.match(a.stdout, new RegExp(`wrote \\d+ users, ${Math.ceil(items / 2)} products, \\d+ interactions \\(I = 64\\)`));
  assert.match(a.stdout, /dropped: malformed line: 1\n {2}dropped: review outside the category: \d+\n {2}dropped: duplicate review: 1\n$/);
  const b = vasg(['import', 'amazon', '--reviews', at('dumps/amazon2018/reviews.json'), '--meta', at('dumps/amazon2018/meta.json'), '--out', at('all18'), '--json']);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(JSON.parse(b.stdout).items, items);
  // 2018 has no .b file: features from the downloaded photos (image URL file names looked up in the folder).
  const f = vasg(['features', '--items', at('all18/items.csv'), '--images', at('dumps/amazon2018/images'), '--model', 'builtin:color', '--out', at('all18/features.npy'), '--json']);
  assert.equal(f.status, 0, f.stderr);
  const h = vasg(['features', '--items', at('all18/items.csv'), '--images', at('dumps/amazon2018/images'), '--model', 'builtin:color', '--dtype', 'float16', '--out', at('all18-f16.npy'), '--json']);
  assert.equal(h.status, 0, h.stderr);
  const [f32, f16] = [readNpy(at('all18/features.npy')), readNpy(at('all18-f16.npy'))];
  assert.equal(npyDtype(at('all18-f16.npy')), 'float16');
  f16.data.forEach((x, k) => assert.ok(Math.abs(x - f32.data[k]) <= Math.max(Math.abs(f32.data[k]) * 2 ** -11, 2 ** -25), `value ${k}: ${x} vs ${f32.data[k]}`));
  assert.deepEqual([JSON.parse(f.stdout).withFeatures, JSON.parse(f.stdout).failed], [items, []]);
  const p = vasg(['prepare', '--data', at('all18'), '--out', at('all18-split'), '--json']);
  assert.equal(p.status, 0, p.stderr);
  const t = vasg(['import', 'table', '--interactions', at('dumps/table/log-*.parquet'), '--user-col', 'user', '--item-col', 'product', '--rating-col', 'stars', '--time-col', 'bought_at',
    '--items', at('dumps/table/items.parquet'), '--item-id-col', 'product', '--title-col', 'name', '--vector-col', 'vector', '--out', at('tab'), '--json']);
  assert.equal(t.status, 0, t.stderr);
  const tab = loadDataset(at('tab')).dataset;
  const gen = loadDataset(at('gen')).dataset;
  assert.equal(tab.interactions.users.length, gen.interactions.users.length);
  assert.deepEqual(widenFeatures(tab.features).data, widenFeatures(gen.features).data); // same vectors, same item order (B…1 ↔ first item)
});
