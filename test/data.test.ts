import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeNpy, floatToHalf, npyDtype, readNpy, writeNpy } from '../src/data/npy.js';
import { checkOutputDirectory, recoverDirectory, writeDirectoryAtomic, writeDirectoryAtomicOffThread, writeFileAtomic } from '../src/data/atomic.js';
import { spawnSync } from 'node:child_process';
import { loadDataset, writeDataset } from '../src/data/dataset.js';
import { generate, PRESETS } from '../src/data/generate.js';
import { loadSplit, prepareSplit, writeSplit } from '../src/data/split.js';
import { Rng } from '../src/data/random.js';
import type { Dataset, Split } from '../src/data/types.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the file's tests are done. */
function tempDir(): string {
  tempDirs.push(fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-data-')));
  return tempDirs[tempDirs.length - 1];
}

/** A .npy file as numpy writes it: magic, version, header length, padded dict, raw data. */
function npyBytes(dict: string, data: Buffer, version = 1, align = 64): Buffer {
  const preamble = version === 1 ? 10 : 12;
  const total = Math.ceil((preamble + dict.length + 1) / align) * align;
  const header = Buffer.alloc(total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(header);
  if (version === 1) header.writeUInt16LE(total - preamble, 8);
  else header.writeUInt32LE(total - preamble, 8);
  header.write(dict, preamble, 'latin1');
  header[total - 1] = 0x0a;
  return Buffer.concat([header, data]);
}

const F32_2x3 = Buffer.from(Float32Array.from([1, 2, 3, 4.5, -5, 6]).buffer);

test('npy: numpy-made 2×3 float32 file reads as a matrix', () => {
  const file = path.join(tempDir(), 'a.npy');
  fs.writeFileSync(file, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", F32_2x3));
  const m = readNpy(file);
  assert.equal(m.rows, 2);
  assert.equal(m.cols, 3);
  assert.deepEqual(Array.from(m.data), [1, 2, 3, 4.5, -5, 6]);
});

test('npy: write → read round trip (byte layout as numpy, 1-D, v2, unaligned, f8/i4 conversion)', () => {
  const dir = tempDir();
  const file = path.join(dir, 'm.npy');
  const data = new Rng(1).fillNormal(new Float32Array(7 * 5));
  writeNpy(file, { data, rows: 7, cols: 5 });
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.readUInt16LE(8) + 10, 128); // header padded to a multiple of 64
  assert.deepEqual(readNpy(file), { data, rows: 7, cols: 5 });
  assert.deepEqual(fs.readdirSync(dir), ['m.npy']); // no temporary files left

  fs.writeFileSync(file, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", F32_2x3, 2));
  assert.deepEqual({ ...readNpy(file), data: Array.from(readNpy(file).data) }, { data: [1, 2, 3, 4.5, -5, 6], rows: 6, cols: 1 });

  // A header of odd length puts the data at an unaligned offset: must be copied, not viewed.
  fs.writeFileSync(file, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", F32_2x3, 1, 7));
  assert.deepEqual(Array.from(readNpy(file).data), [1, 2, 3, 4.5, -5, 6]);

  const notes: string[] = [];
  fs.writeFileSync(file, npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", Buffer.from(Float64Array.from([1, 2, 3, 4.5, -5, 6]).buffer)));
  assert.deepEqual(Array.from(readNpy(file, (n) => notes.push(n)).data), [1, 2, 3, 4.5, -5, 6]);
  fs.writeFileSync(file, npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", Buffer.from(Int32Array.from([7, -8, 9]).buffer)));
  assert.deepEqual(Array.from(readNpy(file, (n) => notes.push(n)).data), [7, -8, 9]);
  assert.equal(notes.length, 2);
  assert.match(notes[0], /converted <f8 to float32/);
});

test('npy: bad files give errors naming the file and the problem', () => {
  const file = path.join(tempDir(), 'bad.npy');
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from('not an npy file at all'), /bad magic/],
    [npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", F32_2x3), /fortran_order/],
    [npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", F32_2x3), /dtype ">f4"/],
    [npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", F32_2x3), /needs 32 data bytes but the file has 24/],
    [npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", F32_2x3), /3 dimensions/],
  ];
  for (const [bytes, pattern] of cases) {
    fs.writeFileSync(file, bytes);
    assert.throws(() => readNpy(file), (error: Error) => error.message.includes(file) && pattern.test(error.message));
  }
});

test('npy float16: numpy\'s bit patterns both ways (round half to even), a numpy-made <f2 file reads exactly', () => {
  // Values and the float16 bits numpy's astype(float16) gives them.
  const known: Array<[number, number]> = [[1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65519, 0x7bff], [65520, 0x7c00],
    [-1e9, 0xfc00], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -26, 0x0001], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [-0, 0x8000]];
  for (const [value, bits] of known) assert.equal(floatToHalf(value), bits, `${value}`);
  const halves = new Uint16Array([0x3c00, 0x4000, 0x4200, 0x4480, 0xc500, 0x4600]);
  const file = path.join(tempDir(), 'h.npy');
  fs.writeFileSync(file, npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", Buffer.from(halves.buffer)));
  assert.deepEqual({ ...readNpy(file), data: Array.from(readNpy(file).data) }, { data: [1, 2, 3, 4.5, -5, 6], rows: 2, cols: 3 });
  assert.equal(npyDtype(file), 'float16');
});

test('npy float16: every finite half survives write → read; overflow on write and NaN/Inf on read name the row', () => {
  const dir = tempDir();
  const file = path.join(dir, 'all.npy');
  // Every finite float16 value, as the reader decodes it, written back as float16: the same bits, the same values.
  const bits = Uint16Array.from({ length: 65536 }, (_, h) => h).filter((h) => (h & 0x7c00) !== 0x7c00);
  fs.writeFileSync(file, npyBytes(`{'descr': '<f2', 'fortran_order': False, 'shape': (${bits.length / 16}, 16), }`, Buffer.from(bits.buffer)));
  const decoded = readNpy(file);
  assert.equal(decoded.rows * decoded.cols, bits.length);
  writeNpy(path.join(dir, 'again.npy'), decoded, 'float16');
  const again = fs.readFileSync(path.join(dir, 'again.npy'));
  assert.ok(again.subarray(0, 128).toString('latin1').includes("'descr': '<f2'"));
  assert.equal(again.length, 128 + 2 * bits.length);
  assert.deepEqual(new Uint16Array(again.buffer.slice(again.byteOffset + 128, again.byteOffset + again.length)), bits);
  assert.deepEqual(readNpy(path.join(dir, 'again.npy')).data, decoded.data);

  const over = { data: Float32Array.from([1, 2, 3, 4, 70000, 6]), rows: 3, cols: 2 };
  assert.throws(() => writeNpy(path.join(dir, 'over.npy'), over, 'float16', ['a', 'b', 'c']), /row 2 \(item "c"\), column 0: 70000 does not fit float16 \(largest ±65504\)/);
  assert.ok(!fs.readdirSync(dir).some((name) => name.includes('over')), 'nothing written');
  for (const [pattern, name] of [[0x7e00, 'NaN'], [0xfc00, '-Infinity']] as const) {
    const data = new Uint16Array([0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, pattern]);
    fs.writeFileSync(file, npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (3, 2), }", Buffer.from(data.buffer)));
    assert.throws(() => readNpy(file), (e: Error) => e.message === `${file}: row 2, column 1: expected a finite value, found float16 ${name}`);
  }
});

/** The value of a float16 bit pattern, from its definition (a reference independent of npy.ts's table). */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  return sign * (exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15));
}

/**
 * 4,100 × 2,048 float16 values (more than the writer's and reader's 16 MiB block of 8,388,608 halves, so two blocks
 * each way): every finite float16 (subnormals, ±65504, −0) in an order that differs from row to row, so a row
 * written from another block or shifted is seen.
 */
function multiBlockHalves(): { matrix: { data: Float32Array; rows: number; cols: number }; bits: Uint16Array } {
  if (multiBlock) return multiBlock;
  const rows = 4100;
  const cols = 2048;
  const finite = 2 * 0x7c00; // patterns 0x0000–0x7bff and 0x8000–0xfbff
  const bits = Uint16Array.from({ length: rows * cols }, (_, k) => {
    const p = (Math.floor(k / cols) * 7919 + (k % cols) * 31) % finite;
    return p < 0x7c00 ? p : 0x8000 + p - 0x7c00;
  });
  multiBlock = { matrix: { data: Float32Array.from(bits, halfValue), rows, cols }, bits };
  return multiBlock;
}
let multiBlock: ReturnType<typeof multiBlockHalves> | undefined;

/** The data bytes of a float16 .npy file as bit patterns, and the index of the first that differs from `bits` (-1 if none). */
function firstDifference(file: string, bits: Uint16Array): number {
  const bytes = fs.readFileSync(file);
  const written = new Uint16Array(bytes.buffer.slice(bytes.byteOffset + bytes.length - 2 * bits.length, bytes.byteOffset + bytes.length));
  return written.findIndex((h, k) => h !== bits[k]);
}

test('npy float16 over several 16 MiB blocks: every row written and read back in place (once, blocks were all the last one)', () => {
  const { matrix, bits } = multiBlockHalves();
  const file = path.join(tempDir(), 'big.npy');
  writeNpy(file, matrix, 'float16');
  const k = firstDifference(file, bits);
  assert.equal(k, -1, `row ${Math.floor(k / matrix.cols)}, column ${k % matrix.cols} was written wrong`);
  const back = readNpy(file);
  assert.deepEqual([back.rows, back.cols], [matrix.rows, matrix.cols]);
  const wrong = back.data.findIndex((v, j) => !Object.is(v, matrix.data[j]));
  assert.equal(wrong, -1, `row ${Math.floor(wrong / matrix.cols)}, column ${wrong % matrix.cols} read back wrong`);
});

test('atomic off-thread write copies each part of a generator that reuses its buffer (float16 .npy over several blocks)', async () => {
  const { matrix, bits } = multiBlockHalves();
  const dir = path.join(tempDir(), 'out');
  await writeDirectoryAtomicOffThread(dir, [['features.npy', encodeNpy(matrix, 'float16')]]);
  const k = firstDifference(path.join(dir, 'features.npy'), bits);
  assert.equal(k, -1, `row ${Math.floor(k / matrix.cols)}, column ${k % matrix.cols} was written wrong`);
});

test('atomic: a failing directory write leaves neither temporary nor half-written files', () => {
  const dir = tempDir();
  writeFileAtomic(path.join(dir, 'keep.txt'), 'old');
  assert.throws(() => writeDirectoryAtomic(dir, [['a.txt', 'new a'], ['keep.txt', 'new'], ['b.txt', () => { throw new Error('boom'); }]]), /boom/);
  assert.deepEqual(fs.readdirSync(dir), ['keep.txt']);
  assert.equal(fs.readFileSync(path.join(dir, 'keep.txt'), 'utf8'), 'old');
  writeDirectoryAtomic(dir, [['a.txt', ['x', Buffer.from('y')]], ['keep.txt', 'new']]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.vasg-complete', 'a.txt', 'keep.txt']);
  assert.equal(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'xy');
  // The directory is replaced as a whole: a file the new version does not write is gone.
  writeDirectoryAtomic(dir, [['keep.txt', 'newer']]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.vasg-complete', 'keep.txt']);
  assert.deepEqual(fs.readdirSync(path.dirname(dir)).filter((name) => name.startsWith(`.${path.basename(dir)}.`)), [], 'no temp litter');
});

test('atomic: a directory vasg did not write is never replaced', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'thesis.tex'), 'precious');
  assert.throws(() => writeDirectoryAtomic(dir, [['manifest.json', '{}']]), /refusing to replace a non-empty directory that vasg did not write \(it holds thesis\.tex\)/);
  assert.equal(fs.readFileSync(path.join(dir, 'thesis.tex'), 'utf8'), 'precious');
});

test('atomic: a SIGKILL after any rename of a directory swap leaves the old or the new directory, whole, once recovered', () => {
  const atomicModule = new URL('../src/data/atomic.js', import.meta.url).href;
  for (const killAfter of [1, 2]) {
    const dir = path.join(tempDir(), 'model');
    writeDirectoryAtomic(dir, [['a.npy', 'old a'], ['b.npy', 'old b'], ['only-old.npy', 'x']]);
    const child = spawnSync(process.execPath, ['--input-type=module', '-e',
      `import { writeDirectoryAtomic } from '${atomicModule}'; writeDirectoryAtomic(${JSON.stringify(dir)}, [['a.npy', 'new a'], ['b.npy', 'new b']]);`],
    { env: { ...process.env, VASG_FAULT_AFTER_RENAME: String(killAfter) } });
    assert.equal(child.signal, 'SIGKILL', `the child was killed after rename ${killAfter}`);
    recoverDirectory(dir);
    const files = fs.readdirSync(dir).sort();
    const contents = files.filter((f) => f.endsWith('.npy')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    const whole = (killAfter === 1 && JSON.stringify(contents) === JSON.stringify(['old a', 'old b', 'x'])) ||
      JSON.stringify(contents) === JSON.stringify(['new a', 'new b']);
    assert.ok(whole, `after a kill at rename ${killAfter}: ${files.join(', ')} = ${contents.join(', ')}`);
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['model'], 'recovery removes the litter');
  }
});

/** A hand-made data set directory: 3 items with 2-d features and the given interaction lines. */
function handDataset(interactions: string, items = 'item_id,title,category,image_url\np1,Shirt,Tops,\np2,"Dress, red",Dresses,\np3,Jeans,Bottoms,\n',
  features: number[] = [1, 0, 0, 1, 0.5, 0.5]): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'items.csv'), items);
  // Raw bytes, not writeNpy: tests put NaN here, which vasg itself refuses to save.
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${features.length / 2}, 2), }`;
  fs.writeFileSync(path.join(dir, 'features.npy'), npyBytes(dict, Buffer.from(Float32Array.from(features).buffer)));
  fs.writeFileSync(path.join(dir, 'interactions.csv'), interactions);
  return dir;
}

test('dataset: loads, merges duplicate pairs (max rating, latest time), parses ISO dates', () => {
  const dir = handDataset('user_id,item_id,rating,timestamp\nu1,p1,3,100\nu2,p2,4,2012-01-01T00:00:00Z\nu1,p1,5,50\nu1,p3,2,\nu1,p1,1,200\n');
  const { dataset, report } = loadDataset(dir);
  assert.equal(report.mergedDuplicates, 2);
  assert.equal(report.lines, 5);
  assert.deepEqual(dataset.userIds, ['u1', 'u2']);
  assert.deepEqual(dataset.itemIds, ['p1', 'p2', 'p3']);
  assert.equal(dataset.items[1].title, 'Dress, red');
  assert.deepEqual(Array.from(dataset.interactions.items), [0, 1, 2]);
  assert.deepEqual(Array.from(dataset.interactions.ratings), [5, 4, 2]);
  assert.deepEqual(Array.from(dataset.interactions.timestamps), [200, Date.UTC(2012, 0, 1) / 1000, NaN]);
  const plain = loadDataset(handDataset('user_id,item_id\nu1,p2\n')).dataset;
  assert.deepEqual(Array.from(plain.interactions.ratings), [1]);
});

const expectError = (dir: string, file: string, pattern: RegExp) =>
  assert.throws(() => loadDataset(dir), (error: Error) => error.message.includes(path.join(dir, file)) && pattern.test(error.message), pattern.source);

test('dataset: errors name the file, the line and the field', () => {
  expectError(handDataset('user_id,item_id,rating\nu1,p1,1\nu1,p2,1\nu2,p9,1\n'), 'interactions.csv', /interactions\.csv:4: field "item_id": unknown item "p9"/);
  expectError(handDataset('user_id,item_id,rating\nu1,p1,1\nu1,p2\n'), 'interactions.csv', /interactions\.csv:3: expected 3 fields/);
  expectError(handDataset('user_id,item_id,rating\nu1,p1,good\n'), 'interactions.csv', /interactions\.csv:2: field "rating": expected a number, found "good"/);
  expectError(handDataset('user_id,item_id\n,p1\n'), 'interactions.csv', /interactions\.csv:2: field "user_id": expected a non-empty id/);
  expectError(handDataset('user_id,item_id,timestamp\nu1,p1,yesterday\n'), 'interactions.csv', /interactions\.csv:2: field "timestamp"/);
  expectError(handDataset('user_id,item_id\nu1,p1\n', 'item_id,title\np1,a\np2,b\np1,c\n'), 'items.csv', /items\.csv:4: field "item_id": duplicate item id "p1" \(first at line 2\)/);
  expectError(handDataset('user_id,item_id\nu1,p1\n', undefined, [1, 0, NaN, 1, 0, 0]), 'features.npy', /row 1 \(item "p2"\)/);
  expectError(handDataset('user_id,item_id\nu1,p1\n', undefined, [1, 0, 0, 1]), 'features.npy', /has 2 rows but items\.csv has 3 items/);
  expectError(handDataset('user,item_id\nu1,p1\n'), 'interactions.csv', /interactions\.csv:1: unknown column "user"/);
});

test('csv: a bad quote is reported at the line where the quoted field opened, not where the parser gave up', () => {
  const tail = 'u2,p2,1\nu3,p3,1\nu4,p1,1\n';
  expectError(handDataset(`user_id,item_id,rating\nu1,p1,1\nu1,"p2,1\n${tail}`), 'interactions.csv',
    /interactions\.csv:3: a quoted field opens on this line and is never closed/);
  expectError(handDataset(`user_id,item_id,rating\nu1,p1,1\nu1,"p2,1\nu2,"p2",1\n${tail}`), 'interactions.csv',
    /interactions\.csv:3: the quoted field that opens on this line closes on line 4 and is followed by "p"/);
  expectError(handDataset('user_id,item_id\nu1,p1\n', '\ufeffitem_id,title\np1,"Shirt ""slim"", blue"\np2,"Dress\np3,Jeans\n'), 'items.csv',
    /items\.csv:3: a quoted field opens on this line and is never closed/);
});

