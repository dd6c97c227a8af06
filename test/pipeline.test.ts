// End to end on the `tiny` preset: quality floor against the baselines, and the model artifact round trip.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from '../src/data/generate.js';
import { prepareSplit } from '../src/data/split.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { VasgModel } from '../src/model/vasg-model.js';
import { evaluateModel } from '../src/eval/evaluate.js';
import { silentProgress } from '../src/progress.js';
import { gatherRows } from '../src/model/matrix.js';
import { spawnSync } from 'node:child_process';
import { writeNpy } from '../src/data/npy.js';
import { ModelFormatError } from '../src/errors.js';
import { recommendationTable } from '../src/cli/recommend.js';
import stringWidth from 'string-width';

// One thread: Hogwild updates are then deterministic for the seed.
const split = prepareSplit(generate('tiny', 1), { seed: 1 });
// D = 16: tiny has 300 users and 400 products, far too few for the default D = 100.
const config = resolveConfig({ threads: 1, seed: 1, dim: 16 });
const trained = trainVasg(split, config, silentProgress);

test('VASG beats RAND, MostPop and WBOI on warm AUC, and WBOI on cold AUC, on tiny (fixed seed)', async () => {
  const { model } = await trained;
  const report = await evaluateModel(model, split, { threads: 1, seed: 1, progress: silentProgress });
  const { warm } = report.auc;
  assert.ok(warm > report.baselines.rand.warm + 0.2, `VASG ${warm} vs RAND ${report.baselines.rand.warm}`);
  assert.ok(warm > report.baselines.mostpop.warm + 0.03, `VASG ${warm} vs MostPop ${report.baselines.mostpop.warm}`);
  assert.ok(warm > report.baselines.wboi.warm + 0.1, `VASG ${warm} vs WBOI ${report.baselines.wboi.warm}`);
  assert.ok(report.oracle && report.oracle.warm >= warm - 0.02, 'the oracle is the ceiling');
  assert.ok(report.auc.cold > report.baselines.rand.cold + 0.05, `cold-start ${report.auc.cold} vs RAND ${report.baselines.rand.cold}`);
  // Cold products are ranked from images: the floor is the image-only WBOI on the same split (measured 0.807 vs 0.702).
  assert.ok(report.auc.cold > report.baselines.wboi.cold + 0.05, `cold-start ${report.auc.cold} vs WBOI ${report.baselines.wboi.cold}`);
});

test('the per-stage seconds account for the training time (the bench\'s breakdown)', async () => {
  const { stages, seconds, log } = await trained;
  assert.deepEqual(Object.keys(stages).sort(), ['decoder', 'encoder', 'other', 'ranking', 'setup', 'similar', 'skipgram', 'visual', 'walks']);
  for (const [stage, value] of Object.entries(stages)) assert.ok(Number.isFinite(value) && value >= 0, `${stage}: ${value}`);
  const total = Object.values(stages).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - seconds) <= 0.01 + 1e-9 * seconds, `stages sum to ${total}, training took ${seconds}`);
  assert.equal(stages.walks, log.reduce((a, e) => a + e.walkSeconds, 0));
  assert.ok(log.every((e) => e.walkSeconds + e.decoderSeconds + e.visualSeconds <= e.seconds + 1e-9), 'an epoch\'s parts fit in it');
});

