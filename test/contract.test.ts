// The Recommender contract, checked the same way over every registered method (implicit's
// RecommenderBaseTestMixin): a method added to the registry is tested here once it has a FAST entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultThreads, generate, getMethod, resolveOptions, type OptionSpec, loadRecommender, METHODS, prepareSplit, writeSplit, type Recommendation, type Split, type VasgModel } from '../src/index.js';
import { Catalog } from '../src/serve/catalog.js';
import { native } from '../src/native.js';
import { buildServer } from '../src/serve/server.js';
import { ConfigError, UnknownIdError, UnsupportedError } from '../src/errors.js';
import { gatherFeatures } from '../src/data/features.js';

/** Options that keep each method's fit on `tiny` to about a second, one thread. Every registered method needs an entry. */
const FAST: Record<string, Record<string, unknown>> = {
  vasg: { dim: 8, hidden: [16], epochs: 1, walksPerNode: 2, rankEpochs: 2, encoderSteps: 20, threads: 1, seed: 3 },
  mostpop: { threads: 1, seed: 3 },
  wboi: { threads: 1, seed: 3 },
  'bpr-mf': { epochs: 5, latent: 8, threads: 1, seed: 3 },
  vbpr: { epochs: 3, latent: 8, visual: 8, threads: 1, seed: 3 },
  ibr: { rank: 8, epochs: 2, threads: 1, seed: 3 },
  ials: { factors: 8, iterations: 3, threads: 1, seed: 3 },
  'content-cf': { factors: 8, iterations: 3, threads: 1, seed: 3 },
};

const split: Split = prepareSplit(generate('tiny', 1), { seed: 1 });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-contract-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Sorted product ids each user bought in training. */
function seenIds(user: string): Set<string> {
  const u = split.userIds.indexOf(user);
  const seen = new Set<string>();
  for (let e = 0; e < split.train.users.length; e++) if (split.train.users[e] === u) seen.add(split.itemIds[split.train.items[e]]);
  return seen;
}

function dot(model: VasgModel, user: string, item: string): number {
  const { users, items } = model.rankingMatrices();
  const u = split.userIds.indexOf(user);
  const i = split.itemIds.indexOf(item);
  let s = 0;
  for (let c = 0; c < users.cols; c++) s += users.data[u * users.cols + c] * items.data[i * items.cols + c];
  return s;
}

const ids = (list: Recommendation[]) => list.map((r) => r.itemId);

test('every registered method has fast test options, and an unknown method lists the known ones', () => {
  assert.deepEqual(METHODS.map((m) => m.name).sort(), Object.keys(FAST).sort());
  assert.throws(() => getMethod('nope'), (e: Error) => e instanceof ConfigError && e.message === `unknown method "nope": the known methods are ${METHODS.map((m) => m.name).join(', ')}`);
  for (const method of METHODS) {
    assert.equal(new Set(method.options.map((o) => o.key)).size, method.options.length, `${method.name}: option keys are distinct`);
    assert.ok(method.options.some((o) => o.key === 'threads') && method.options.some((o) => o.key === 'seed'), `${method.name} has threads and seed`);
    for (const row of method.options) assert.ok(row.type.valid(row.default), `${method.name}: default of ${String(row.key)} is ${row.type.expected}`);
    // One default for threads, whatever the method: the machine's cores.
    assert.equal(method.options.find((o) => o.key === 'threads')!.default, defaultThreads());
    const table = method.options as ReadonlyArray<OptionSpec<Record<string, unknown>>>;
    assert.throws(() => resolveOptions(method.name, table, { threads: 0 }), (e: Error) => e instanceof ConfigError && e.message === `${method.name}: threads must be an integer in [1, 256], got 0`);
    assert.throws(() => resolveOptions(method.name, table, { bogus: 1 }), (e: Error) => e instanceof ConfigError && e.message.startsWith(`${method.name}: unknown option "bogus"`));
  }
});

