// Issue 19: every acknowledged write survives. One server per model directory (an OS lock, any path to
// it), a damaged write log never silently drops later writes, no input reaches a 500, and the security
// defaults (the key's two forms only, 401 before the body, a warning off loopback, OpenAPI's scheme).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { generate, prepareSplit, train, VasgModel } from '../src/index.js';
import { Catalog } from '../src/serve/catalog.js';
import { DirectoryLock } from '../src/serve/lock.js';
import { buildServer, MAX_ID_LENGTH } from '../src/serve/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'vasg-robust-'));
const KEY = 'SECRET';
let featureDim = 0;
let seed = 0;
let app: FastifyInstance;
let base = '';
let baseItems: string[] = [];

before(async () => {
  const split = prepareSplit(generate('tiny', 2), { seed: 1 });
  const { model } = await train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1 } });
  featureDim = split.features.cols;
  model.save(path.join(dir, 'base'));
  baseItems = model.parts.itemIds.slice();
  app = await buildServer(await Catalog.open(freshModel('http')), { apiKey: KEY });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

/** Every server started, so that a failed test does not leave one running (the test process would wait for it). */
const children: ChildProcess[] = [];

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function freshModel(name: string): string {
  const target = path.join(dir, name);
  fs.cpSync(path.join(dir, 'base'), target, { recursive: true });
  return target;
}

