// The package entry as another project sees it: `import ... from 'vasg'` resolved through package.json "exports".
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
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
  const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'vasg-lib-'));
  try {
    vasg.writeDataset(path.join(dir, 'data'), vasg.generate('tiny', 1));
    const { dataset } = vasg.loadDataset(path.join(dir, 'data'));
    const split = vasg.prepareSplit(dataset, { seed: 1 });
    const { model } = await vasg.train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1 } });
    assert.ok(model instanceof vasg.VasgModel);
    const recs = model.recommend(split.userIds[0], 5);
    assert.equal(recs.length, 5);
    model.save(path.join(dir, 'model'));
    assert.deepEqual(vasg.VasgModel.load(path.join(dir, 'model')).recommend(split.userIds[0], 5), recs);
    const report = await vasg.evaluate(model, split);
    assert.ok(report.auc.warm > 0.5, `warm AUC ${report.auc.warm}`);
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
  // Cosine: a product's own vector is then its best match.
  const { model } = await vasg.train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1, scoring: 'cosine' } });
  const first = split.itemIds[0];
  const similar = model.similarItems(first, 10);
  assert.equal(similar.length, 10);
  assert.ok(similar.every((r) => r.itemId !== first), 'a product is not similar to itself');
  for (let j = 1; j < similar.length; j++) assert.ok(similar[j - 1].score >= similar[j].score);
  // The product's own vector as a query: itself first, then the same neighbours.
  const row = model.parts.items.data.slice(0, model.config.dim);
  const byVector = model.recommendForVector(row, 11);
  assert.equal(byVector[0].itemId, first);
  assert.deepEqual(byVector.slice(1).map((r) => r.itemId), similar.map((r) => r.itemId));
  assert.throws(() => model.similarItems('no-such-product', 5), vasg.UnknownIdError);
  assert.throws(() => model.recommend('no-such-user', 5), vasg.UnknownIdError);
  assert.throws(() => model.recommendForVector(new Float32Array(3), 5), vasg.InputError);
});