function datasetBytes(dataset: Dataset): Map<string, Buffer> {
  const dir = tempDir();
  writeDataset(dir, dataset);
  return new Map(fs.readdirSync(dir).sort().map((name) => [name, fs.readFileSync(path.join(dir, name))]));
}

test('generate: deterministic for a seed, sparse non-negative features, tiny counts', () => {
  const a = generate('tiny', 11);
  const bytesA = datasetBytes(a);
  assert.deepEqual([...bytesA.keys()], ['.vasg-complete', 'features.npy', 'interactions.csv', 'items.csv', 'truth_items.npy', 'truth_users.csv', 'truth_users.npy']);
  assert.deepEqual(datasetBytes(generate('tiny', 11)), bytesA);
  const other = datasetBytes(generate('tiny', 12));
  for (const name of ['features.npy', 'interactions.csv', 'truth_users.npy']) assert.notDeepEqual(other.get(name), bytesA.get(name));

  let zeros = 0;
  for (const v of a.features.data) {
    assert.ok(v >= 0 && Number.isFinite(v));
    if (v === 0) zeros++;
  }
  const zeroFraction = zeros / a.features.data.length;
  assert.ok(zeroFraction > 0.6 && zeroFraction < 0.8, `zero fraction ${zeroFraction}`);
  assert.equal(a.features.cols, PRESETS.tiny.featureDim);

  const perUser = new Int32Array(a.userIds.length);
  for (const u of a.interactions.users) perUser[u]++;
  const kept = Array.from(perUser).filter((c) => c >= 5);
  assert.equal(kept.length, PRESETS.tiny.users);
  assert.equal(kept.reduce((s, c) => s + c, 0), PRESETS.tiny.ratings);
  const light = Array.from(perUser).filter((c) => c < 5);
  assert.equal(light.length, Math.round(PRESETS.tiny.users * PRESETS.tiny.extraUsersFraction));
  assert.ok(light.every((c) => c >= 1));
  const seen = new Set<number>();
  for (let k = 0; k < a.interactions.users.length; k++) {
    const key = a.interactions.users[k] * a.itemIds.length + a.interactions.items[k];
    assert.ok(!seen.has(key), 'no repeated (user, item) pair');
    seen.add(key);
    assert.ok(a.interactions.ratings[k] >= 1 && a.interactions.ratings[k] <= 5);
  }
  assert.equal(a.truth?.users.rows, a.userIds.length);
  assert.equal(a.truth?.items.rows, a.itemIds.length);

  const reloaded = loadDataset((() => { const dir = tempDir(); writeDataset(dir, a); return dir; })()).dataset;
  assert.deepEqual(reloaded, a);
});

