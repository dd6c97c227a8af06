// The serving side of the shop's loop: typed events and their weights, reload of a newly trained model
// (writes carried over, a failed reload leaving the old model serving, compaction never overwriting a new
// model), and the fallback lists for users the model has never seen.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, prepareSplit, train, VasgModel } from '../src/index.js';
import { Catalog } from '../src/serve/catalog.js';
import { parseServedEventWeights, checkEvents, DEFAULT_EVENT_WEIGHTS, resolveEventWeights } from '../src/serve/events.js';
import { compare, Experiment, normalCdf, proportion } from '../src/serve/experiment.js';
import { Served } from '../src/serve/served.js';
import { buildServer } from '../src/serve/server.js';
import { WriteLog } from '../src/serve/write-log.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-loop-'));
const KEY = 'k3y';
let featureDim = 0;
let seed = 0;

before(async () => {
  for (const [name, s] of [['base', 1], ['next', 2]] as const) {
    const split = prepareSplit(generate('tiny', 4), { seed: s });
    const { model } = await train(split, { config: { threads: 1, seed: s, dim: 16, epochs: 1 } });
    featureDim = split.features.cols;
    model.save(path.join(dir, name));
  }
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function copyOf(name: string, target: string): string {
  const out = path.join(dir, target);
  fs.cpSync(path.join(dir, name), out, { recursive: true });
  return out;
}

/** What `vasg train --out DIR` does to a served directory: an atomic swap to another model. */
function deploy(name: string, target: string): void {
  VasgModel.load(path.join(dir, name)).save(target);
}

const features = () => Array.from({ length: featureDim }, (_, d) => Math.abs(Math.sin(++seed * 3.3 + d)));

async function call(base: string, method: string, url: string, body?: unknown, key: string | null = KEY): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['x-api-key'] = key;
  const response = await fetch(base + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

test('event weights: the flag is parsed and checked; unknown types and bad times are refused naming the field', () => {
  assert.deepEqual(parseServedEventWeights('purchase=1,cart=0.5'), { purchase: 1, cart: 0.5 });
  assert.throws(() => parseServedEventWeights('cart=0.5'), /must give "purchase" a weight > 0/);
  assert.deepEqual(parseServedEventWeights('purchase=1,view=0'), { purchase: 1 }, 'weight 0 leaves a type out, as in training');
  assert.throws(() => parseServedEventWeights('purchase'), /expected entries type=weight/);
  assert.throws(() => parseServedEventWeights('purchase=1,b@d=1'), /expected entries type=weight/);
  assert.deepEqual(resolveEventWeights(undefined, { eventWeights: { purchase: 1, view: 0, cart: 0.5 } }), { purchase: 1, cart: 0.5 }, 'the model\'s training weights');
  assert.throws(() => resolveEventWeights(undefined, { eventWeights: { view: 1 } }), /model's config "eventWeights": must give "purchase"/);
  const now = new Date('2026-12-01T08:00:00Z');
  assert.deepEqual(checkEvents([{ item: 'A', type: 'view', time: 1764576000 }, { item: 'B', type: 'cart', time: '2026-11-30T10:00:00+01:00' }, { item: 'C', type: 'click' }], DEFAULT_EVENT_WEIGHTS, 'body.events', now), [
    { item: 'A', type: 'view', time: '2025-12-01T08:00:00.000Z' },
    { item: 'B', type: 'cart', time: '2026-11-30T09:00:00.000Z' },
    { item: 'C', type: 'click', time: '2026-12-01T08:00:00.000Z' },
  ]);
  assert.throws(() => checkEvents([{ item: 'A', type: 'view' }, { item: 'A', type: 'like' }], DEFAULT_EVENT_WEIGHTS, 'body.events'), /body\.events\.1\.type: unknown event type "like"; this server's types are purchase, cart, click, view/);
  assert.throws(() => checkEvents([{ item: 'A', type: 'view', time: 'yesterday' }], DEFAULT_EVENT_WEIGHTS, 'body.events'), /body\.events\.0\.time: "yesterday" is not a time/);
});

test('typed events: a folded-in user is the weighted mean of their products; only purchases are left out of their list; logged and replayed', async () => {
  const modelDir = copyOf('base', 'typed');
  const catalog = await Catalog.open(modelDir);
  const app = await buildServer(new Served(catalog), { apiKey: KEY });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const [x, y] = catalog.model.parts.itemIds;
  let u: Float32Array = new Float32Array(0);
  try {
    assert.equal((await call(base, 'POST', '/users/anchor/events', { items: [x] })).status, 200);
    const posted = await call(base, 'POST', '/users/shopper/events', { events: [{ item: x, type: 'purchase', time: 1764576000 }, { item: y, type: 'view' }] });
    assert.deepEqual(posted, { status: 200, json: { user: 'shopper', folded: true, events: 2 } });
    // analogy(x, anchor, shopper) = x − x + u_shopper: the user's vector as the server holds it.
    u = catalog.analogy(x, 'anchor', 'shopper');
    const dim = catalog.model.config.dim;
    const row = (i: number) => catalog.model.parts.items.data.subarray(i * dim, (i + 1) * dim);
    const expected = row(0).map((v, d) => (1 * v + 0.05 * row(1)[d]) / 1.05);
    u.forEach((v, d) => assert.ok(Math.abs(v - expected[d]) < 1e-5, `dimension ${d}: ${v} ≠ ${expected[d]}`));
    const list = (await call(base, 'GET', `/users/shopper/recommendations?k=${catalog.size}`)).json.recommendations.map((r: { id: string }) => r.id);
    assert.ok(!list.includes(x), 'the purchased product is left out');
    assert.ok(list.includes(y), 'a product only viewed stays recommendable');
    const bad = await call(base, 'POST', '/users/shopper/events', { events: [{ item: x, type: 'wishlist' }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'body.events.0.type');
    assert.equal((await call(base, 'POST', '/users/shopper/events', { events: [{ item: x, type: 'view' }], items: [x] })).status, 400);
    assert.equal((await call(base, 'POST', '/users/shopper/events', { events: [{ item: 'nope', type: 'view' }] })).status, 404);
  } finally {
    await app.close();
  }
  catalog.abandon();
  // The log records each event with its type and ISO time; a record of the old {"items"} form still replays.
  const records = WriteLog.replay(`${modelDir}.writes.log`) as Array<Record<string, unknown>>;
  assert.deepEqual(records[1], { op: 'events', user: 'shopper', events: [{ item: x, type: 'purchase', time: '2025-12-01T08:00:00.000Z' }, { item: y, type: 'view', time: (records[1].events as Array<{ time: string }>)[1].time }] });
  const log = new WriteLog(`${modelDir}.writes.log`);
  log.append({ op: 'events', user: 'old-form', items: [y] });
  log.close();
  const reopened = await Catalog.open(modelDir);
  assert.deepEqual(reopened.purchases('old-form').map((p) => p.id), [y]);
  const v = reopened.analogy(x, 'anchor', 'shopper');
  v.forEach((value, d) => assert.ok(Math.abs(value - u[d]) < 1e-5));
  await reopened.close();
  // Compacted into serve_state.json with their types; a restart gives the same user.
  const again = await Catalog.open(modelDir);
  again.analogy(x, 'anchor', 'shopper').forEach((value, d) => assert.ok(Math.abs(value - u[d]) < 1e-5));
  await again.close();
});

test('reload: a newly trained model in the directory is served with the writes carried over; compaction never overwrites it', async () => {
  const modelDir = copyOf('base', 'reload');
  const catalog = await Catalog.open(modelDir, { compactBytes: 1 });
  const served = new Served(catalog, () => undefined);
  const oldId = catalog.modelId;
  const someItem = catalog.model.parts.itemIds[3];
  await catalog.addItems([{ id: 'api-product', title: 'From the API', features: features() }]);
  await catalog.compaction;
  catalog.setAvailable(someItem, false);
  await catalog.compaction;
  deploy('next', modelDir);
  const newId = VasgModel.load(modelDir).modelId;
  assert.notEqual(newId, oldId);
  // A write past the threshold would compact: the directory now holds another model, so it must not.
  catalog.addEvents('walk-in', [{ item: someItem, type: 'cart', time: '2026-12-01T08:00:00.000Z' }]);
  assert.equal(catalog.compaction, null);
  assert.equal(VasgModel.load(modelDir).modelId, newId, 'the new model was not overwritten');
  const result = await served.reload();
  assert.equal(result.reloaded, true);
  assert.equal(result.model_id, newId);
  assert.equal(result.previous_model_id, oldId);
  const next = served.catalog;
  assert.notEqual(next, catalog);
  assert.equal(next.item(next.model.itemIndexOf('api-product')).title, 'From the API', 'the product added through the API is embedded by the new model');
  assert.equal(next.item(next.model.itemIndexOf(someItem)).available, false, 'availability carried over');
  assert.ok(next.knowsUser('walk-in'), 'the folded-in user carried over');
  assert.ok((await next.recommend('walk-in', 3)).length === 3);
  await next.compaction;
  // A write after the reload goes to the new catalog's log; the old one no longer logs.
  next.addEvents('after', [someItem]);
  await next.close();
  const reopened = await Catalog.open(modelDir);
  assert.equal(reopened.modelId, newId);
  assert.ok(reopened.knowsUser('walk-in') && reopened.knowsUser('after'));
  assert.equal(reopened.item(reopened.model.itemIndexOf(someItem)).available, false);
  assert.equal(reopened.item(reopened.model.itemIndexOf('api-product')).cold, true);
  assert.deepEqual(await new Served(reopened, () => undefined).reload().then((r) => r.reloaded), false, 'the same model again: nothing to do');
  await reopened.close();
});

test('a failed reload (damaged, mixed or missing directory) leaves the old model serving and says why', async () => {
  const modelDir = copyOf('base', 'failing');
  const catalog = await Catalog.open(modelDir);
  const notices: string[] = [];
  const served = new Served(catalog, (line) => notices.push(line));
  const app = await buildServer(served, { apiKey: KEY });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const user = catalog.model.parts.userIds[0];
  try {
    const doc = (await call(base, 'GET', '/openapi.json')).json;
    assert.deepEqual(Object.keys(doc.paths['/admin/reload'].post.responses).sort(), ['200', '400', '401', '409', '500']);
    assert.deepEqual(Object.keys(doc.paths['/experiment'].get.responses).sort(), ['200', '400', '404', '500']);
    assert.deepEqual(doc.paths['/users/{id}/recommendations'].get.parameters.find((p: { name: string }) => p.name === 'fallback').schema.enum, ['popular', 'new', 'mixed']);
    assert.ok(doc.paths['/users/{id}/events'].post.requestBody.content['application/json'].schema.properties.events);
    const before = (await call(base, 'GET', '/healthz')).json.model_id;
    assert.equal(before, catalog.modelId);
    // Mixed: the new model's manifest over the old arrays of another shape.
    deploy('next', path.join(dir, 'staged'));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'staged', 'manifest.json'), 'utf8'));
    manifest.items = manifest.items.slice(1);
    manifest.coldItems = [];
    fs.writeFileSync(path.join(modelDir, 'manifest.json'), JSON.stringify(manifest));
    assert.equal((await call(base, 'POST', '/admin/reload', undefined, null)).status, 401);
    const failed = await call(base, 'POST', '/admin/reload');
    assert.equal(failed.status, 409);
    assert.match(failed.json.error, /reload failed: .*mixes files of two versions/);
    assert.equal(failed.json.model_id, before);
    assert.match(notices.at(-1)!, /reload failed, still serving model/);
    assert.equal((await call(base, 'GET', `/users/${user}/recommendations?k=3`)).status, 200);
    // Missing.
    fs.rmSync(modelDir, { recursive: true });
    assert.equal((await call(base, 'POST', '/admin/reload')).status, 409);
    assert.equal((await call(base, 'GET', '/healthz')).json.model_id, before);
    // Then a good model: the reload answers with it.
    deploy('next', modelDir);
    const ok = await call(base, 'POST', '/admin/reload');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.model_id, VasgModel.load(path.join(dir, 'next')).modelId);
    assert.equal((await call(base, 'GET', '/healthz')).json.model_id, ok.json.model_id);
  } finally {
    await app.close();
    await served.catalog.close();
  }
});

test('vasg serve reloads on SIGHUP; /healthz names the model that answers', async () => {
  const modelDir = copyOf('base', 'sighup');
  const child = spawn(process.execPath, [path.join(root, 'bin/vasg.js'), 'serve', '--model', modelDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => { out += chunk; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    const first = (await call(address, 'GET', '/healthz')).json.model_id;
    deploy('next', modelDir);
    const wanted = VasgModel.load(modelDir).modelId;
    assert.notEqual(first, wanted);
    child.kill('SIGHUP');
    while (!/reloaded: now serving model/.test(stderr)) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await call(address, 'GET', '/healthz')).json.model_id, wanted);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }
});

test('unknown users: a 404 by default; ?fallback=popular|new|mixed gives a list marked "fallback"', async () => {
  const modelDir = copyOf('base', 'fallback');
  const catalog = await Catalog.open(modelDir);
  const app = await buildServer(new Served(catalog), { apiKey: KEY });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    assert.equal((await call(base, 'GET', '/users/stranger/recommendations?k=5')).status, 404);
    const { seenIndices, itemIds } = catalog.model.parts;
    const buyers = new Map<string, number>();
    for (const row of seenIndices) buyers.set(itemIds[row], (buyers.get(itemIds[row]) ?? 0) + 1);
    const most = Math.max(...buyers.values());
    const popular = await call(base, 'GET', '/users/stranger/recommendations?k=5&fallback=popular');
    assert.equal(popular.status, 200);
    assert.equal(popular.json.fallback, 'popular');
    assert.equal(popular.json.recommendations.length, 5);
    assert.equal(buyers.get(popular.json.recommendations[0].id), most, 'the most bought product comes first');
    // Events served since training count: a product viewed by many walk-ins rises to the top.
    const rare = itemIds.find((id) => !buyers.has(id) || buyers.get(id) === 1)!;
    for (let j = 0; j < Math.ceil(most / 0.05) + 1; j++) await call(base, 'POST', `/users/w${j}/events`, { events: [{ item: rare, type: 'view' }] });
    assert.equal((await call(base, 'GET', '/users/stranger/recommendations?k=1&fallback=popular')).json.recommendations[0].id, rare);
    await call(base, 'POST', '/items', { items: [{ id: 'newest-1', features: features() }, { id: 'newest-2', features: features() }] });
    await call(base, 'POST', '/items', { items: [{ id: 'newest-3', features: features() }] });
    const fresh = await call(base, 'GET', '/users/stranger/recommendations?k=3&fallback=new');
    assert.equal(fresh.json.fallback, 'new');
    assert.deepEqual(fresh.json.recommendations.map((r: { id: string }) => r.id), ['newest-3', 'newest-2', 'newest-1']);
    const mixed = await call(base, 'GET', '/users/stranger/recommendations?k=4&fallback=mixed&exclude=newest-3');
    assert.deepEqual(mixed.json.recommendations.map((r: { id: string }) => r.id).filter((_: string, j: number) => j % 2 === 1), ['newest-2', 'newest-1']);
    assert.equal(mixed.json.recommendations[0].id, rare);
    // A known user is answered as usual: the fallback applies to unknown users only.
    const known = await call(base, 'GET', `/users/${catalog.model.parts.userIds[0]}/recommendations?k=3&fallback=popular`);
    assert.equal(known.json.fallback, undefined);
    assert.equal((await call(base, 'GET', '/users/stranger/recommendations?fallback=trending')).status, 400);
  } finally {
    await app.close();
    await catalog.close();
  }
});

test('the experiment\'s statistics: Wilson intervals and the two-proportion z-test', () => {
  const a = proportion(50, 100);
  assert.ok(Math.abs(a.low - 0.4038) < 1e-3 && Math.abs(a.high - 0.5962) < 1e-3);
  const d = compare(a, proportion(65, 100));
  assert.ok(Math.abs(d.z - 2.1456) < 1e-3, `z = ${d.z}`);
  assert.ok(Math.abs(d.p_value! - 0.0319) < 1e-3, `p = ${d.p_value}`);
  assert.equal(d.better, 'B');
  assert.equal(compare(proportion(5, 100), proportion(6, 100)).better, null);
  assert.equal(compare(proportion(0, 10), proportion(0, 10)).p_value, null);
  assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
});

test('two models on live traffic: stable arms, "arm" on every list, and the report finds the arm whose lists simulated users prefer', async () => {
  const dirA = copyOf('base', 'arm-a');
  const dirB = copyOf('next', 'arm-b');
  const a = await Catalog.open(dirA);
  const b = await Catalog.open(dirB);
  const logFile = `${dirA}.experiment.log`;
  let experiment = Experiment.open(logFile, 0.5, 24 * 3600e3);
  const app = await buildServer(new Served(a), { apiKey: KEY, abTest: { b: new Served(b), experiment } });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  // The users' known model: each likes the top 10 of model B (the "next" model); shown a list, they click the first
  // product they like with probability 0.7 and buy it with probability 0.4 after a click. Seeded, so deterministic.
  const truth = VasgModel.load(path.join(dir, 'next'));
  const users = a.model.parts.userIds.filter((u) => truth.hasUser(u));
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const arms = new Map<string, string>();
  try {
    for (let round = 0; round < 3; round++) {
      for (const user of users) {
        const shown = (await call(base, 'GET', `/users/${user}/recommendations?k=5`)).json;
        assert.ok(shown.arm === 'A' || shown.arm === 'B');
        assert.equal(arms.get(user) ?? shown.arm, shown.arm, 'the same user always sees the same arm');
        arms.set(user, shown.arm);
        const liked = new Set((await truth.recommend(user, 10)).map((r) => r.itemId));
        const hit = shown.recommendations.map((r: { id: string }) => r.id).find((id: string) => liked.has(id));
        if (hit === undefined || random() >= 0.7) continue;
        const events = [{ item: hit, type: 'click' }, ...(random() < 0.4 ? [{ item: hit, type: 'purchase' }] : [])];
        assert.equal((await call(base, 'POST', `/users/${user}/events`, { events })).status, 200);
      }
    }
    const report = (await call(base, 'GET', '/experiment')).json;
    if (process.env.VASG_SHOW_REPORT) console.log(JSON.stringify(report));
    const inB = Array.from(arms.values()).filter((arm) => arm === 'B').length;
    assert.ok(inB > users.length * 0.3 && inB < users.length * 0.7, `${inB} of ${users.length} users in B`);
    assert.equal(report.arms.A.users + report.arms.B.users, users.length);
    assert.equal(report.arms.A.impressions + report.arms.B.impressions, 3 * users.length);
    assert.ok(report.arms.B.click_through.rate > report.arms.A.click_through.rate);
    assert.equal(report.click_through.better, 'B', JSON.stringify(report.click_through));
    assert.ok(report.arms.B.conversions > 0);
    assert.equal(report.model_b, b.modelId);
    // The counts survive a restart (kill -9 included: every impression and outcome was fsync'd before its answer).
    experiment.close();
    experiment = Experiment.open(logFile, 0.5, 24 * 3600e3, { readOnly: true });
    const { traffic_b: _t, attribution_hours: _h, model_a: _a, model_b: _b, ...counts } = report;
    assert.deepEqual(experiment.report(), counts);
    // vasg ab-report reads the same log beside the running server.
    const cli = spawnSync(process.execPath, [path.join(root, 'bin/vasg.js'), 'ab-report', '--model', dirA, '--json'], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), counts);
    const text = spawnSync(process.execPath, [path.join(root, 'bin/vasg.js'), 'ab-report', '--model', dirA], { encoding: 'utf8' }).stdout;
    assert.match(text, /click-through: B − A = .*→ arm B is better \(p < 0\.05\)/);
  } finally {
    await app.close();
    experiment.close();
    await a.close();
    await b.close();
  }
  const alone = await Catalog.open(copyOf('base', 'no-ab'));
  const plain = await buildServer(new Served(alone));
  assert.equal((await plain.inject({ method: 'GET', url: '/experiment' })).statusCode, 404);
  await plain.close();
  await alone.close();
});

test('a serve_state.json written before typed events (users as lists of product ids) loads as purchases', async () => {
  const modelDir = copyOf('base', 'old-state');
  const [p, q] = VasgModel.load(modelDir).parts.itemIds;
  fs.writeFileSync(path.join(modelDir, 'serve_state.json'), JSON.stringify({ unavailable: [q], users: { veteran: [p, q] } }));
  fs.rmSync(path.join(modelDir, '.vasg-complete'), { force: true }); // edited by hand, as a state from an older version would be
  const catalog = await Catalog.open(modelDir);
  assert.deepEqual(catalog.purchases('veteran').map((item) => item.id), [p, q]);
  assert.equal(catalog.item(catalog.model.itemIndexOf(q)).available, false);
  await catalog.close();
});

test('writes that arrive while a reload loads the new model are carried over or forwarded, never lost', async () => {
  const modelDir = copyOf('base', 'reload-busy');
  const catalog = await Catalog.open(modelDir);
  const served = new Served(catalog, () => undefined);
  const item = catalog.model.parts.itemIds[2];
  deploy('next', modelDir);
  const reloading = served.reload();
  // Interleaved with the reload's awaits: product writes embed off the event loop, events apply at once.
  const adds = Array.from({ length: 6 }, (_, j) => catalog.addItems([{ id: `busy-${j}`, features: features() }]));
  catalog.addEvents('busy-user', [item]);
  await Promise.all([reloading, ...adds]);
  const next = served.catalog;
  assert.notEqual(next, catalog);
  for (let j = 0; j < 6; j++) assert.ok(next.model.hasItem(`busy-${j}`), `busy-${j} is served by the new model`);
  assert.ok(next.knowsUser('busy-user'));
  await next.close();
  const reopened = await Catalog.open(modelDir);
  for (let j = 0; j < 6; j++) assert.ok(reopened.model.hasItem(`busy-${j}`), `busy-${j} survived the restart`);
  assert.ok(reopened.knowsUser('busy-user'));
  await reopened.close();
});