for (const method of METHODS) {
  test(`contract: ${method.name}`, async (t) => {
    const model = await method.fit(split, FAST[method.name]);
    const users = split.userIds.slice(0, 6);
    assert.equal(model.method, method.name);
    assert.deepEqual(model.userIds, split.userIds);
    assert.deepEqual(model.itemIds, split.itemIds);

    await t.test('scoring matrices: one row per user and product, scores are their dot products', async () => {
      const { users: U, items: V } = model.rankingMatrices();
      assert.equal(U.rows, split.userIds.length);
      assert.equal(V.rows, split.itemIds.length);
      assert.equal(U.cols, V.cols);
      const [top] = await model.recommend(users[0], 1);
      assert.ok(Math.abs(top.score - dot(model, users[0], top.itemId)) <= 1e-4 * Math.max(1, Math.abs(top.score)), `${top.score} vs ${dot(model, users[0], top.itemId)}`);
    });

    await t.test('seen items skipped, k respected, scores in order, ids unique', async () => {
      for (const k of [1, 7]) {
        for (const user of users) {
          const list = await model.recommend(user, k);
          assert.equal(list.length, k);
          assert.equal(new Set(ids(list)).size, k);
          const seen = seenIds(user);
          for (const r of list) assert.ok(!seen.has(r.itemId), `${method.name}: ${user} already bought ${r.itemId}`);
          for (let j = 1; j < list.length; j++) assert.ok(list[j - 1].score >= list[j].score);
        }
      }
    });

    await t.test('exclude and allow are honoured; a batch equals one user at a time', async () => {
      const first = await model.recommend(users[1], 5);
      const excluded = await model.recommend(users[1], 5, { exclude: ids(first).slice(0, 3) });
      for (const id of ids(first).slice(0, 3)) assert.ok(!ids(excluded).includes(id), `${id} was excluded`);
      assert.deepEqual(ids(excluded).slice(0, 2), ids(first).slice(3, 5));
      const allow = split.itemIds.filter((_, i) => i % 3 === 0 && split.warm[i] === 1);
      const allowed = await model.recommend(users[1], 4, { allow });
      assert.equal(allowed.length, 4);
      for (const r of allowed) assert.ok(allow.includes(r.itemId) && !seenIds(users[1]).has(r.itemId));
      const batch = await model.recommend(users, 4);
      assert.deepEqual(batch, await Promise.all(users.map((u) => model.recommend(u, 4))));
      await assert.rejects(model.recommend('no-such-user', 3), UnknownIdError);
    });

    await t.test('cold products: recommended only by a model that scores them, unless asked for', async () => {
      const cold = split.itemIds.filter((_, i) => split.warm[i] === 0).slice(0, 5);
      const seen = seenIds(users[0]);
      const warm = split.itemIds.filter((id, i) => split.warm[i] === 1 && !seen.has(id)).slice(0, 5);
      const allow = [...cold, ...warm];
      const byDefault = await model.recommend(users[0], 10, { allow });
      const asked = await model.recommend(users[0], 10, { allow, includeCold: true });
      const warmOnly = await model.recommend(users[0], 10, { allow, includeCold: false });
      assert.deepEqual(ids(warmOnly).sort(), [...warm].sort());
      assert.deepEqual(ids(asked).sort(), [...allow].sort());
      for (const r of asked) assert.equal(r.cold, cold.includes(r.itemId));
      assert.deepEqual(byDefault, model.capabilities.coldItems ? asked : warmOnly);
    });

    await t.test('similar items, or a clear refusal', async () => {
      const warm = split.itemIds.find((_, i) => split.warm[i] === 1)!;
      const cold = split.itemIds.find((_, i) => split.warm[i] === 0)!;
      if (!model.capabilities.similarItems) {
        await assert.rejects(model.similarItems(warm, 3), (e: Error) => e instanceof UnsupportedError && e.message.startsWith(`${method.name} has no similar items`));
        return;
      }
      const similar = await model.similarItems(warm, 5);
      assert.equal(similar.length, 5);
      assert.ok(!ids(similar).includes(warm));
      if (model.capabilities.coldItems) assert.equal((await model.similarItems(cold, 3)).length, 3);
      else await assert.rejects(model.similarItems(cold, 3), (e: Error) => e instanceof UnsupportedError && e.message.includes(`cold product "${cold}"`));
    });

    await t.test('new products from image features: placed like a cold product of training, or refused', async () => {
      const c = split.warm.indexOf(0);
      const features = { data: gatherFeatures(split.features, [c]), rows: 1, cols: split.features.cols };
      if (!model.capabilities.newItems) {
        await assert.rejects(model.embedFeatures(features), UnsupportedError);
        return;
      }
      const embedded = await model.embedFeatures(features);
      const { items } = model.parts;
      const trained = items.data.subarray(c * items.cols, (c + 1) * items.cols);
      for (let d = 0; d < items.cols; d++) assert.ok(Math.abs(embedded.data[d] - trained[d]) <= 1e-4 * Math.max(1, Math.abs(trained[d])), `${method.name}: dimension ${d}: ${embedded.data[d]} vs ${trained[d]}`);
    });

    await t.test('save and load round-trip: identical scores and answers', async () => {
      const dir = path.join(tmp, method.name);
      model.save(dir);
      const loaded = loadRecommender(dir);
      assert.equal(loaded.method, method.name);
      assert.deepEqual(loaded.capabilities, model.capabilities);
      const a = model.rankingMatrices();
      const b = loaded.rankingMatrices();
      assert.deepEqual(b.users.data, a.users.data);
      assert.deepEqual(b.items.data, a.items.data);
      assert.deepEqual(await loaded.recommend(users, 5), await model.recommend(users, 5));
    });

    await t.test('served over HTTP: recommendations, and 501 for what the model cannot do', async () => {
      const catalog = await Catalog.open(path.join(tmp, method.name));
      const app = await buildServer(catalog, {});
      try {
        const recs = await app.inject({ method: 'GET', url: `/users/${users[0]}/recommendations?k=3` });
        assert.equal(recs.statusCode, 200, recs.body);
        assert.deepEqual(recs.json().recommendations.map((r: { id: string }) => r.id), ids(await model.recommend(users[0], 3)));
        const warm = split.itemIds.find((_, i) => split.warm[i] === 1)!;
        const similar = await app.inject({ method: 'GET', url: `/items/${warm}/similar?k=3` });
        assert.equal(similar.statusCode, model.capabilities.similarItems ? 200 : 501, similar.body);
        if (model.capabilities.similarItems) {
          assert.deepEqual(similar.json().similar.map((r: { id: string }) => r.id), ids(await model.similarItems(warm, 3)));
        } else {
          assert.equal(similar.json().operation, 'similarItems');
        }
        const health = (await app.inject({ method: 'GET', url: '/healthz' })).json();
        assert.equal(health.method, method.name);
      } finally {
        await app.close();
        await catalog.close();
      }
    });

    await t.test('deterministic at one thread for a seed; OpenBLAS\'s thread count left as it was', async () => {
      const before = native.blasThreads();
      native.setBlasThreads(3);
      let again: VasgModel;
      try {
        again = await method.fit(split, FAST[method.name]);
        assert.equal(native.blasThreads(), 3, `${method.name} changed the process's BLAS threads`);
      } finally {
        native.setBlasThreads(before);
      }
      assert.deepEqual(again.scoringMatrices().users.data, model.scoringMatrices().users.data);
      assert.deepEqual(again.scoringMatrices().items.data, model.scoringMatrices().items.data);
    });
  });
}

