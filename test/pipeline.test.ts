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

// One thread: Hogwild updates are then deterministic for the seed.
const split = prepareSplit(generate('tiny', 1), { seed: 1 });
// D = 16: tiny has 300 users and 400 products, far too few for the default D = 100.
const config = resolveConfig({ threads: 1, seed: 1, dim: 16 });
const trained = trainVasg(split, config, silentProgress);

test('VASG beats RAND, MostPop and WBOI on warm AUC on tiny (fixed seed)', async () => {
  const { model } = await trained;
  const report = await evaluateModel(model, split, { threads: 1, seed: 1, progress: silentProgress });
  const { warm } = report.auc;
  assert.ok(warm > report.baselines.rand.warm + 0.2, `VASG ${warm} vs RAND ${report.baselines.rand.warm}`);
  assert.ok(warm > report.baselines.mostpop.warm + 0.03, `VASG ${warm} vs MostPop ${report.baselines.mostpop.warm}`);
  assert.ok(warm > report.baselines.wboi.warm + 0.1, `VASG ${warm} vs WBOI ${report.baselines.wboi.warm}`);
  assert.ok(report.oracle && report.oracle.warm >= warm - 0.02, 'the oracle is the ceiling');
  assert.ok(report.auc.cold > report.baselines.rand.cold + 0.05, `cold-start ${report.auc.cold} vs RAND ${report.baselines.rand.cold}`);
});

test('load(save(model)) gives identical recommendations and cold embeddings', async () => {
  const { model } = await trained;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-model-'));
  try {
    model.save(dir);
    const loaded = VasgModel.load(dir);
    for (const user of split.userIds.slice(0, 20)) {
      assert.deepEqual(loaded.recommend(user, 10), model.recommend(user, 10));
    }
    assert.deepEqual(loaded.parts.items.data, model.parts.items.data);
    // Cold rows of the item table are what the saved encoder makes of the raw features.
    const coldItems = Array.from(model.parts.cold.keys()).filter((i) => model.parts.cold[i]);
    const raw = { data: gatherRows(split.features, coldItems), rows: coldItems.length, cols: split.features.cols };
    const embedded = loaded.embedFeatures(raw);
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
  const recs = model.recommend(split.userIds[u], 50);
  assert.equal(recs.length, 50);
  for (const r of recs) assert.ok(!seen.has(r.itemId));
  for (let k = 1; k < recs.length; k++) assert.ok(recs[k - 1].score >= recs[k].score);
  const warmOnly = model.recommend(split.userIds[u], 50, false);
  assert.ok(warmOnly.every((r) => !r.cold));
  assert.throws(() => model.recommend('no-such-user', 5), /unknown user "no-such-user"/);
});
