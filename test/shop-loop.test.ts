// The training side of the shop's loop (docs/shop-loop.md): typed events and their weights, incremental retraining
// from a previous model, export of what a running server logged, and the replay experiment.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset, writeDataset } from '../src/data/dataset.js';
import { generate } from '../src/data/generate.js';
import { addBrowsing } from '../src/data/browse.js';
import { pairWeights, parseEventWeights } from '../src/data/events.js';
import { prepareSplit } from '../src/data/split.js';
import { productionSplit } from '../src/data/production.js';
import { resolveConfig } from '../src/model/config.js';
import { weighEvents, trainVasg } from '../src/model/train.js';
import { startingPoint, INCREMENTAL_SCHEDULE } from '../src/model/incremental.js';
import { retrainVasg } from '../src/methods/vasg.js';
import { replayExperiment } from '../src/experiments/replay.js';
import { ConfigError } from '../src/errors.js';
import type { Dataset } from '../src/data/types.js';
import { silentProgress } from '../src/progress.js';
import { gatherFeatures } from '../src/data/features.js';
import { widenFeatures } from '../src/data/features.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-loop-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const bin = path.resolve('bin/vasg.js');
const at = (name: string) => path.join(dir, name);
const vasg = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const FAST = { threads: 1, seed: 1, dim: 16, hidden: [32], rankEpochs: 5, walksPerNode: 5 };

let tiny: Dataset;
before(() => {
  tiny = generate('tiny', 3);
});

test('import table --type-col: event types per pair (merged), written and read back; a type without a weight names its line', () => {
  fs.writeFileSync(at('log.csv'), 'uid,sku,kind,t\n' + [
    'u1,a,purchase,100', 'u1,b,view,200', 'u1,b,cart,300', 'u2,a,view,100', 'u2,c,,150', 'u2,b,purchase,400', 'u3,c,wishlist,500', 'u3,a,purchase,600',
  ].join('\n') + '\n');
  fs.writeFileSync(at('items.csv'), 'item_id,vec\na,"[1,0]"\nb,"[0,1]"\nc,"[1,1]"\n');
  const run = vasg(['import', 'table', '--interactions', at('log.csv'), '--user-col', 'uid', '--item-col', 'sku', '--time-col', 't', '--type-col', 'kind',
    '--items', at('items.csv'), '--vector-col', 'vec', '--out', at('typed'), '--json']);
  assert.equal(run.status, 0, run.stderr);
  const { dataset } = loadDataset(at('typed'));
  const events = dataset.interactions.events!;
  assert.ok(events, 'the data set has event types');
  const typesOf = (user: string, item: string) => {
    const k = Array.from(dataset.interactions.users.keys()).find((j) => dataset.userIds[dataset.interactions.users[j]] === user && dataset.itemIds[dataset.interactions.items[j]] === item)!;
    return events.typeNames.filter((_, t) => (events.types[k] >>> t) & 1).sort();
  };
  assert.deepEqual(typesOf('u1', 'b'), ['cart', 'view'], 'two events of one pair merge into one typed pair');
  assert.deepEqual(typesOf('u2', 'c'), ['purchase'], 'an empty type is a purchase');
  assert.equal(dataset.interactions.users.length, 7);
  assert.match(fs.readFileSync(at('typed/interactions.csv'), 'utf8'), /^user_id,item_id,rating,timestamp,event_type\n/);

  // Weights: the strongest type of a pair; a type missing from --event-weights is an error naming where it was first seen.
  const weights = { eventWeights: parseEventWeights('purchase=1,cart=0.5,view=0.05,wishlist=0.3'), halfLifeDays: 0 };
  const w = pairWeights(dataset.interactions, weights);
  const k = Array.from(dataset.interactions.users.keys()).find((j) => dataset.userIds[dataset.interactions.users[j]] === 'u1' && dataset.itemIds[dataset.interactions.items[j]] === 'b')!;
  assert.equal(w[k], 0.5);
  assert.throws(() => pairWeights(dataset.interactions, { eventWeights: { purchase: 1, cart: 0.5, view: 0.05 }, halfLifeDays: 0 }),
    (error: Error) => error instanceof ConfigError && /interactions\.csv:\d+: event type "wishlist" has no weight in --event-weights/.test(error.message));
  // The same refusal from `vasg train`, before any training.
  const train = vasg(['train', '--data', at('typed'), '--out', at('typed-model'), '--event-weights', 'purchase=1,view=0.1,cart=0.5', '--threads', '1']);
  assert.notEqual(train.status, 0);
  assert.match(train.stderr, /interactions\.csv:\d+: event type "wishlist" has no weight/);
  assert.ok(!fs.existsSync(at('typed-model')), 'nothing written');
  assert.match(vasg(['train', '--data', at('typed'), '--out', at('x'), '--event-weights', 'purchase=one']).stderr, /--event-weights.*type=weight/);
});

