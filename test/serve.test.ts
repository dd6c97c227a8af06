// `vasg serve` over a real socket on a free port: every endpoint and its error paths, on a tiny model.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, prepareSplit, train, VasgModel } from '../src/index.js';
import { Catalog } from '../src/serve/catalog.js';
import { buildServer } from '../src/serve/server.js';
import type { FastifyInstance } from 'fastify';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-serve-'));
const KEY = 'secret';
let app: FastifyInstance;
let base = '';
let model: VasgModel;
let featureDim = 0;

before(async () => {
  const split = prepareSplit(generate('tiny', 1), { seed: 1 });
  ({ model } = await train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1 } }));
  featureDim = split.features.cols;
  model.save(path.join(dir, 'model'));
  fs.mkdirSync(path.join(dir, 'web'));
  fs.writeFileSync(path.join(dir, 'web', 'index.html'), '<!doctype html><title>t</title>');
  app = await buildServer(new Catalog(VasgModel.load(path.join(dir, 'model'))), { apiKey: KEY, bodyLimit: 256 * 1024, webRoot: path.join(dir, 'web') });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown, key: string | null = KEY): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['x-api-key'] = key;
  const response = await fetch(base + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* metrics are text */ }
  return { status: response.status, json, text };
}

const features = (seed: number) => Array.from({ length: featureDim }, (_, d) => Math.abs(Math.sin(seed * 7.1 + d)));

test('recommendations: k unseen products with metadata and explanations; filters applied inside the search', async () => {
  const user = model.parts.userIds[0];
  const { status, json } = await call('GET', `/users/${user}/recommendations?k=5`);
  assert.equal(status, 200);
  assert.equal(json.recommendations.length, 5);
  const u = model.userIndexOf(user);
  const seen = new Set(Array.from(model.parts.seenIndices.subarray(model.parts.seenIndptr[u], model.parts.seenIndptr[u + 1]), (i) => model.parts.itemIds[i]));
  for (const r of json.recommendations) {
    assert.ok(!seen.has(r.id), `${r.id} was bought`);
    assert.equal(typeof r.category, 'string');
    assert.ok(r.cold ? r.looksLike.length > 0 : r.because.length > 0 && r.because.every((id: string) => seen.has(id)));
  }
  // The server ranks as the library does (cosine plus the item bias of the default model), and its similar
  // products are the library's (embedding only: no bias).
  assert.ok(model.parts.itemBias, 'the default model carries an item bias');
  const library = await model.recommend(user, 5);
  assert.deepEqual(json.recommendations.map((r: { id: string }) => r.id), library.map((r) => r.itemId));
  json.recommendations.forEach((r: { score: number }, j: number) => assert.ok(Math.abs(r.score - library[j].score) < 1e-5));
  const anchor = model.parts.itemIds[1];
  const similar = (await call('GET', `/items/${anchor}/similar?k=4`)).json.similar.map((r: { id: string }) => r.id);
  assert.deepEqual(similar, (await model.similarItems(anchor, 4)).map((r) => r.itemId));
  // Excluding the top 3 still returns 5, none of them excluded.
  const top = json.recommendations.slice(0, 3).map((r: { id: string }) => r.id);
  const excluded = await call('GET', `/users/${user}/recommendations?k=5&${top.map((id: string) => `exclude=${id}`).join('&')}`);
  assert.equal(excluded.json.recommendations.length, 5);
  assert.ok(excluded.json.recommendations.every((r: { id: string }) => !top.includes(r.id)));
  // A category filter: only that category comes back, still k of them.
  const category = model.itemMeta(0).category;
  const byCategory = await call('GET', `/users/${user}/recommendations?k=3&category=${encodeURIComponent(category)}`);
  assert.equal(byCategory.json.recommendations.length, 3);
  assert.ok(byCategory.json.recommendations.every((r: { category: string }) => r.category === category));
  const warmOnly = await call('GET', `/users/${user}/recommendations?k=10&include_cold=false`);
  assert.ok(warmOnly.json.recommendations.every((r: { cold: boolean }) => !r.cold));
});