test('load(save(model)) gives identical recommendations and cold embeddings', async () => {
  const { model } = await trained;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-model-'));
  try {
    model.save(dir);
    const loaded = VasgModel.load(dir);
    for (const user of split.userIds.slice(0, 20)) {
      assert.deepEqual(await loaded.recommend(user, 10), await model.recommend(user, 10));
    }
    assert.deepEqual(loaded.parts.items.data, model.parts.items.data);
    // Cold rows of the item table are what the saved encoder makes of the raw features.
    const coldItems = Array.from(model.parts.cold.keys()).filter((i) => model.parts.cold[i]);
    const raw = { data: gatherRows(split.features, coldItems), rows: coldItems.length, cols: split.features.cols };
    const embedded = await loaded.embedFeatures(raw);
    const stored = gatherRows(model.parts.items, coldItems);
    for (let k = 0; k < stored.length; k++) assert.ok(Math.abs(embedded.data[k] - stored[k]) < 1e-5);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('recommendations skip seen products and mark cold ones', async () => {
  const { model } = await trained;
  const u = 3;
  const seen = new Set(Array.from(split.train.items.filter((_, e) => split.train.users[e] === u), (i) => split.itemIds[i]));
  const recs = await model.recommend(split.userIds[u], 50);
  assert.equal(recs.length, 50);
  for (const r of recs) assert.ok(!seen.has(r.itemId));
  for (let k = 1; k < recs.length; k++) assert.ok(recs[k - 1].score >= recs[k].score);
  const warmOnly = await model.recommend(split.userIds[u], 50, { includeCold: false });
  assert.ok(warmOnly.every((r) => !r.cold));
  await assert.rejects(() => model.recommend('no-such-user', 5), /unknown user "no-such-user"/);
});

test("recommend's table lines up scores after wide (CJK) and combining-accent ids", () => {
  const ids = ['P000001', '日本の長いシャツ商品番号', 'caf\u0065\u0301-shirt', 'ＦＵＬＬ'];
  const lines = recommendationTable(ids.map((itemId, k) => ({ itemId, score: 0.5 - k / 10, cold: k === 3 }))).split('\n');
  const scoreColumns = lines.map((line) => stringWidth(line.slice(0, line.search(/ \d\.\d{4}/))));
  assert.deepEqual(new Set(scoreColumns).size, 1, lines.join('\n'));
  assert.equal(scoreColumns[0], 5 + 24, 'the widest id (12 CJK characters) sets the column');
  assert.match(lines[3], /0\.2000 {2}\(cold\)$/);
});

test('a saved model with a NaN row, corrupt seen lists, or embed --out into itself is refused, naming the file', async () => {
  const { model } = await trained;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-model-'));
  try {
    const modelDir = path.join(dir, 'model');
    model.save(modelDir);
    const vasg = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/vasg.js'), ...args], { encoding: 'utf8' });
    const features = path.join(dir, 'f.npy');
    const ids = path.join(dir, 'ids.csv');
    writeNpy(features, { data: new Float32Array(2 * split.features.cols), rows: 2, cols: split.features.cols });
    fs.writeFileSync(ids, 'item_id,cold\nn1,1\nn2,1\n');
    const inside = vasg('embed', '--model', modelDir, '--features', features, '--ids', ids, '--out', path.join(modelDir, 'item_embeddings.npy'));
    assert.notEqual(inside.status, 0);
    assert.match(inside.stderr, /is inside the model directory/);
    const ok = vasg('embed', '--model', modelDir, '--features', features, '--ids', ids, '--out', path.join(dir, 'e.npy'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /wrote 2 × 16 embeddings to .*e\.npy, their ids to .*e\.items\.csv/);
    assert.equal(fs.readFileSync(path.join(dir, 'e.items.csv'), 'utf8'), 'item_id,cold\nn1,1\nn2,1\n', 'the ids beside the array, in the --ids layout (here a split\'s, with its cold column)');
    const badFeatures = new Float32Array(2 * split.features.cols);
    badFeatures[split.features.cols + 1] = NaN;
    fs.writeFileSync(features, Buffer.concat([npyHeader(2, split.features.cols), Buffer.from(badFeatures.buffer)]));
    const nan = vasg('embed', '--model', modelDir, '--features', features, '--ids', ids, '--out', path.join(dir, 'e.npy'));
    assert.notEqual(nan.status, 0);
    assert.match(nan.stderr, /f\.npy: row 1, column 1: expected a finite value, found NaN/);
    const seen = path.join(modelDir, 'seen_indices.npy');
    const good = fs.readFileSync(seen);
    const broken = Buffer.from(good);
    broken.writeFloatLE(1e6, broken.length - 4);
    fs.writeFileSync(seen, broken);
    assert.throws(() => VasgModel.load(modelDir), (e: Error) => e instanceof ModelFormatError && e.message.startsWith(`${seen}: has CRC-32 `));
    // Without the marker's checks (as after a deliberate edit), the arrays' own validation still names the file.
    fs.rmSync(path.join(modelDir, '.vasg-complete'));
    assert.throws(() => VasgModel.load(modelDir), (e: Error) => e instanceof ModelFormatError && /seen_indices\.npy: value \d+ \(1000000\) is not a product row/.test(e.message));
    fs.writeFileSync(seen, good);
    const users = path.join(modelDir, 'user_embeddings.npy');
    const bytes = fs.readFileSync(users);
    bytes.writeFloatLE(Number.POSITIVE_INFINITY, bytes.length - 4);
    fs.writeFileSync(users, bytes);
    assert.throws(() => VasgModel.load(modelDir), /user_embeddings\.npy: row \d+, column 15: expected a finite value, found Infinity/);
    const proc = vasg('train', '--data', dir, '--out', '/proc/vasg-x');
    assert.notEqual(proc.status, 0);
    assert.match(proc.stderr, /\/proc\/vasg-x: cannot write an output directory here/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a model directory mixing two saves is refused naming the file; recordMetrics keeps the checks valid and links the arrays', async () => {
  const { model } = await trained;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-model-'));
  try {
    const a = path.join(dir, 'a');
    model.save(a);
    const arrayInode = fs.statSync(path.join(a, 'item_embeddings.npy')).ino;
    VasgModel.recordMetrics(a, { auc: { warm: 0.5 } });
    assert.deepEqual(VasgModel.load(a).info.metrics, { auc: { warm: 0.5 } });
    assert.equal(fs.statSync(path.join(a, 'item_embeddings.npy')).ino, arrayInode, 'the arrays were linked into the new version, not copied');
    assert.deepEqual(fs.readdirSync(dir), ['a'], 'no staged or old siblings left');
    // Another version's array of the same shape fits a's manifest, so only the checks can tell the mix.
    const otherUsers = path.join(dir, 'other-users.npy');
    writeNpy(otherUsers, { ...model.parts.users, data: model.parts.users.data.map((v) => -v) });
    const users = path.join(a, 'user_embeddings.npy');
    const original = fs.readFileSync(users);
    fs.copyFileSync(otherUsers, users);
    assert.throws(() => VasgModel.load(a), (e: Error) => e instanceof ModelFormatError &&
      e.message.startsWith(`${users}: has CRC-32 `) && e.message.includes('mixes files of two versions'));
    fs.writeFileSync(users, fs.readFileSync(otherUsers).subarray(0, 100));
    assert.throws(() => VasgModel.load(a), (e: Error) => e.message.startsWith(`${users}: has 100 bytes, `));
    fs.writeFileSync(users, original);
    fs.rmSync(path.join(a, 'encoder_0_W.npy'));
    assert.throws(() => VasgModel.load(a), /encoder_0_W\.npy: is missing/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A float32 .npy header for [rows × cols], written by hand: writeNpy refuses the NaN these tests need. */
function npyHeader(rows: number, cols: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(header);
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  return header;
}
