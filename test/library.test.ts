// The package entry as another project sees it: `import ... from 'vasg'` resolved through package.json "exports".
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A variable specifier: Node resolves it through "exports" at run time (self-reference), while tsc
// takes the types from the source, so a clean build does not depend on emitted declarations.
const packageName = 'vasg';
const vasg = (await import(packageName)) as typeof import('../src/index.js');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the package entry and its declarations are where package.json says', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
  for (const file of Object.values(pkg.exports['.'])) assert.ok(fs.existsSync(path.join(root, file)), `${file} is built`);
  const declarations = fs.readFileSync(path.join(root, pkg.exports['.'].types), 'utf8');
  for (const name of ['train', 'VasgModel', 'loadDataset', 'evaluate', 'InputError']) assert.match(declarations, new RegExp(`\\b${name}\\b`));
});

test('train, recommend, save/load and evaluate on tiny through the package entry only', async () => {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-lib-'));
  try {
    vasg.writeDataset(path.join(dir, 'data'), vasg.generate('tiny', 1));
    const { dataset } = vasg.loadDataset(path.join(dir, 'data'));
    const split = vasg.prepareSplit(dataset, { seed: 1 });
    const { model } = await vasg.train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1 } });
    assert.ok(model instanceof vasg.VasgModel);
    const recs = await model.recommend(split.userIds[0], 5);
    assert.equal(recs.length, 5);
    model.save(path.join(dir, 'model'));
    assert.deepEqual(await vasg.VasgModel.load(path.join(dir, 'model')).recommend(split.userIds[0], 5), recs);
    const report = await vasg.evaluate(model, split);
    assert.ok(report.auc.warm > 0.5, `warm AUC ${report.auc.warm}`);
    // Against the strongest simple baseline on the same split (measured: 0.854 vs MostPop 0.798; cold 0.807 vs WBOI 0.702).
    assert.ok(report.auc.warm > report.baselines.mostpop.warm + 0.03, `warm ${report.auc.warm} vs MostPop ${report.baselines.mostpop.warm}`);
    assert.ok(report.auc.cold > report.baselines.wboi.cold + 0.05, `cold ${report.auc.cold} vs WBOI ${report.baselines.wboi.cold}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('typed errors: a bad option is a ConfigError, all are VasgErrors', async () => {
  const split = vasg.prepareSplit(vasg.generate('tiny', 2), { seed: 1 });
  await assert.rejects(() => vasg.train(split, { config: { dim: -3 } }), (error: unknown) => error instanceof vasg.ConfigError && error instanceof vasg.VasgError);
});

test('similarItems and recommendForVector agree with the embeddings; unknown ids are UnknownIdErrors', async () => {
  const split = vasg.prepareSplit(vasg.generate('tiny', 3), { seed: 1 });
  // Cosine: a product's own vector is then its best match. `similar: 'embedding'`: similar items by the embeddings'
  // cosine, not the learned similar-items space (test/similar-space.test.ts).
  const { model } = await vasg.train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1, scoring: 'cosine', similar: 'embedding' } });
  const first = split.itemIds[0];
  const similar = await model.similarItems(first, 10);
  assert.equal(similar.length, 10);
  assert.ok(similar.every((r) => r.itemId !== first), 'a product is not similar to itself');
  for (let j = 1; j < similar.length; j++) assert.ok(similar[j - 1].score >= similar[j].score);
  // The product's own vector as a query: itself first, then the same neighbours.
  const row = model.parts.items.data.slice(0, model.config.dim);
  const byVector = await model.recommendForVector(row, 11);
  assert.equal(byVector[0].itemId, first);
  assert.deepEqual(byVector.slice(1).map((r) => r.itemId), similar.map((r) => r.itemId));
  await assert.rejects(() => model.similarItems('no-such-product', 5), vasg.UnknownIdError);
  await assert.rejects(() => model.recommend('no-such-user', 5), vasg.UnknownIdError);
  await assert.rejects(() => model.recommendForVector(new Float32Array(3), 5), vasg.InputError);
  for (const k of [-1, 1.5, Number.NaN]) await assert.rejects(() => model.recommend(split.userIds[0], k), (e: unknown) => e instanceof vasg.ConfigError && e.field === 'k', `k = ${k}`);
});

function sameRanking(actual: Array<{ itemId: string; score: number; cold: boolean }>, wanted: typeof actual): void {
  assert.deepEqual(actual.map((r) => [r.itemId, r.cold]), wanted.map((r) => [r.itemId, r.cold]));
  actual.forEach((r, j) => assert.ok(Math.abs(r.score - wanted[j].score) < 1e-5, `${r.itemId}: ${r.score} vs ${wanted[j].score}`));
}

test('batched recommend: one answer per user, equal to single calls; exclude and includeCold apply inside the search', async () => {
  const split = vasg.prepareSplit(vasg.generate('tiny', 5), { seed: 1 });
  const { model } = await vasg.train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1 } });
  const users = split.userIds.slice(0, 6);
  const batch = await model.recommend(users, 8);
  assert.equal(batch.length, users.length);
  // A batch is one matrix product, a single query a vector product: the same products, scores equal to rounding.
  for (const [j, user] of users.entries()) sameRanking(batch[j], await model.recommend(user, 8));
  // Excluding each user's top 3 still gives 8, none of the excluded.
  const excluded = batch[0].slice(0, 3).map((r) => r.itemId);
  const after = await model.recommend(users, 8, { exclude: [...excluded, 'not-a-product'] });
  for (const list of after) {
    assert.equal(list.length, 8);
    assert.ok(list.every((r) => !excluded.includes(r.itemId)));
  }
  assert.deepEqual(after[0].slice(0, 5).map((r) => r.itemId), batch[0].slice(3).map((r) => r.itemId), 'the rest move up');
  const all = await model.recommend(users[0], split.itemIds.length);
  assert.ok(all.some((r) => r.cold), 'tiny has cold products to leave out');
  const warm = await model.recommend(users[0], split.itemIds.length, { includeCold: false });
  assert.deepEqual(warm, all.filter((r) => !r.cold));
});

test('addItems embeds new products with the encoder off the event loop, replaces a known id, refuses a wrong width', async () => {
  const split = vasg.prepareSplit(vasg.generate('tiny', 6), { seed: 1 });
  const { model } = await vasg.train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1, scoring: 'cosine' } });
  const { cols } = split.features;
  const twin = split.warm.indexOf(0);
  const features = { data: split.features.data.slice(twin * cols, (twin + 1) * cols), rows: 1, cols };
  const before = model.parts.itemIds.length;
  // The event loop keeps turning while the encoder runs: a timer set before the call fires before it resolves.
  let ticked = false;
  setImmediate(() => { ticked = true; });
  const pending = model.addItems(['new-a'], features, [{ title: 'A', category: 'c', imageUrl: '' }]);
  assert.equal(ticked, false);
  assert.deepEqual(await pending, [before]);
  assert.equal(ticked, true);
  assert.deepEqual(model.itemMeta(before), { title: 'A', category: 'c', imageUrl: '' });
  // Same features as a cold product: the same vector, so it is that product's nearest neighbour.
  assert.equal((await model.similarItems('new-a', 1))[0].itemId, split.itemIds[twin]);
  assert.ok((await model.recommend(split.userIds[0], model.parts.itemIds.length)).some((r) => r.itemId === 'new-a' && r.cold));
  const other = { data: split.features.data.slice(0, cols), rows: 1, cols };
  assert.deepEqual(await model.addItems(['new-a'], other), [before], 'a known id is replaced in place');
  assert.equal(model.parts.itemIds.length, before + 1);
  await assert.rejects(() => model.addItems(['bad'], { data: new Float32Array(3), rows: 1, cols: 3 }), vasg.InputError);
  assert.equal(model.parts.itemIds.length, before + 1, 'a refused add changes nothing');
});