test('availability: a sold-out product is never recommended until it is back', async () => {
  const user = model.parts.userIds[1];
  const first = (await call('GET', `/users/${user}/recommendations?k=1`)).json.recommendations[0].id;
  assert.equal((await call('PATCH', `/items/${first}`, { available: false })).json.available, false);
  const after = await call('GET', `/users/${user}/recommendations?k=1`);
  assert.notEqual(after.json.recommendations[0].id, first);
  // Nor shown as a similar product (skipped inside the search: still k results).
  const anchor = model.parts.itemIds[5];
  const similar = (await call('GET', `/items/${anchor}/similar?k=3`)).json.similar.map((r: { id: string }) => r.id);
  await call('PATCH', `/items/${similar[0]}`, { available: false });
  const similarAfter = (await call('GET', `/items/${anchor}/similar?k=3`)).json.similar.map((r: { id: string }) => r.id);
  assert.equal(similarAfter.length, 3);
  assert.ok(!similarAfter.includes(similar[0]), `${similar[0]} is sold out`);
  assert.deepEqual(similarAfter.slice(0, 2), similar.slice(1));
  await call('PATCH', `/items/${similar[0]}`, { available: true });
  await call('PATCH', `/items/${first}`, { available: true });
  assert.equal((await call('GET', `/users/${user}/recommendations?k=1`)).json.recommendations[0].id, first);
});

test('POST /items adds a cold product that is searchable at once; a replace keeps the catalog size', async () => {
  const before = (await call('GET', '/healthz')).json.items;
  const added = await call('POST', '/items', { items: [{ id: 'new-1', title: 'New', category: 'c-new', image_url: 'http://x/1.jpg', features: features(1) }] });
  assert.equal(added.status, 200, added.text);
  assert.equal(added.json.catalog_size, before + 1);
  const item = await call('GET', '/items/new-1');
  assert.deepEqual([item.json.title, item.json.category, item.json.imageUrl, item.json.cold], ['New', 'c-new', 'http://x/1.jpg', true]);
  // Only that category: the new product is the one recommended.
  const recs = await call('GET', `/users/${model.parts.userIds[0]}/recommendations?k=3&category=c-new`);
  assert.deepEqual(recs.json.recommendations.map((r: { id: string }) => r.id), ['new-1']);
  // Its own features query finds it first.
  const query = await call('POST', '/query', { features: features(1), k: 1 });
  assert.equal(query.json.results[0].id, 'new-1');
  await call('POST', '/items', { items: [{ id: 'new-1', features: features(2) }] });
  assert.equal((await call('GET', '/healthz')).json.items, before + 1);
  const similar = await call('GET', '/items/new-1/similar?k=4');
  assert.equal(similar.json.similar.length, 4);
  assert.ok(similar.json.similar.every((r: { id: string }) => r.id !== 'new-1'));
});

test('fold-in users, anonymous baskets and analogies', async () => {
  const items = model.parts.itemIds.slice(0, 3);
  assert.equal((await call('POST', '/users/newcomer/events', { items })).status, 200);
  const recs = await call('GET', '/users/newcomer/recommendations?k=4');
  assert.equal(recs.json.recommendations.length, 4);
  assert.ok(recs.json.recommendations.every((r: { id: string }) => !items.includes(r.id)));
  const basket = await call('POST', '/recommendations', { items, k: 4 });
  assert.deepEqual(basket.json.recommendations.map((r: { id: string }) => r.id), recs.json.recommendations.map((r: { id: string }) => r.id));
  const [u1, u2] = model.parts.userIds;
  const analogy = await call('POST', '/query', { analogy: { product: items[0], from_user: u1, to_user: u2 }, k: 3 });
  assert.equal(analogy.json.results.length, 3);
  // The analogy is the query X_p1 − X_u1 + X_u2 over the model's own vectors: the same answer as that vector sent as such.
  const dim = model.config.dim;
  const row = (m: { data: Float32Array }, i: number) => m.data.subarray(i * dim, (i + 1) * dim);
  const [p1, x1, x2] = [row(model.parts.items, model.itemIndexOf(items[0])), row(model.parts.users, model.userIndexOf(u1)), row(model.parts.users, model.userIndexOf(u2))];
  const vector = Array.from(p1, (v, d) => v - x1[d] + x2[d]);
  const direct = await call('POST', '/query', { vector, k: 3 });
  assert.deepEqual(analogy.json.results.map((r: { id: string }) => r.id), direct.json.results.map((r: { id: string }) => r.id));
  for (const [j, r] of analogy.json.results.entries()) assert.ok(Math.abs(r.score - direct.json.results[j].score) < 1e-5);
  const scores = analogy.json.results.map((r: { score: number }) => r.score);
  assert.deepEqual(scores, [...scores].sort((a: number, b: number) => b - a), 'best first');
});

