import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { indexFeatureFile, readFeatureRecords, recordBytes } from '../src/data/formats/amazonfeatures.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-feat-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeB(file: string, dim: number, records: Array<[string, number[]]>): void {
  const buf = Buffer.alloc(records.length * recordBytes(dim));
  records.forEach(([asin, v], i) => {
    const start = i * recordBytes(dim);
    buf.write(asin.padEnd(10, ' '), start, 'latin1');
    v.forEach((x, k) => buf.writeFloatLE(x, start + 10 + 4 * k));
  });
  fs.writeFileSync(file, buf);
}

test('streams records across buffer boundaries and keeps only wanted ids', () => {
  const file = path.join(dir, 'f.b');
  const recs: Array<[string, number[]]> = Array.from({ length: 7 }, (_, i) => [`B00000000${i}`, [i, -i, 0.5 * i]]);
  writeB(file, 3, recs);
  const got = [...readFeatureRecords(file, 3, (a) => a !== 'B000000003', 2)];
  assert.deepEqual(got.map((r) => r.asin), ['B000000000', 'B000000001', 'B000000002', 'B000000004', 'B000000005', 'B000000006']);
  assert.deepEqual([...got[4].vector], [5, -5, 2.5]);
});

test('a file truncated mid-record is refused with the byte offset of the bad record', () => {
  const file = path.join(dir, 't.b');
  writeB(file, 4, [['B000000001', [1, 2, 3, 4]], ['B000000002', [5, 6, 7, 8]]]);
  fs.truncateSync(file, 2 * recordBytes(4) - 5);
  assert.throws(() => [...readFeatureRecords(file, 4, () => true)], /t\.b: truncated record at byte offset 26 .*--feature-dim 4/);
});

test('a wrong --feature-dim whose record size divides the file size is refused at the first misplaced ASIN', () => {
  const file = path.join(dir, 'dim3.b');
  // 13 records of 22 bytes (dim 3) are 11 records of 26 bytes (dim 4): record 1 of those starts inside a vector.
  writeB(file, 3, Array.from({ length: 13 }, (_, i) => [`B00000000${i % 10}`, [1, 2, 3]]));
  const wrong = /dim3\.b: the record at byte offset 26 does not start with a 10-character ASCII ASIN \(is --feature-dim 4 right\?\)/;
  assert.throws(() => indexFeatureFile(file, 4, () => true), wrong);
  assert.throws(() => [...readFeatureRecords(file, 4, () => false)], wrong);
  assert.equal(indexFeatureFile(file, 3, () => true).asins.length, 10);
});
