// `node dist/scripts/sample-dumps.js --from DATASET --out DIR [--images DIR]`: writes a data set in the
// standard layout (e.g. from `vasg generate`) back out in the raw formats `vasg import` reads, so the
// README's import examples run end to end on a machine without the real files:
//   amazon2014/  reviews.json.gz (JSON lines), meta.json.gz (Python literals), image_features.b
//   amazon2018/  reviews.json, meta.json (JSON lines with `category`, `imageURLHighRes`), and with
//                --images (the folder of `vasg generate --images`) images/<ASIN>.jpg: the photos as
//                they lie after downloading the image URLs (the 2018 release has no .b file)
//   table/       log-1.parquet, log-2.parquet (interactions), items.parquet (with a FLOAT[] vector column)
// Products alternate between the Men and Women branches of "Clothing, Shoes & Jewelry"; one review is
// repeated (merged on import) and one metadata line is malformed (reported and skipped on import).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import sharp from 'sharp';
import { loadDataset } from '../src/data/dataset.js';
import { recordBytes } from '../src/data/formats/amazonfeatures.js';
import { widenFeatures } from '../src/data/features.js';

function arg(name: string, optional = false): string | undefined {
  const k = process.argv.indexOf(name);
  if (k < 0 && optional) return undefined;
  if (k < 0 || k + 1 >= process.argv.length) throw new Error(`usage: sample-dumps.js --from DATASET --out DIR [--images DIR] (missing ${name})`);
  return process.argv[k + 1];
}

/** A Python 2 `repr` of a string as in the 2014 dumps: u'…' with \xNN / \uNNNN escapes. */
function pyString(s: string): string {
  let body = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === "'") body += `\\${ch}`;
    else if (code < 0x80) body += ch;
    else if (code < 0x100) body += `\\x${code.toString(16).padStart(2, '0')}`;
    else body += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `u'${body}'`;
}

const from = arg('--from')!;
const out = arg('--out')!;
const images = arg('--images', true);
const { dataset } = loadDataset(from);
const asins = dataset.itemIds.map((_, i) => `B${String(i + 1).padStart(9, '0')}`);
const branch = (i: number) => ['Clothing, Shoes & Jewelry', i % 2 === 0 ? 'Men' : 'Women', dataset.items[i].category || 'Other'];
const title = (i: number) => `${dataset.items[i].title} – “${i % 2 === 0 ? 'homme' : 'femme'}” élégant`;
const { users, items, ratings, timestamps } = dataset.interactions;
const reviewRecords = Array.from(users, (u, k) => ({
  reviewerID: dataset.userIds[u],
  asin: asins[items[k]],
  overall: ratings[k],
  unixReviewTime: Number.isNaN(timestamps[k]) ? 0 : Math.round(timestamps[k]),
}));
// A duplicate review, of a product the Men subset keeps (even index), so the importer counts it as a duplicate.
reviewRecords.push({ ...reviewRecords[Array.from(items).findIndex((i) => i % 2 === 0)] });
const jsonLines = (records: object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

for (const sub of ['amazon2014', 'amazon2018', 'table']) fs.mkdirSync(path.join(out, sub), { recursive: true });
fs.writeFileSync(path.join(out, 'amazon2014/reviews.json.gz'), zlib.gzipSync(jsonLines(reviewRecords)));
const meta14 = asins.map((asin, i) =>
  `{'asin': '${asin}', 'title': ${pyString(title(i))}, 'imUrl': 'http://example.invalid/${asin}.jpg', ` +
  `'related': {'also_bought': ['${asins[(i + 1) % asins.length]}']}, 'salesRank': {'Clothing': ${i + 1}}, ` +
  `'categories': [[${branch(i).map(pyString).join(', ')}]]}`);
meta14.splice(3, 0, "{'asin': 'B999999999', 'title': u'unterminated}");
fs.writeFileSync(path.join(out, 'amazon2014/meta.json.gz'), zlib.gzipSync(meta14.join('\n') + '\n'));
const dim = dataset.features.cols;
const b = Buffer.alloc(asins.length * recordBytes(dim));
asins.forEach((asin, i) => {
  const start = i * recordBytes(dim);
  b.write(asin, start, 'latin1');
  for (let k = 0; k < dim; k++) b.writeFloatLE(widenFeatures(dataset.features).data[i * dim + k], start + 10 + 4 * k);
});
fs.writeFileSync(path.join(out, 'amazon2014/image_features.b'), b);

fs.writeFileSync(path.join(out, 'amazon2018/reviews.json'), jsonLines(reviewRecords.map((r) => ({ ...r, verified: true, vote: '2' }))));
fs.writeFileSync(path.join(out, 'amazon2018/meta.json'), jsonLines(asins.map((asin, i) => ({
  asin, title: title(i), category: branch(i), imageURLHighRes: [`http://example.invalid/${asin}.jpg`],
}))));
if (images) {
  fs.mkdirSync(path.join(out, 'amazon2018/images'), { recursive: true });
  for (const [i, asin] of asins.entries()) {
    const file = path.resolve(images, dataset.items[i].imageUrl || `${dataset.itemIds[i]}.png`);
    await sharp(file).jpeg({ quality: 90 }).toFile(path.join(out, `amazon2018/images/${asin}.jpg`));
  }
}

// Parquet through DuckDB: the log split in two files (a glob reads both), items with their vectors.
const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
const tmpCsv = path.join(out, 'table/.log.csv');
fs.writeFileSync(tmpCsv, 'user,product,stars,bought_at\n' + reviewRecords.map((r) => `${r.reviewerID},${r.asin},${r.overall},${r.unixReviewTime}`).join('\n') + '\n');
const half = Math.floor(reviewRecords.length / 2);
const sql = (s: string) => `'${s.replaceAll("'", "''")}'`;
const log = `(SELECT user, product, CAST(stars AS DOUBLE) AS stars, to_timestamp(CAST(bought_at AS BIGINT)) AS bought_at, row_number() OVER () AS n FROM read_csv(${sql(tmpCsv)}, all_varchar = true))`;
await db.run(`COPY (SELECT * EXCLUDE (n) FROM ${log} WHERE n <= ${half}) TO ${sql(path.join(out, 'table/log-1.parquet'))} (FORMAT parquet)`);
await db.run(`COPY (SELECT * EXCLUDE (n) FROM ${log} WHERE n > ${half}) TO ${sql(path.join(out, 'table/log-2.parquet'))} (FORMAT parquet)`);
fs.rmSync(tmpCsv);
const itemsJson = path.join(out, 'table/.items.ndjson');
fs.writeFileSync(itemsJson, jsonLines(asins.map((asin, i) => ({ product: asin, name: title(i), kind: branch(i).join('/'), vector: Array.from(widenFeatures(dataset.features).data.subarray(i * dim, (i + 1) * dim)) }))));
await db.run(`COPY (SELECT product, name, kind, CAST(vector AS FLOAT[]) AS vector FROM read_json(${sql(itemsJson)}, format = 'newline_delimited')) TO ${sql(path.join(out, 'table/items.parquet'))} (FORMAT parquet)`);
fs.rmSync(itemsJson);
db.closeSync();
instance.closeSync();
console.log(`wrote ${reviewRecords.length} reviews of ${asins.length} products (${dim}-d features) under ${out}`);