test('users by prefix, a user\'s purchases, the users a product would be recommended to', async () => {
  const first = model.parts.userIds[0];
  const prefix = first.slice(0, Math.max(1, first.length - 1));
  const found = await call('GET', `/users?prefix=${encodeURIComponent(prefix)}&limit=3`);
  assert.equal(found.status, 200);
  const matching = model.parts.userIds.filter((id) => id.startsWith(prefix));
  assert.deepEqual(found.json, { users: matching.slice(0, 3), total: matching.length });
  assert.deepEqual((await call('GET', '/users?prefix=no-such-user')).json, { users: [], total: 0 });
  const u = model.userIndexOf(first);
  const bought = Array.from(model.parts.seenIndices.subarray(model.parts.seenIndptr[u], model.parts.seenIndptr[u + 1]), (i) => model.parts.itemIds[i]);
  const history = await call('GET', `/users/${first}`);
  assert.deepEqual(history.json.purchases.map((p: { id: string }) => p.id), bought);
  assert.equal(typeof history.json.purchases[0].category, 'string');
  // The top users of a product are those whose recommendation score for it is highest, buyers excluded.
  const item = bought[0];
  const top = await call('GET', `/items/${item}/users?k=4`);
  assert.equal(top.status, 200);
  assert.equal(top.json.users.length, 4);
  const { users, items } = model.scoringMatrices();
  const i = model.itemIndexOf(item);
  const score = (v: number) => { let s = 0; for (let d = 0; d < users.cols; d++) s += users.data[v * users.cols + d] * items.data[i * items.cols + d]; return s; };
  const buyers = new Set(model.parts.userIds.filter((_, v) => model.parts.seenIndices.subarray(model.parts.seenIndptr[v], model.parts.seenIndptr[v + 1]).includes(i)));
  const expected = model.parts.userIds.map((id, v) => ({ id, s: score(v) })).filter((x) => !buyers.has(x.id)).sort((a, b) => b.s - a.s).slice(0, 4);
  assert.deepEqual(top.json.users.map((x: { id: string }) => x.id), expected.map((x) => x.id));
  assert.ok(top.json.users.every((x: { score: number }, j: number) => Math.abs(x.score - expected[j].s) < 1e-4));
});