test('half-life decay: an event one half-life older than the newest counts half; no timestamp, no decay', () => {
  const interactions = {
    users: Int32Array.of(0, 0, 1), items: Int32Array.of(0, 1, 0), ratings: Float32Array.of(1, 1, 1), timestamps: Float64Array.of(10 * 86400, 3 * 86400, NaN),
  };
  const w = pairWeights(interactions, { eventWeights: { purchase: 1 }, halfLifeDays: 7 });
  assert.deepEqual(Array.from(w, (x) => Number(x.toFixed(6))), [1, 0.5, 1]);
});

test('generated views and carts: typed pairs beside the purchases, test pairs are purchases only, weight 0 leaves a type out', () => {
  const browsing = addBrowsing(tiny, { viewsPerPurchase: 2, cartsPerPurchase: 0.5 }, 3);
  const again = addBrowsing(tiny, { viewsPerPurchase: 2, cartsPerPurchase: 0.5 }, 3);
  assert.deepEqual(again.interactions.items, browsing.interactions.items, 'deterministic in the seed');
  const events = browsing.interactions.events!;
  const count = (name: string) => events.types.filter((m) => (m >>> events.typeNames.indexOf(name)) & 1).length;
  assert.equal(count('purchase'), tiny.interactions.users.length);
  assert.ok(count('view') > 1.5 * count('purchase') && count('cart') > 0.3 * count('purchase'), `${count('view')} views, ${count('cart')} carts`);
  const split = prepareSplit(browsing, { seed: 1 });
  const testPairs = new Set(Array.from(split.test.users, (u, j) => `${split.userIds[u]} ${split.itemIds[split.test.items[j]]}`));
  const purchases = new Set(Array.from(tiny.interactions.users, (u, k) => `${tiny.userIds[u]} ${tiny.itemIds[tiny.interactions.items[k]]}`));
  for (const pair of testPairs) assert.ok(purchases.has(pair), `test pair ${pair} is a purchase`);
  const purchasesOnly = weighEvents(split, resolveConfig({ eventWeights: { purchase: 1, cart: 0, view: 0 } }));
  assert.ok(purchasesOnly.split.train.users.length < split.train.users.length / 2, 'views and carts left out');
  assert.ok(purchasesOnly.split.pairWeights!.every((x) => Math.abs(x - 1) < 1e-6));
  const weighted = weighEvents(split, resolveConfig({}));
  assert.equal(weighted.split.train.users.length, split.train.users.length);
  assert.equal(weighted.config.weightedWalks, true);
});

/** Tiny without one user's purchases and without every purchase of one product: the "before" of a retrain. */
function withheld(dataset: Dataset, userId: string, itemId: string): Dataset {
  const u = dataset.userIds.indexOf(userId);
  const i = dataset.itemIds.indexOf(itemId);
  const keep = Array.from(dataset.interactions.users.keys()).filter((k) => dataset.interactions.users[k] !== u && dataset.interactions.items[k] !== i);
  const src = dataset.interactions;
  const keepItems = dataset.itemIds.map((_, j) => j).filter((j) => j !== i);
  const newItem = new Int32Array(dataset.itemIds.length).fill(-1);
  keepItems.forEach((j, r) => (newItem[j] = r));
  const cols = dataset.features.cols;
  return {
    userIds: dataset.userIds,
    itemIds: keepItems.map((j) => dataset.itemIds[j]),
    items: keepItems.map((j) => dataset.items[j]),
    features: { data: Float32Array.from(keepItems.flatMap((j) => Array.from(widenFeatures(dataset.features).data.subarray(j * cols, (j + 1) * cols)))), rows: keepItems.length, cols },
    interactions: {
      users: Int32Array.from(keep, (k) => src.users[k]), items: Int32Array.from(keep, (k) => newItem[src.items[k]]),
      ratings: Float32Array.from(keep, (k) => src.ratings[k]), timestamps: Float64Array.from(keep, (k) => src.timestamps[k]),
    },
  };
}