function checkSplit(split: Split, dataset: Dataset): void {
  const s = split.summary;
  const trainItems = new Set(split.train.items);
  const trainUsers = new Int32Array(split.userIds.length);
  for (const u of split.train.users) trainUsers[u]++;
  for (const i of split.train.items) assert.equal(split.warm[i], 1, 'no cold item in training');
  split.warm.forEach((w, i) => assert.equal(w === 1, trainItems.has(i), 'warm ⇔ in training'));
  assert.equal(new Set(split.test.users).size, split.test.users.length, 'at most one test pair per user');
  for (const u of split.test.users) assert.ok(trainUsers[u] >= 1, 'test user has training interactions');
  assert.ok(trainUsers.every((c) => c >= 1), 'every user keeps training interactions');
  const trainPairs = new Set(Array.from(split.train.users, (u, k) => u * split.itemIds.length + split.train.items[k]));
  split.test.users.forEach((u, k) => assert.ok(!trainPairs.has(u * split.itemIds.length + split.test.items[k]), 'test pair not in training'));
  assert.equal(s.testWarm + s.testCold, split.test.users.length);
  assert.equal(s.warmItems + s.coldItems, s.items);
  const f = s.filtered;
  assert.equal(s.users + f.usersBelowMinInteractions + f.usersWithoutWarmInteraction, dataset.userIds.length);
  assert.equal(s.items + f.itemsWithoutInteractions, dataset.itemIds.length);
  assert.equal(s.trainPairs + s.testWarm + s.testCold + f.interactionsOfUsersBelowMin + f.interactionsOfUsersWithoutWarmInteraction + f.otherColdInteractionsRemoved,
    dataset.interactions.users.length);
  assert.equal(s.users - f.usersWithoutTestItem, split.test.users.length);
}

