import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { inCategory, readMeta, readReviews } from '../src/data/formats/amazon.js';

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

test('ratings-only CSV', async () => {
  const file = path.join(dir, 'ratings.csv');
  fs.writeFileSync(file, 'U1,B1,5.0,1380000000\nU2,B1,x\n');
  const bad: number[] = [];
  assert.deepEqual(await collect(readReviews(file, (_f, n) => bad.push(n))), [{ user: 'U1', item: 'B1', rating: 5, time: 1380000000 }]);
  assert.deepEqual(bad, [2]);
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
  assert.deepEqual(got.map((m) => inCategory(m, men)), [true, false]);
});
