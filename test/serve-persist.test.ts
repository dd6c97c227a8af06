// Persistence of the service's writes: the log replays after a restart, compacts into the model
// directory (at start, at a clean stop, and in the background while serving), drops a torn last record,
// and keeps every acknowledged write across a kill -9, also one in the middle of a compaction.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, prepareSplit, train } from '../src/index.js';
import { Catalog } from '../src/serve/catalog.js';
import { WriteLog } from '../src/serve/write-log.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-persist-'));
let featureDim = 0;
let seed = 0;

before(async () => {
  const split = prepareSplit(generate('tiny', 4), { seed: 1 });
  const { model } = await train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1 } });
  featureDim = split.features.cols;
  model.save(path.join(dir, 'base'));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function freshModel(name: string): string {
  const target = path.join(dir, name);
  fs.cpSync(path.join(dir, 'base'), target, { recursive: true });
  return target;
}

const features = () => Array.from({ length: featureDim }, (_, d) => Math.abs(Math.sin(++seed * 3.3 + d)));

test('writes survive a restart without a clean stop, and a clean stop compacts them into the model directory', async () => {
  const modelDir = freshModel('restart');
  const first = await Catalog.open(modelDir);
  const someItem = first.model.parts.itemIds[0];
  await first.addItems([{ id: 'p-new', title: 'T', category: 'C', features: features() }]);
  first.setAvailable(someItem, false);
  first.addEvents('walk-in', [someItem]);
  // No close(): as after a crash, only the log has the writes (abandon() lets go of the directory as a dead process would).
  first.abandon();
  assert.ok(fs.statSync(`${modelDir}.writes.log`).size > 0);
  const second = await Catalog.open(modelDir);
  assert.equal(second.item(second.model.itemIndexOf('p-new')).title, 'T');
  assert.equal(second.item(second.model.itemIndexOf(someItem)).available, false);
  assert.equal(fs.statSync(`${modelDir}.writes.log`).size, 0, 'opening compacted the log');
  second.addEvents('walk-in-2', [someItem]);
  await second.close();
  assert.equal(fs.statSync(`${modelDir}.writes.log`).size, 0, 'a clean stop compacted the log');
  assert.match(fs.readFileSync(path.join(modelDir, 'serve_state.json'), 'utf8'), /walk-in-2/);
  const third = await Catalog.open(modelDir);
  assert.equal(third.item(third.model.itemIndexOf('p-new')).cold, true);
  assert.equal(third.item(third.model.itemIndexOf(someItem)).available, false);
  const inode = fs.statSync(modelDir).ino;
  await third.close();
  assert.equal(fs.statSync(modelDir).ino, inode, 'a clean stop without writes leaves the model directory as it was');
});

test('a torn last record is dropped and truncated; the records before it are kept', () => {
  const file = path.join(dir, 'torn.log');
  const log = new WriteLog(file);
  log.append({ op: 'available', id: 'a', available: false });
  log.append({ op: 'available', id: 'b', available: false });
  log.close();
  const good = fs.statSync(file).size;
  // Half of a third frame, as a kill -9 in the middle of write() leaves it.
  const header = Buffer.alloc(8);
  header.writeUInt32LE(100, 0);
  fs.appendFileSync(file, Buffer.concat([header, Buffer.from('{"op":"avail')]));
  assert.equal(WriteLog.replay(file).length, 2);
  assert.equal(fs.statSync(file).size, good);
  // A flipped byte inside a record (bad checksum) ends the log there too.
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 3] ^= 0xff;
  fs.writeFileSync(file, bytes);
  assert.equal(WriteLog.replay(file).length, 1);
});