test('--init-from: known products start from the old vectors, a new product from the encoder, a new user from their products; both get sensible answers', async () => {
  // The most popular product comes back as the "new" one; the "new user" is an existing user's twin history.
  const counts = new Int32Array(tiny.itemIds.length);
  for (const i of tiny.interactions.items) counts[i]++;
  const popular = tiny.itemIds[counts.indexOf(Math.max(...counts))];
  const newUser = tiny.userIds[5];
  const before = productionSplit(withheld(tiny, newUser, popular));
  const old = (await trainVasg(before, resolveConfig(FAST), silentProgress)).model;
  const now = productionSplit(tiny);
  const config = resolveConfig({ ...FAST, ...INCREMENTAL_SCHEDULE, rankEpochs: FAST.rankEpochs });
  const { start, report } = startingPoint(old, now, config);
  // The twin, and light users whose only purchase was the withheld product.
  const newUsers = now.userIds.filter((id) => !before.userIds.includes(id)).length;
  assert.ok(newUsers >= 1);
  assert.deepEqual(report, { keptUsers: now.userIds.length - newUsers, newUsers, keptItems: now.itemIds.length - 1, newItems: 1 });
  // Touched (extra walks start there): exactly the users and products of the pairs the old model was not trained on.
  const oldPairs = new Set(Array.from(before.train.users, (u, e) => `${before.userIds[u]}\t${before.itemIds[before.train.items[e]]}`));
  const touchedUsers = new Set<number>(), touchedItems = new Set<number>();
  now.train.users.forEach((u, e) => {
    if (oldPairs.has(`${now.userIds[u]}\t${now.itemIds[now.train.items[e]]}`)) return;
    touchedUsers.add(u);
    touchedItems.add(now.train.items[e]);
  });
  const marked = (mask: Uint8Array) => Array.from(mask.keys()).filter((k) => mask[k] === 1);
  assert.deepEqual(marked(start.touched.users), [...touchedUsers].sort((a, b) => a - b));
  assert.deepEqual(marked(start.touched.items), [...touchedItems].sort((a, b) => a - b));
  assert.ok(touchedItems.has(now.itemIds.indexOf(popular)) && touchedUsers.has(now.userIds.indexOf(newUser)));
  const dim = config.dim;
  const row = (m: { data: Float32Array }, r: number) => Array.from(m.data.subarray(r * dim, (r + 1) * dim));
  const known = now.itemIds.findIndex((id) => id !== popular);
  assert.deepEqual(row(start.items, known), row(old.parts.items, old.parts.itemIds.indexOf(now.itemIds[known])), 'an untouched product starts at its old vector');
  const p = now.itemIds.indexOf(popular);
  const embedded = await old.embedFeatures({ data: gatherFeatures(now.features, [p]), rows: 1, cols: now.features.cols });
  assert.deepEqual(row(start.items, p).map((x) => x.toFixed(5)), Array.from(embedded.data, (x) => x.toFixed(5)), 'a new product starts at the encoder output');
  const u = now.userIds.indexOf(newUser);
  const bought = Array.from(now.train.users.keys()).filter((e) => now.train.users[e] === u).map((e) => now.train.items[e]);
  const meanVector = Array.from({ length: dim }, (_, d) => bought.reduce((s, i) => s + start.items.data[i * dim + d], 0) / bought.length);
  row(start.users, u).forEach((x, d) => assert.ok(Math.abs(x - meanVector[d]) < 1e-5), 'a new user starts at the mean of their products');

  const retrained = await retrainVasg(old, now, { ...FAST });
  assert.equal((retrained.info as { initFrom: { newUsers: number } }).initFrom.newUsers, newUsers);
  // The new product is now warm, and its buyers score it above the users who did not buy it.
  const pRow = retrained.parts.itemIds.indexOf(popular);
  assert.equal(retrained.parts.cold[pRow], 0);
  // The similar-items distance is carried over, not refitted: the same Y places every product of the new run.
  assert.equal(start.similarProjection, old.parts.similarSpace!.projection);
  const Y = retrained.parts.similarSpace!;
  assert.deepEqual(Array.from(Y.projection.data), Array.from(old.parts.similarSpace!.projection.data));
  assert.equal(Y.rows.rows, retrained.parts.itemIds.length);
  const { users: U, items: P } = retrained.scoringMatrices();
  const score = (r: number) => row(U, r).reduce((sum, x, d) => sum + x * P.data[pRow * dim + d], 0);
  const buyers = new Set(Array.from(now.train.users.keys()).filter((e) => now.train.items[e] === p).map((e) => retrained.parts.userIds.indexOf(now.userIds[now.train.users[e]])));
  const yes = [...buyers].map(score);
  const no = retrained.parts.userIds.map((_, r) => r).filter((r) => !buyers.has(r)).map(score);
  const auc = yes.reduce((sum, a) => sum + no.filter((b) => a > b).length, 0) / (yes.length * no.length);
  assert.ok(auc > 0.75, `the new product separates its ${yes.length} buyers from the others with AUC ${auc.toFixed(3)}`);
  // The new user's list scores their own held-out taste: it ranks the products bought by users most like them above random.
  const mine = await retrained.recommend(newUser, 10);
  assert.equal(mine.length, 10);
  assert.ok(mine.every((r) => !bought.map((i) => now.itemIds[i]).includes(r.itemId)), 'never a product they bought');
  const truth = tiny.truth!;
  const D = truth.users.cols;
  const uTrue = tiny.userIds.indexOf(newUser);
  const trueScore = (id: string) => {
    const i = tiny.itemIds.indexOf(id);
    let s = 0;
    for (let d = 0; d < D; d++) s += truth.users.data[uTrue * D + d] * truth.items.data[i * D + d];
    return s;
  };
  const all = tiny.itemIds.map(trueScore).sort((a, b) => a - b);
  const median = all[Math.floor(all.length / 2)];
  const above = mine.filter((r) => trueScore(r.itemId) > median).length;
  assert.ok(above >= 7, `${above} of the new user's 10 recommendations are above the median of their true scores`);
});