test('split: cold products never in training, T_cold ≈ T_warm, counts add up', () => {
  const dataset = generate('tiny', 5);
  const split = prepareSplit(dataset, { seed: 3 });
  checkSplit(split, dataset);
  const s = split.summary;
  assert.equal(s.users, PRESETS.tiny.users);
  assert.ok(Math.abs(s.testCold - s.testWarm) <= 0.15 * s.testWarm, `cold ${s.testCold} vs warm ${s.testWarm}`);
  assert.ok(s.coldItems > 0);
  assert.equal(s.coldPolicy, 'balanced');
  assert.deepEqual(prepareSplit(dataset, { seed: 3 }), split, 'deterministic');

  const byFraction = prepareSplit(dataset, { seed: 3, coldPolicy: { fraction: 0.3 } });
  checkSplit(byFraction, dataset);
  assert.ok(byFraction.summary.coldItems >= Math.round(0.3 * byFraction.summary.items));
  assert.ok(byFraction.summary.testCold > byFraction.summary.testWarm);
});

test('split: writeSplit → loadSplit round trip; loadSplit validates', () => {
  const dataset = generate('tiny', 2);
  const split = prepareSplit(dataset, { seed: 9 });
  const dir = tempDir();
  writeSplit(dir, split);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.vasg-complete', 'features.npy', 'items.csv', 'summary.json', 'test.csv', 'train.csv', 'truth_items.npy', 'truth_users.npy', 'users.csv']);
  assert.deepEqual(loadSplit(dir), split);

  const trainFile = path.join(dir, 'train.csv');
  const coldId = split.itemIds[split.warm.indexOf(0)];
  const lines = fs.readFileSync(trainFile, 'utf8').split('\n');
  lines[3] = lines[3].replace(/^([^,]*),[^,]*,/, `$1,${coldId},`);
  fs.writeFileSync(trainFile, lines.join('\n'));
  assert.throws(() => loadSplit(dir), (e: Error) => e.message.startsWith(`${trainFile}: has CRC-32 `), 'the edit is caught by the checks first');
  // Deleting the marker is how a deliberate edit is accepted; the file's own validation still applies.
  const marker = path.join(dir, '.vasg-complete');
  fs.rmSync(marker);
  assert.throws(() => loadSplit(dir), (e: Error) => e.message.includes(`${trainFile}:4: field "item_id": item is marked cold`));

  writeSplit(dir, split);
  const testFile = path.join(dir, 'test.csv');
  const testLines = fs.readFileSync(testFile, 'utf8').split('\n');
  testLines.splice(3, 0, testLines[1]);
  fs.writeFileSync(testFile, testLines.join('\n'));
  fs.rmSync(marker);
  assert.throws(() => loadSplit(dir), (e: Error) => e.message.includes(`${testFile}:4: field "user_id": second test pair`));

  writeSplit(dir, split);
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ ...split.summary, trainPairs: 1 }));
  fs.rmSync(marker);
  assert.throws(() => loadSplit(dir), /summary\.json: field "trainPairs"/);
});