test('compaction while serving: past the threshold the log is folded into the model directory in the background; writes go on meanwhile', async () => {
  const modelDir = freshModel('background');
  const logFile = `${modelDir}.writes.log`;
  const catalog = await Catalog.open(modelDir, { compactBytes: 20_000 });
  const someItem = catalog.model.parts.itemIds[0];
  const compactions = new Set<Promise<void>>();
  let writesDuringCompaction = 0;
  for (let j = 0; j < 300; j++) {
    if (catalog.compaction) writesDuringCompaction++;
    await catalog.addItems([{ id: `bg-${j}`, title: `t${j}`, features: features() }]);
    if (j % 7 === 0) catalog.addEvents(`bg-user-${j % 3}`, [`bg-${j}`, someItem]);
    if (j === 150) catalog.setAvailable(someItem, false);
    if (catalog.compaction) compactions.add(catalog.compaction);
    // Half-way, let the compaction in flight finish (as idle time between requests would), so another starts later.
    if (j === 100) while (catalog.compaction) await catalog.compaction;
  }
  while (catalog.compaction) await catalog.compaction;
  assert.ok(compactions.size >= 2, `${compactions.size} compactions`);
  assert.ok(writesDuringCompaction > 0, 'some writes arrived while a compaction ran');
  assert.ok(fs.statSync(logFile).size < 20_000 + 2_000, `log ${fs.statSync(logFile).size} bytes after compacting`);
  assert.ok(!fs.existsSync(WriteLog.rotatedFile(logFile)), 'the rotated part is gone once compacted');
  assert.ok(fs.existsSync(path.join(modelDir, 'serve_state.json')), 'the compacted state is in the model directory');
  // A restart without a clean stop (as after a crash) has every write: directory + what the log still holds.
  catalog.abandon();
  const again = await Catalog.open(modelDir);
  for (let j = 0; j < 300; j++) assert.equal(again.item(again.model.itemIndexOf(`bg-${j}`)).title, `t${j}`);
  assert.equal(again.item(again.model.itemIndexOf(someItem)).available, false);
  assert.deepEqual(again.purchases('bg-user-0').map((p) => p.id).sort(), [someItem, ...Array.from({ length: 300 }, (_, j) => j).filter((j) => j % 7 === 0 && j % 3 === 0).map((j) => `bg-${j}`)].sort());
  await again.close();
});

test('a crash before the compaction\'s directory swap: the rotated log, then the fresh one, replay over the old directory', async () => {
  const modelDir = freshModel('rotated');
  const logFile = `${modelDir}.writes.log`;
  const [a, b] = baseItemIds();
  // What the files hold when a compaction dies while staging: older records in FILE.compacting, newer in FILE.
  const log = new WriteLog(logFile);
  log.append({ op: 'available', id: a, available: false });
  log.append({ op: 'items', items: [{ id: 'x', title: 'old', features: features() }] });
  log.rotate();
  log.append({ op: 'items', items: [{ id: 'x', title: 'new', features: features() }] });
  log.append({ op: 'available', id: b, available: false });
  log.close();
  const catalog = await Catalog.open(modelDir);
  assert.equal(catalog.item(catalog.model.itemIndexOf('x')).title, 'new', 'replayed in write order');
  assert.equal(catalog.item(catalog.model.itemIndexOf(a)).available, false);
  assert.equal(catalog.item(catalog.model.itemIndexOf(b)).available, false);
  assert.ok(!fs.existsSync(WriteLog.rotatedFile(logFile)) && fs.statSync(logFile).size === 0, 'compacted at start');
  await catalog.close();
});

function baseItemIds(): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'base', 'manifest.json'), 'utf8')) as { items: string[] };
  return manifest.items;
}

/** Starts `vasg serve` on a copy of the base model; resolves with the child and its address. */
async function serveChild(modelDir: string, args: string[] = [], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [path.join(root, 'bin/vasg.js'), 'serve', '--model', modelDir, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const address = await within(new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  }), 60, 'vasg serve to listen').catch((error) => { child.kill('SIGKILL'); throw error; });
  return { child, address };
}

