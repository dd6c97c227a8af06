import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { pathsUnder, readMeta, readReviews } from '../src/data/formats/amazon.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-amazon-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function collect<T>(it: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('2014 JSON reviews, gzip and plain, skip malformed lines and missing fields with file and line', async () => {
  const text = [
    JSON.stringify({ reviewerID: 'U1', asin: 'B1', overall: 5, unixReviewTime: 100, reviewText: 'très bien ☃' }),
    '{"reviewerID": "U2", "asin": ',
    JSON.stringify({ reviewerID: 'U2', overall: 3 }),
    '',
    JSON.stringify({ reviewerID: 'U3', asin: 'B2', overall: 4.0 }),
  ].join('\n');
  for (const name of ['r.json', 'r.json.gz']) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, name.endsWith('.gz') ? zlib.gzipSync(text) : text);
    const bad: string[] = [];
    const got = await collect(readReviews(file, (f, n, why) => bad.push(`${path.basename(f)}:${n}: ${why}`)));
    assert.deepEqual(got, [{ user: 'U1', item: 'B1', rating: 5, time: 100 }, { user: 'U3', item: 'B2', rating: 4, time: 0 }]);
    assert.equal(bad.length, 2);
    assert.match(bad[0], new RegExp(`^${name.replace(/\./g, '\\.')}:2: `));
    assert.equal(bad[1], `${name}:3: missing field 'asin'`);
  }
});

test('ratings-only CSV, plain and gzip', async () => {
  const text = 'U1,B1,5.0,1380000000\nU2,B1,x\nU3,,4.0,1\nU4,B1,five,1\nüser,B2,3.0,2\n';
  for (const name of ['ratings.csv', 'ratings.csv.gz']) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, name.endsWith('.gz') ? zlib.gzipSync(text) : text);
    const bad: string[] = [];
    const got = await collect(readReviews(file, (f, n, why) => bad.push(`${path.basename(f)}:${n}: ${why}`)));
    assert.deepEqual(got, [{ user: 'U1', item: 'B1', rating: 5, time: 1380000000 }, { user: 'üser', item: 'B2', rating: 3, time: 2 }]);
    assert.deepEqual(bad, [`${name}:2: expected 4 fields user,item,rating,timestamp, got 3`, `${name}:3: missing field 'item'`, `${name}:4: field 'rating': expected a number, found "five"`]);
  }
});

test('2018 JSON reviews: image, verified and vote are ignored; a missing rating is named', async () => {
  const file = path.join(dir, 'r18.json.gz');
  const lines = [
    { reviewerID: 'A2', asin: 'B7', overall: 2.0, unixReviewTime: 1500000000, verified: true, vote: '1,024', image: ['https://x/a.jpg'], style: { 'Size:': ' 9' } },
    { reviewerID: 'A3', asin: 'B7', verified: false },
  ];
  fs.writeFileSync(file, zlib.gzipSync(lines.map((l) => JSON.stringify(l)).join('\n')));
  const bad: string[] = [];
  assert.deepEqual(await collect(readReviews(file, (_f, n, why) => bad.push(`${n}: ${why}`))), [{ user: 'A2', item: 'B7', rating: 2, time: 1500000000 }]);
  assert.deepEqual(bad, ["2: missing field 'overall'"]);
});

test('2014 Python-literal and 2018 JSON metadata, with category prefixes', async () => {
  const file = path.join(dir, 'meta.json');
  fs.writeFileSync(
    file,
    [
      "{'asin': 'B1', 'title': u'Men\\'s \"Oxford\" Shoe', 'imUrl': 'http://x/1.jpg', 'categories': [['Clothing, Shoes & Jewelry', 'Men', 'Shoes']]}",
      "{'asin': 'B2', 'categories': [[",
      JSON.stringify({ asin: 'B3', title: 'Robe', category: ['Clothing, Shoes & Jewelry', 'Women'], imageURLHighRes: ['http://x/3.jpg'] }),
    ].join('\n'),
  );
  const bad: string[] = [];
  const got = await collect(readMeta(file, (_f, n, why) => bad.push(`${n}: ${why}`)));
  assert.deepEqual(got.map((m) => [m.asin, m.title, m.imageUrl]), [['B1', 'Men\'s "Oxford" Shoe', 'http://x/1.jpg'], ['B3', 'Robe', 'http://x/3.jpg']]);
  assert.equal(bad.length, 1);
  assert.match(bad[0], /^2: /);
  const men = ['Clothing, Shoes & Jewelry', 'Men'];
  assert.deepEqual(got.map((m) => pathsUnder(m, [men])), [[['Clothing, Shoes & Jewelry', 'Men', 'Shoes']], []]);
  assert.deepEqual(got.map((m) => pathsUnder(m, [['Clothing, Shoes & Jewelry', 'Women'], [...men, 'Shoes']]).length), [1, 1]);
});

test('metadata: gzip, raw UTF-8 and escapes in literals, a line without asin named, a list is not a product', async () => {
  const file = path.join(dir, 'meta2.json.gz');
  const lines = [
    "{'asin': 'B8', 'title': 'Café ☃ 日本', 'imUrl': u'http://x/caf\\xe9.jpg', 'categories': [['Shoes', u'Women\\u2019s']]}",
    "{'title': u'no asin', 'categories': [['Shoes']]}",
    "['B9', 'a list']",
    JSON.stringify({ asin: 'B10', title: 'Ünïcode “quotes”', category: [], imageURL: ['http://x/10.jpg'] }),
  ];
  fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n'));
  const bad: string[] = [];
  const got = await collect(readMeta(file, (f, n, why) => bad.push(`${path.basename(f)}:${n}: ${why}`)));
  assert.deepEqual(got, [
    { asin: 'B8', title: 'Café ☃ 日本', imageUrl: 'http://x/café.jpg', categories: [['Shoes', 'Women’s']] },
    { asin: 'B10', title: 'Ünïcode “quotes”', imageUrl: 'http://x/10.jpg', categories: [[]] },
  ]);
  assert.deepEqual(bad, ["meta2.json.gz:2: missing field 'asin'", 'meta2.json.gz:3: not a dict']);
});

test('a missing file, a file that is not gzip and a gzip cut short are errors naming the file (and the last line read)', async () => {
  const text = Array.from({ length: 2000 }, (_, k) => JSON.stringify({ reviewerID: `U${k}`, asin: 'B1', overall: 5 })).join('\n');
  const gz = zlib.gzipSync(text);
  const cut = path.join(dir, 'cut.json.gz');
  fs.writeFileSync(cut, gz.subarray(0, gz.length >> 1));
  const notGzip = path.join(dir, 'plain.json.gz');
  fs.writeFileSync(notGzip, text);
  const missing = path.join(dir, 'missing.json');
  const fail = () => assert.fail('a bad line instead of an error');
  await assert.rejects(collect(readReviews(missing, fail)), { message: `${missing}: no such file` });
  await assert.rejects(collect(readMeta(notGzip, fail)), { message: `${notGzip}: incorrect header check` });
  await assert.rejects(collect(readReviews(cut, fail)), (error: Error) => {
    const line = Number(new RegExp(`^${cut}: unexpected end of file \\(after line (\\d+)\\)$`).exec(error.message)?.[1]);
    return line > 0 && line < 2000;
  });
});