test('--init-from from the command line: VASG only, the model\'s shape kept', () => {
  writeDataset(at('tiny'), tiny);
  assert.equal(vasg(['train', '--data', at('tiny'), '--out', at('m0'), '--threads', '1', '--dim', '16', '--hidden', '32', '--rank-epochs', '2']).status, 0);
  const refused = vasg(['train', '--data', at('tiny'), '--out', at('m1'), '--init-from', at('m0'), '--method', 'bpr-mf']);
  assert.match(refused.stderr, /--init-from works with --method vasg only/);
  assert.match(vasg(['train', '--data', at('tiny'), '--out', at('m1'), '--init-from', at('m0'), '--dim', '32']).stderr, /dim is 32 but the model was trained with 16/);
  const ok = vasg(['train', '--data', at('tiny'), '--out', at('m1'), '--init-from', at('m0'), '--threads', '1', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  const summary = JSON.parse(ok.stdout) as { initFrom: { newUsers: number; keptItems: number } };
  assert.equal(summary.initFrom.newUsers, 0);
  assert.equal(summary.initFrom.keptItems, tiny.itemIds.length);
});

async function serve(modelDir: string) {
  const child = spawn(process.execPath, [bin, 'serve', '--model', modelDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { child, address };
}

test('export-events: a product and events posted to a running vasg serve appear in the exported data set, which trains --init-from', async () => {
  writeDataset(at('shop'), tiny);
  assert.equal(vasg(['train', '--data', at('shop'), '--out', at('served'), '--threads', '1', '--dim', '16', '--hidden', '32', '--rank-epochs', '2']).status, 0);
  const { child, address } = await serve(at('served'));
  try {
    const post = (route: string, body: unknown) => fetch(`${address}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const features = Array.from({ length: tiny.features.cols }, (_, d) => (d % 3) / 3);
    assert.equal((await post('/items', { items: [{ id: 'NEW-1', title: 'New dress', category: 'Dresses', features }] })).status, 200);
    assert.equal((await post('/users/walk-in/events', { items: ['NEW-1', tiny.itemIds[0]] })).status, 200);
    assert.equal((await post(`/users/${tiny.userIds[0]}/events`, { items: ['NEW-1'] })).status, 200);
    // Exported while the server runs: the log is read, never changed.
    const logSize = fs.statSync(`${at('served')}.writes.log`).size;
    const run = vasg(['export-events', '--model', at('served'), '--out', at('next'), '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.statSync(`${at('served')}.writes.log`).size, logSize);
    const report = JSON.parse(run.stdout) as { addedProducts: number; events: number; newPairs: number; newUsers: number };
    assert.deepEqual([report.addedProducts, report.events, report.newPairs, report.newUsers], [1, 3, 3, 1]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
  }
  const { dataset } = loadDataset(at('next'));
  const item = dataset.itemIds.indexOf('NEW-1');
  assert.ok(item >= 0);
  assert.equal(dataset.items[item].title, 'New dress');
  assert.deepEqual(Array.from(widenFeatures(dataset.features).data.subarray(item * dataset.features.cols, item * dataset.features.cols + 3)).map((x) => x.toFixed(4)), ['0.0000', '0.3333', '0.6667']);
  const pairs = new Set(Array.from(dataset.interactions.users, (u, k) => `${dataset.userIds[u]} ${dataset.itemIds[dataset.interactions.items[k]]}`));
  for (const pair of ['walk-in NEW-1', `walk-in ${tiny.itemIds[0]}`, `${tiny.userIds[0]} NEW-1`]) assert.ok(pairs.has(pair), pair);
  assert.equal(dataset.interactions.users.length, tiny.interactions.users.length + 3);
  const newTime = dataset.interactions.timestamps[Array.from(dataset.interactions.items).indexOf(item)];
  assert.ok(Math.abs(newTime - Date.now() / 1000) < 3600, 'events keep the time they were logged');
  // The loop closes: the next model starts from the served one.
  const next = vasg(['train', '--data', at('next'), '--out', at('served-2'), '--init-from', at('served'), '--threads', '1', '--json']);
  assert.equal(next.status, 0, next.stderr);
  assert.deepEqual((JSON.parse(next.stdout) as { initFrom: { newUsers: number } }).initFrom.newUsers, 1);
  // A model directory without a recorded data set asks for --data.
  const manifest = JSON.parse(fs.readFileSync(at('served/manifest.json'), 'utf8'));
  delete manifest.info.dataDir;
  fs.writeFileSync(at('served/manifest.json'), JSON.stringify(manifest));
  assert.match(vasg(['export-events', '--model', at('served'), '--out', at('next-2')]).stderr, /pass --data DATASET/);
  // The server compacted its writes into the directory when it stopped: the export reads them from there now.
  assert.equal(fs.existsSync(`${at('served')}.writes.log`) ? fs.statSync(`${at('served')}.writes.log`).size : 0, 0);
  const again = vasg(['export-events', '--model', at('served'), '--out', at('next-2'), '--data', at('shop'), '--json']);
  assert.equal(again.status, 0, again.stderr);
  const compacted = JSON.parse(again.stdout) as { addedProducts: number; events: number; newPairs: number; newUsers: number };
  assert.deepEqual([compacted.addedProducts, compacted.events, compacted.newPairs, compacted.newUsers], [1, 3, 3, 1]);
  const fromState = loadDataset(at('next-2')).dataset;
  const row = fromState.itemIds.indexOf('NEW-1');
  assert.deepEqual(Array.from(widenFeatures(fromState.features).data.subarray(row * fromState.features.cols, row * fromState.features.cols + 3)).map((x) => x.toFixed(4)), ['0.0000', '0.3333', '0.6667']);
});

test('replay on tiny: rounds of scratch and incremental retraining, each evaluated on the next batch; the CLI prints the table', async () => {
  const result = await replayExperiment(tiny, { batches: 3, initialFraction: 0.8, config: resolveConfig(FAST), incremental: {} });
  assert.equal(result.rounds.length, 2);
  assert.equal(result.initialPairs + result.batchPairs.reduce((a, b) => a + b, 0), tiny.interactions.users.length);
  for (const round of result.rounds) {
    assert.ok(round.testWarm > 0);
    for (const q of [round.scratch, round.incremental]) {
      assert.ok(q.auc.warm > 0.6 && q.auc.warm <= 1, `AUC ${q.auc.warm}`);
      assert.ok(q.seconds > 0);
    }
  }
  assert.equal(typeof result.summary.goal.met, 'boolean');
  // The rows (what docs:results renders): each arm's mean over the rounds.
  const [full, incremental] = result.rows;
  assert.deepEqual([full.method, incremental.method], ['full retraining', 'incremental']);
  const meanOf = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(incremental.combined.mean - meanOf(result.rounds.map((r) => r.incremental.auc.combined))) < 1e-12);
  assert.ok(Math.abs(full['recall@20'].warm.mean - meanOf(result.rounds.map((r) => r.scratch.recall20.warm))) < 1e-12);
  const cli = vasg(['experiment', 'replay', '--data', at('tiny'), '--batches', '3', '--threads', '1', '--dim', '16', '--hidden', '32', '--rank-epochs', '2']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /\| 2 \| incremental \|/);
  assert.match(cli.stdout, /goal (met|not met)/);
  const json = JSON.parse(vasg(['experiment', 'replay', '--data', at('tiny'), '--batches', '3', '--threads', '1', '--dim', '16', '--hidden', '32', '--rank-epochs', '2', '--json']).stdout);
  assert.match(json.provenance.command, /^vasg experiment replay --data /);
  assert.equal(json.provenance.data.items, tiny.itemIds.length);
  assert.match(vasg(['experiment', 'replay', 'auc', '--data', at('tiny')]).stderr, /replay runs alone/);
});