test('validation: ratings must be finite, non-negative and fit float32', () => {
  expectError(handDataset('user_id,item_id,rating\nu1,p1,1e300\n'), 'interactions.csv', /interactions\.csv:2: field "rating": expected a rating in \[0, 1e\+30\], found 1e\+300/);
  expectError(handDataset('user_id,item_id,rating\nu1,p1,4\nu2,p2,-1\n'), 'interactions.csv', /interactions\.csv:3: field "rating": expected a rating in \[0, 1e\+30\], found -1/);
});

test('prepare stops early on degenerate data, naming the filter', () => {
  const { dataset } = loadDataset(handDataset('user_id,item_id\n'));
  assert.throws(() => prepareSplit(dataset, { seed: 1 }), /interactions\.csv: has no interactions \(only a header\?\)/);
  const tiny = generate('tiny', 1);
  assert.throws(() => prepareSplit(tiny, { seed: 1, minInteractions: 1000 }), /--min-interactions 1000 removed all \d+ users \(the most active has \d+ interactions\)/);
});

test('output directories are checked before any work starts', () => {
  const foreign = tempDir();
  fs.writeFileSync(path.join(foreign, 'a-file'), '');
  assert.throws(() => checkOutputDirectory(path.join(foreign, 'a-file', 'model'), 'manifest.json'), /cannot write an output directory here/);
  fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
  fs.rmSync(path.join(foreign, 'a-file'));
  assert.throws(() => checkOutputDirectory(foreign, 'manifest.json'), /refusing to replace a non-empty directory/);
  fs.writeFileSync(path.join(foreign, 'manifest.json'), '{}');
  checkOutputDirectory(foreign, 'manifest.json'); // an earlier output: fine
  assert.deepEqual(fs.readdirSync(path.dirname(foreign)).filter((n) => n.includes('.probe-')), [], 'the probe is removed');
});