test('vasg train --method: any registered method from the command line, unknown names and foreign flags refused', async () => {

  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vasg.js');
  const vasg = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const data = path.join(tmp, 'cli-split');
  writeSplit(data, split);
  const unknown = vasg('train', '--method', 'nope', '--data', data, '--out', path.join(tmp, 'x'));
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, new RegExp(`unknown method "nope": the known methods are ${METHODS.map((m) => m.name).join(', ')}`));
  const foreign = vasg('train', '--method', 'bpr-mf', '--walk-length', '3', '--data', data, '--out', path.join(tmp, 'x'));
  assert.notEqual(foreign.status, 0);
  assert.match(foreign.stderr, /--walk-length does not apply to --method bpr-mf \(its options: --latent, --epochs, --lr, --reg, --batch-size, --seed, --threads\)/);
  assert.match(vasg('train', '--latent', '4', '--data', data, '--out', path.join(tmp, 'x')).stderr, /--latent does not apply to --method vasg/);
  const ease = vasg('train', '--method', 'ease', '--data', data, '--out', path.join(tmp, 'x'));
  assert.notEqual(ease.status, 0);
  assert.match(ease.stderr, /method "ease" cannot be trained: EASE is a row of "vasg experiment auc" only/);
  assert.ok(!fs.existsSync(path.join(tmp, 'x')), 'nothing written');
  const out = path.join(tmp, 'cli-bpr');
  const trained = vasg('train', '--method', 'bpr-mf', '--epochs', '3', '--latent', '4', '--threads', '1', '--data', data, '--out', out, '--json');
  assert.equal(trained.status, 0, trained.stderr);
  assert.equal(trained.stderr, '');
  assert.equal(JSON.parse(trained.stdout).method, 'bpr-mf');
  const model = loadRecommender(out);
  assert.equal(model.method, 'bpr-mf');
  assert.deepEqual(model.parts.method!.options, { ...getMethod('bpr-mf').options.reduce((o, row) => ({ ...o, [row.key]: row.default }), {}), epochs: 3, latent: 4, threads: 1 });
  const recommended = vasg('recommend', '--model', out, '--user', split.userIds[0], '-k', '3', '--json');
  assert.equal(recommended.status, 0, recommended.stderr);
  assert.deepEqual(JSON.parse(recommended.stdout).recommendations.map((r: { itemId: string }) => r.itemId), ids(await model.recommend(split.userIds[0], 3)));
});