test('map: a deterministic PCA projection of products and users, with included products', async () => {
  const extra = model.parts.itemIds[model.parts.itemIds.length - 1];
  const map = await call('GET', `/map?limit=5&include=${extra}`);
  assert.equal(map.status, 200);
  const items = map.json.points.filter((p: { kind: string }) => p.kind === 'item');
  const users = map.json.points.filter((p: { kind: string }) => p.kind === 'user');
  assert.equal(users.length, 5);
  assert.ok(items.length === 5 || items.length === 6);
  assert.ok(items.some((p: { id: string }) => p.id === extra));
  assert.ok(map.json.points.every((p: { x: number; y: number }) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  assert.ok(map.json.explained[0] >= map.json.explained[1] && map.json.explained[0] + map.json.explained[1] <= 1 + 1e-9);
  assert.deepEqual((await call('GET', `/map?limit=5&include=${extra}`)).json, map.json);
  // A wide sample spreads out along both axes.
  const wide = (await call('GET', '/map')).json.points;
  const spread = (axis: 'x' | 'y') => Math.max(...wide.map((p: Record<string, number>) => p[axis])) - Math.min(...wide.map((p: Record<string, number>) => p[axis]));
  assert.ok(spread('x') > 0 && spread('y') > 0);
  // The map is cached per size until a product is written: a replaced product shows its new category.
  const all = async () => (await call('GET', '/map?limit=20000')).json.points.find((p: { id: string }) => p.id === extra);
  assert.deepEqual(await all(), await all());
  assert.equal((await call('POST', '/items', { items: [{ id: extra, category: 'c-map', features: features(4) }] })).status, 200);
  assert.equal((await all()).category, 'c-map');
});

test('errors: 400 names the field, 404 for unknown ids, 401 for writes without the key (reads need none), 413 over the body limit', async () => {
  const badK = await call('GET', `/users/${model.parts.userIds[0]}/recommendations?k=0`);
  assert.equal(badK.status, 400);
  assert.match(badK.json.field, /querystring\.k/);
  const missing = await call('POST', '/items', { items: [{ id: 'x' }] });
  assert.equal(missing.status, 400);
  assert.match(missing.json.field, /body\.items\.0\.features/);
  const width = await call('POST', '/items', { items: [{ id: 'w0', features: features(1) }, { id: 'x', features: [1, 2] }] });
  assert.equal(width.status, 400);
  assert.equal(width.json.field, 'body.items.1.features');
  assert.match(width.json.error, /\(item "x"\): 2 feature values, the model's encoder takes I = \d+/);
  assert.equal((await call('GET', '/items/w0')).status, 404, 'nothing of a refused request is added');
  assert.equal((await call('POST', '/query', { features: [1, 2] })).json.field, 'body.features');
  assert.equal((await call('GET', '/users/nobody/recommendations')).status, 404);
  assert.equal((await call('GET', '/items/nothing/similar')).status, 404);
  assert.equal((await call('PATCH', '/items/nothing', { available: false })).status, 404);
  assert.equal((await call('POST', '/recommendations', { items: ['nothing'] })).status, 404);
  assert.equal((await call('POST', '/items', { items: [{ id: 'y', features: features(3) }] }, null)).status, 401);
  assert.equal((await call('POST', '/items', { items: [{ id: 'y', features: features(3) }] }, 'wrong')).status, 401);
  assert.equal((await call('GET', '/items/y')).status, 404, 'a refused write changed nothing');
  assert.equal((await call('PATCH', `/items/${model.parts.itemIds[0]}`, { available: false }, null)).status, 401);
  assert.equal((await call('GET', `/items/${model.parts.itemIds[0]}`)).json.available, true);
  assert.equal((await call('POST', '/users/keyless/events', { items: [model.parts.itemIds[0]] }, null)).status, 401);
  assert.equal((await call('GET', '/users/keyless')).status, 404);
  // Reads that take a body need no key.
  assert.equal((await call('POST', '/query', { features: features(1), k: 2 }, null)).status, 200);
  assert.equal((await call('POST', '/recommendations', { items: [model.parts.itemIds[0]], k: 2 }, null)).status, 200);
  const bearer = await fetch(`${base}/items/${model.parts.itemIds[0]}`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: '{"available":true}' });
  assert.equal(bearer.status, 200);
  const big = await call('POST', '/items', { items: [{ id: 'z', features: new Array(100000).fill(0.123456789) }] });
  assert.equal(big.status, 413);
  assert.equal((await call('POST', '/query', { vector: [1, 2, 3] })).status, 400);
  assert.equal((await call('GET', '/users/nobody')).status, 404);
  assert.equal((await call('GET', '/items/nothing/users')).status, 404);
  assert.match((await call('GET', '/users?limit=0')).json.field, /querystring\.limit/);
  assert.match((await call('GET', '/map?limit=0')).json.field, /querystring\.limit/);
});

test('concurrent adds while querying: every query answers, every add lands', async () => {
  const user = model.parts.userIds[2];
  const work: Array<Promise<{ status: number }>> = [];
  for (let j = 0; j < 20; j++) {
    work.push(call('POST', '/items', { items: [{ id: `burst-${j}`, features: features(10 + j) }] }));
    work.push(call('GET', `/users/${user}/recommendations?k=5`));
  }
  const results = await Promise.all(work);
  assert.ok(results.every((r) => r.status === 200));
  for (let j = 0; j < 20; j++) assert.equal((await call('GET', `/items/burst-${j}`)).status, 200);
});

test('the web folder is served at /', async () => {
  const page = await call('GET', '/');
  assert.equal(page.status, 200);
  assert.match(page.text, /<title>t<\/title>/);
});

test('healthz, metrics and the OpenAPI document', async () => {
  const health = await call('GET', '/healthz');
  assert.equal(health.json.ok, true);
  const metrics = await call('GET', '/metrics');
  assert.match(metrics.text, /vasg_requests_total\{method="GET",route="\/users\/:id\/recommendations",status="200"\} \d+/);
  assert.match(metrics.text, /vasg_request_duration_seconds_bucket\{.*le="\+Inf"\}/);
  assert.match(metrics.text, new RegExp(`vasg_catalog_items ${health.json.items}`));
  const doc = (await call('GET', '/openapi.json')).json;
  assert.equal(doc.openapi, '3.0.3');
  assert.deepEqual(Object.keys(doc.paths).sort(), ['/admin/reload', '/experiment', '/healthz', '/items', '/items/{id}', '/items/{id}/similar', '/items/{id}/users', '/map', '/metrics', '/openapi.json', '/query', '/recommendations', '/users', '/users/{id}', '/users/{id}/events', '/users/{id}/recommendations']);
});

test('the CLI binds 127.0.0.1 by default and answers', async () => {
  const child = spawn(process.execPath, [path.join(root, 'bin/vasg.js'), 'serve', '--model', path.join(dir, 'model'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => { out += chunk; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await (await fetch(`${address}/healthz`)).json()).ok, true);
  } finally {
    // Wait for the clean stop, so that the model directory is not removed under it.
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }
});

test('--index hnsw: products added through the catalog are searchable at once, as with exact search', async () => {
  const [hnsw, exact] = (['hnsw', 'exact'] as const).map((kind) => new Catalog(VasgModel.load(path.join(dir, 'model')), kind));
  for (const catalog of [hnsw, exact]) await catalog.addItems([{ id: 'hnsw-new', category: 'only-new', features: features(99) }]);
  const ids = async (catalog: Catalog) => (await catalog.similar('hnsw-new', 5)).map((r) => r.id);
  assert.deepEqual(await ids(hnsw), await ids(exact));
  const onlyNew = await hnsw.recommend(model.parts.userIds[0], 3, { categories: ['only-new'] });
  assert.deepEqual(onlyNew.map((r) => r.id), ['hnsw-new']);
});

test('item metadata from the data set is kept by save/load', () => {
  const loaded = VasgModel.load(path.join(dir, 'model'));
  assert.deepEqual(loaded.itemMeta(3), model.itemMeta(3));
  assert.ok(loaded.itemMeta(3).category.length > 0);
});

test('a cold product\'s "looks like" stays the same between writes and follows a product write', async () => {
  const user = model.parts.userIds[3];
  const coldOne = async (id?: string) => {
    const recs = (await call('GET', `/users/${user}/recommendations?k=100`)).json.recommendations as Array<{ id: string; cold: boolean; looksLike?: string[] }>;
    // A cold product of the data set (not one posted by the tests above).
    return recs.find((r) => (id === undefined ? r.cold && model.parts.itemIds.includes(r.id) : r.id === id))!;
  };
  const first = await coldOne();
  assert.equal(first.looksLike?.length, 2);
  assert.deepEqual((await coldOne(first.id)).looksLike, first.looksLike, 'the same answer from the cache');
  // The nearest warm product is replaced by a new (cold) one: it is no longer warm, so no longer "looked like".
  const replaced = first.looksLike![0];
  assert.equal((await call('POST', '/items', { items: [{ id: replaced, features: features(77) }] })).status, 200);
  const after = await coldOne(first.id);
  assert.equal(after.looksLike?.length, 2);
  assert.ok(!after.looksLike!.includes(replaced), `${replaced} is cold now`);
  assert.equal(after.looksLike![0], first.looksLike![1], 'the second nearest moves up');
});