/** `promise`, or a failure after `seconds`: a stalled child fails the run instead of hanging it. */
function within<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${seconds} s waiting for ${what}`)), seconds * 1000); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Polls `condition` every 5 ms, failing after `seconds`. */
async function until(condition: () => boolean, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The child's exit signal and code; fails (and kills it) if it has not exited within `seconds`. */
function exitOf(child: ReturnType<typeof spawn>, seconds: number, what: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return within(exited, seconds, what).catch((error) => { child.kill('SIGKILL'); throw error; });
}

/** Four parallel streams of POST /items until `stop()` says so or the server is gone; the acknowledged ids. */
function writeStreams(address: string) {
  const acknowledged: string[] = [];
  let stopped = false;
  const writer = async (stream: number) => {
    for (let j = 0; !stopped; j++) {
      const id = `burst-${stream}-${j}`;
      try {
        const response = await fetch(`${address}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ id, features: features() }] }) });
        if (response.status === 200) acknowledged.push(id);
      } catch {
        return; // the server is gone
      }
    }
  };
  const done = Promise.all([0, 1, 2, 3].map(writer));
  return { acknowledged, stop: () => { stopped = true; return done; } };
}

async function assertAllThere(modelDir: string, acknowledged: string[]) {
  const catalog = await Catalog.open(modelDir);
  for (const id of acknowledged) assert.doesNotThrow(() => catalog.model.itemIndexOf(id), `${id} was acknowledged but lost`);
  return catalog.close();
}

// VASG_FAULT_AFTER_RENAME kills the process inside the directory swap of the first background compaction:
// 1 = the old directory moved aside, the new one not yet in place; 2 = the new one in place, the rotated log not yet deleted.
for (const renames of [1, 2]) {
  test(`kill -9 in the middle of a compaction while serving (after rename ${renames} of the swap): nothing acknowledged is lost`, async () => {
    const modelDir = freshModel(`compact-killed-${renames}`);
    const { child, address } = await serveChild(modelDir, ['--compact-bytes', '8000'], { VASG_FAULT_AFTER_RENAME: String(renames) });
    const exited = exitOf(child, 120, 'the fault hook to kill the server during a compaction');
    const { acknowledged, stop } = writeStreams(address);
    const { signal } = await exited.finally(stop);
    await within(stop(), 30, 'the write streams to end');
    assert.equal(signal, 'SIGKILL', 'the fault hook killed the server during a compaction');
    assert.ok(acknowledged.length > 0);
    assert.ok(fs.existsSync(WriteLog.rotatedFile(`${modelDir}.writes.log`)), 'it died with a compaction in progress');
    await assertAllThere(modelDir, acknowledged);
    assert.ok(!fs.existsSync(WriteLog.rotatedFile(`${modelDir}.writes.log`)), 'the restart compacted the rotated part too');
  });
}

test('kill -9 during a burst of writes (compacting in the background as it goes): every acknowledged write survives and the state loads', async () => {
  const modelDir = freshModel('killed');
  const { child, address } = await serveChild(modelDir, ['--compact-bytes', '20000']);
  const { acknowledged, stop } = writeStreams(address);
  await until(() => acknowledged.length >= 120, 60, '120 acknowledged writes').catch(async (error) => { child.kill('SIGKILL'); await stop(); throw error; });
  const exited = exitOf(child, 30, 'the server to die of SIGKILL');
  child.kill('SIGKILL');
  await within(stop(), 30, 'the write streams to end');
  await exited;
  await assertAllThere(modelDir, acknowledged);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} stops vasg serve cleanly: it exits 0 and folds the write log into the model directory`, async () => {
    const modelDir = freshModel(`stopped-${signal}`);
    const { child, address } = await serveChild(modelDir);
    const exited = exitOf(child, 60, `vasg serve to stop on ${signal}`);
    const response = await fetch(`${address}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ id: `kept-${signal}`, title: 'kept', features: features() }] }) });
    assert.equal(response.status, 200);
    assert.ok(fs.statSync(`${modelDir}.writes.log`).size > 0, 'the write is in the log first');
    child.kill(signal);
    assert.deepEqual(await exited, { code: 0, signal: null });
    assert.equal(fs.statSync(`${modelDir}.writes.log`).size, 0, 'compacted on the way out');
    assert.ok((JSON.parse(fs.readFileSync(path.join(modelDir, 'manifest.json'), 'utf8')).items as string[]).includes(`kept-${signal}`), 'the product is in the model directory itself');
    await assertAllThere(modelDir, [`kept-${signal}`]);
  });
}