const features = () => Array.from({ length: featureDim }, (_, d) => Math.abs(Math.sin(++seed * 3.3 + d)));

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = { 'x-api-key': KEY }): Promise<{ status: number; json: any }> {
  const all: Record<string, string> = { ...headers };
  if (body !== undefined) all['content-type'] = 'application/json';
  const response = await fetch(base + url, { method, headers: all, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, json };
}

/** `vasg serve` on a model directory; resolves once it listens (or with its exit code and stderr when it refuses). */
function serve(modelDir: string, args: string[] = []): Promise<{ child: ChildProcess; address?: string; code?: number | null; stderr: string }> {
  const child = spawn(process.execPath, [path.join(root, 'bin/vasg.js'), 'serve', '--model', modelDir, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (chunk) => { out += chunk; const m = /listening on (\S+)/.exec(out); if (m) resolve({ child, address: m[1], get stderr() { return stderr; } }); });
    child.on('exit', (code) => resolve({ child, code, stderr }));
  });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

async function post(address: string, id: string): Promise<number> {
  const response = await fetch(`${address}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ id, features: features() }] }) });
  return response.status;
}

/** Everything under the directory's parent that a server could have touched: names, sizes, inodes. */
function snapshotOf(modelDir: string): string {
  const parent = path.dirname(modelDir);
  return fs.readdirSync(parent).filter((name) => name.startsWith(path.basename(modelDir)) || name.startsWith(`.${path.basename(modelDir)}`)).sort()
    .map((name) => {
      const stat = fs.statSync(path.join(parent, name));
      return `${name}:${stat.ino}:${stat.isDirectory() ? '' : stat.size}`;
    }).join('\n');
}

test('case 1: a second server on the same directory, by any path (a symlink too), refuses before touching anything and names the holder', async () => {
  const modelDir = freshModel('owner');
  const first = await serve(modelDir);
  assert.ok(first.address, first.stderr);
  assert.equal(await post(first.address!, 'from-first'), 200);
  const link = path.join(dir, 'owner-link');
  fs.symlinkSync(modelDir, link);
  const before = snapshotOf(modelDir);
  for (const other of [modelDir, link, `${modelDir}/../owner`]) {
    const second = await serve(other);
    assert.equal(second.address, undefined, `a second server on ${other} started`);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`already served by another vasg serve \\(pid ${first.child.pid}`));
  }
  assert.equal(snapshotOf(modelDir), before, 'the refused servers changed nothing: not the directory, not the log');
  // Writes to the owner go on; after a clean stop and a restart, every acknowledged product is there.
  assert.equal(await post(first.address!, 'from-first-again'), 200);
  await stop(first.child);
  const again = await Catalog.open(link);
  for (const id of ['from-first', 'from-first-again']) assert.doesNotThrow(() => again.model.itemIndexOf(id), `${id} was lost`);
  // Deploying a model while it is served (`vasg train --out DIR`) stays possible: the lock guards the server's files only.
  again.model.save(modelDir);
  await again.close();
});

test('case 1: kill -9 releases the directory at once, so a restart starts and keeps the acknowledged writes', async () => {
  const modelDir = freshModel('killed-owner');
  const first = await serve(modelDir);
  assert.equal(await post(first.address!, 'before-kill'), 200);
  await stop(first.child, 'SIGKILL');
  const second = await serve(modelDir);
  assert.ok(second.address, `the restart after kill -9 refused: ${second.stderr}`);
  assert.equal((await fetch(`${second.address}/items/before-kill`)).status, 200);
  await stop(second.child);
});

test('case 1: in one process, a second Catalog.open of a directory is refused until the first is closed', async () => {
  const modelDir = freshModel('in-process');
  const first = await Catalog.open(modelDir);
  await assert.rejects(Catalog.open(modelDir), new RegExp(`pid ${process.pid}, lock ${DirectoryLock.fileFor(modelDir).replaceAll('.', '\\.')}`));
  await first.close();
  await (await Catalog.open(modelDir)).close();
});

test('case 2: damage before the last record stops the start (file, offset, records after it) and changes nothing; --repair-log keeps every intact record', async () => {
  const modelDir = freshModel('damaged');
  const logFile = `${modelDir}.writes.log`;
  const catalog = await Catalog.open(modelDir);
  for (const id of ['d1', 'd2', 'd3']) await catalog.addItems([{ id, features: features() }]);
  catalog.abandon(); // as kill -9: the log holds the writes
  const bytes = fs.readFileSync(logFile);
  bytes[20] ^= 0x01; // one bit inside the first record's payload
  fs.writeFileSync(logFile, bytes);
  const notices: string[] = [];
  await assert.rejects(Catalog.open(modelDir, { notice: (line) => notices.push(line) }),
    (error: Error) => error.message.includes(`${logFile}: damaged bytes at byte offset 0`) && /followed by 2 intact records \(bytes \d+–\d+\)/.test(error.message) && error.message.includes('--repair-log'));
  assert.deepEqual(fs.readFileSync(logFile), bytes, 'the refused start left the log as it was');
  const repaired = await Catalog.open(modelDir, { repairLog: true, notice: (line) => notices.push(line) });
  for (const id of ['d2', 'd3']) assert.doesNotThrow(() => repaired.model.itemIndexOf(id), `${id} was dropped`);
  assert.throws(() => repaired.model.itemIndexOf('d1'));
  assert.equal(notices.length, 1);
  assert.match(notices[0], /repaired: kept 2 intact records, moved \d+ damaged bytes \(1 range, first at byte 0\) to .*\.damaged-/);
  const side = fs.readdirSync(dir).filter((name) => name.startsWith('damaged.writes.log.damaged-'));
  assert.equal(side.length, 1);
  assert.ok(bytes.subarray(0, fs.statSync(path.join(dir, side[0])).size).equals(fs.readFileSync(path.join(dir, side[0]))), 'the side file holds the damaged bytes');
  await repaired.close();
});

test('case 2: a torn last record is dropped with a one-line notice; the CLI refuses a damaged log and --repair-log starts', async () => {
  const modelDir = freshModel('torn-cli');
  const logFile = `${modelDir}.writes.log`;
  const catalog = await Catalog.open(modelDir);
  for (const id of ['t1', 't2']) await catalog.addItems([{ id, features: features() }]);
  catalog.abandon();
  const good = fs.statSync(logFile).size;
  fs.appendFileSync(logFile, Buffer.from([50, 0, 0, 0, 1, 2, 3, 4, 0x7b])); // a frame cut short by a crash
  const notices: string[] = [];
  const reopened = await Catalog.open(modelDir, { notice: (line) => notices.push(line) });
  assert.doesNotThrow(() => reopened.model.itemIndexOf('t2'));
  assert.deepEqual(notices, [`vasg serve: ${logFile}: dropped a torn last record (bytes ${good}–${good + 9}, a write cut short by a crash, never acknowledged)`]);
  await reopened.addItems([{ id: 't3', features: features() }]);
  await reopened.addItems([{ id: 't4', features: features() }]);
  reopened.abandon();
  const bytes = fs.readFileSync(logFile);
  bytes[12] ^= 0x10;
  fs.writeFileSync(logFile, bytes);
  const refused = await serve(modelDir);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /damaged bytes at byte offset 0 .* followed by 1 intact record /);
  const repaired = await serve(modelDir, ['--repair-log']);
  assert.ok(repaired.address, repaired.stderr);
  assert.match(repaired.stderr, /repaired: kept 1 intact records/);
  assert.equal((await fetch(`${repaired.address}/items/t4`)).status, 200);
  await stop(repaired.child);
});

test(`case 3: ids up to ${MAX_ID_LENGTH} characters work on every route; longer ones are a 400 on every route`, async () => {
  for (const id of ['p'.repeat(MAX_ID_LENGTH), 'é'.repeat(MAX_ID_LENGTH)]) {
    assert.equal((await call('POST', '/items', { items: [{ id, features: features() }] })).status, 200);
    const url = `/items/${encodeURIComponent(id)}`;
    assert.equal((await call('PATCH', url, { available: false })).json.available, false);
    assert.equal((await call('GET', url)).status, 200);
    assert.equal((await call('GET', `${url}/similar?k=2`)).status, 200);
    const user = `/users/${encodeURIComponent(id)}`;
    assert.equal((await call('POST', `${user}/events`, { items: [baseItems[0]] })).status, 200);
    assert.equal((await call('GET', `${user}/recommendations?k=2`)).status, 200);
  }
  const long = 'q'.repeat(MAX_ID_LENGTH + 1);
  for (const [method, url, body] of [['POST', '/items', { items: [{ id: long, features: features() }] }], ['PATCH', `/items/${long}`, { available: false }],
    ['POST', `/users/${long}/events`, { items: [baseItems[0]] }], ['GET', `/items/${long}/similar`, undefined]] as const) {
    const answer = await call(method, url, body);
    assert.equal(answer.status, 400, `${method} ${url.slice(0, 20)}…`);
    assert.match(answer.json.error, /must NOT have more than 256 characters/);
  }
});

test('case 4: a value that overflows float32 is a 400 naming the field, never a 500 or an empty answer', async () => {
  const huge = features();
  huge[3] = 1e39;
  const posted = await call('POST', '/items', { items: [{ id: 'ok', features: features() }, { id: 'huge', features: huge }] });
  assert.equal(posted.status, 400);
  assert.equal(posted.json.field, 'body.items.1.features.3');
  assert.match(posted.json.error, /1e\+39 is out of range: values must be finite 32-bit floats/);
  assert.equal((await call('GET', '/items/ok')).status, 404, 'nothing of the refused request was added');
  assert.equal((await call('POST', '/query', { features: huge })).json.field, 'body.features.3');
  const vector = Array.from({ length: 16 }, () => 0.1);
  vector[0] = -1e39;
  const query = await call('POST', '/query', { vector });
  assert.equal(query.status, 400);
  assert.equal(query.json.field, 'body.vector.0');
  // Under dot-product scoring a finite but huge vector makes every score overflow: a 400, not a ranking of NaNs.
  const split = prepareSplit(generate('tiny', 2), { seed: 1 });
  const { model: dot } = await train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1, scoring: 'dot' } });
  await assert.rejects(new Catalog(dot).query(3, { vector: new Float32Array(16).fill(3.4e38) }), /body\.vector: the scores of this query overflow 32-bit floats/);
  // Finite float32 values at the edge of the range answer 200 or 400, never 5xx.
  for (const value of [3.4e38, -3.4e38, 1e-45, 0]) {
    const edge = await call('POST', '/items', { items: [{ id: `edge-${value}`, features: features().map(() => value) }] });
    assert.ok(edge.status === 200 || edge.status === 400, `${value}: ${edge.status}`);
  }
});

test('case 5: no silent conversions; duplicate ids are a 400 naming both positions; a re-post says what it replaced and keeps what it was not given', async () => {
  for (const bad of [null, true, '0.5']) {
    const f: unknown[] = features();
    f[2] = bad;
    const answer = await call('POST', '/items', { items: [{ id: 'coerced', features: f }] });
    assert.equal(answer.status, 400, JSON.stringify(bad));
    assert.equal(answer.json.field, 'body.items.0.features.2');
  }
  assert.equal((await call('GET', '/items/coerced')).status, 404);
  const item = baseItems[5];
  for (const bad of [null, 'false', 0]) {
    const answer = await call('PATCH', `/items/${item}`, { available: bad });
    assert.equal(answer.status, 400, JSON.stringify(bad));
    assert.equal(answer.json.field, 'body.available');
  }
  assert.equal((await call('GET', `/items/${item}`)).json.available, true);
  assert.equal((await call('POST', '/recommendations', { items: [item], k: '3' })).status, 400, 'a number as text in a body is not coerced');
  const dup = await call('POST', '/items', { items: [{ id: 'twice', features: features() }, { id: 'other', features: features() }, { id: 'twice', features: features() }] });
  assert.equal(dup.status, 400);
  assert.equal(dup.json.field, 'body.items.2.id');
  assert.match(dup.json.error, /body\.items\.2\.id: "twice" is also body\.items\.0\.id/);
  // A re-post: the category and availability it does not give stay, and the answer says so.
  assert.equal((await call('POST', '/items', { items: [{ id: 'kept', title: 'T', category: 'C', image_url: 'http://x/k.jpg', features: features() }] })).json.added, 1);
  assert.equal((await call('PATCH', '/items/kept', { available: false })).status, 200);
  const again = await call('POST', '/items', { items: [{ id: 'kept', title: 'T2', features: features() }, { id: 'fresh', features: features() }] });
  assert.equal(again.status, 200);
  assert.equal(again.json.added, 1);
  assert.deepEqual(again.json.replaced, [{ id: 'kept', kept: ['category', 'image_url', 'unavailable'] }]);
  const kept = (await call('GET', '/items/kept')).json;
  assert.deepEqual([kept.title, kept.category, kept.imageUrl, kept.available], ['T2', 'C', 'http://x/k.jpg', false]);
});

test('case 6: only "Bearer KEY" or "x-api-key: KEY"; writes answer 401 before validating the body', async () => {
  const item = baseItems[7];
  assert.equal((await call('PATCH', `/items/${item}`, { available: true }, { authorization: KEY })).status, 401, 'a key without "Bearer"');
  assert.equal((await call('PATCH', `/items/${item}`, { available: true }, { authorization: `Basic ${KEY}` })).status, 401);
  assert.equal((await call('PATCH', `/items/${item}`, { available: true }, { authorization: `Bearer ${KEY}` })).status, 200);
  assert.equal((await call('PATCH', `/items/${item}`, { available: true }, { 'x-api-key': KEY })).status, 200);
  assert.equal((await call('POST', '/items', { items: 'not a list' }, {})).status, 401, 'a bad body without a key');
  assert.equal((await call('POST', '/items', '{"items": [', {})).status, 401, 'unparsable JSON without a key');
  assert.equal((await call('POST', '/items', { items: 'not a list' })).status, 400, 'with the key, the body is validated');
});

test('case 6: OpenAPI declares the key scheme and every status a route can answer', async () => {
  const doc = (await call('GET', '/openapi.json')).json;
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearer']);
  assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes.bearer.description });
  const post = doc.paths['/items'].post;
  assert.deepEqual(post.security, [{ apiKey: [] }, { bearer: [] }]);
  assert.deepEqual(Object.keys(post.responses).sort(), ['200', '400', '401', '404', '413', '415', '500']);
  assert.deepEqual(Object.keys(doc.paths['/items/{id}'].patch.responses).sort(), ['200', '400', '401', '404', '413', '415', '500']);
  assert.equal(doc.paths['/query'].post.security, undefined, 'reads with a body need no key');
  assert.deepEqual(Object.keys(doc.paths['/query'].post.responses).sort(), ['200', '400', '404', '413', '415', '500']);
  // And the statuses are real: 413 and 415 come back as declared.
  assert.equal((await fetch(`${base}/items`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/xml' }, body: '<x/>' })).status, 415);
});

test('case 6: a warning at start when bound beyond loopback without a key', async () => {
  const modelDir = freshModel('open');
  const open = await serve(modelDir, ['--host', '0.0.0.0']);
  assert.ok(open.address, open.stderr);
  assert.match(open.stderr, /warning: bound to 0\.0\.0\.0 without --api-key/);
  await stop(open.child);
  const keyed = await serve(modelDir, ['--host', '0.0.0.0', '--api-key', KEY]);
  assert.doesNotMatch(keyed.stderr, /warning/);
  await stop(keyed.child);
  const loopback = await serve(modelDir);
  assert.doesNotMatch(loopback.stderr, /warning/);
  await stop(loopback.child);
});

test('case 6: a serve_state.json that is not JSON is an error naming the file', async () => {
  const modelDir = freshModel('bad-state');
  fs.writeFileSync(path.join(modelDir, 'serve_state.json'), '{"unavailable": [');
  await assert.rejects(Catalog.open(modelDir), (error: Error) => error.message.startsWith(`${path.join(modelDir, 'serve_state.json')}: not valid JSON`));
  fs.writeFileSync(path.join(modelDir, 'serve_state.json'), '{"unavailable": [1]}');
  await assert.rejects(Catalog.open(modelDir), /serve_state\.json: expected \{"unavailable"/);
  // The refused start released the directory.
  fs.rmSync(path.join(modelDir, 'serve_state.json'));
  await (await Catalog.open(modelDir)).close();
  assert.ok(VasgModel.load(modelDir));
});
