// Persistence of the service's writes: the log replays after a restart, compacts into the model
// directory, drops a torn last record, and keeps every acknowledged write across a kill -9.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, prepareSplit, train } from '../src/index.js';
import { Catalog } from '../src/serve/catalog.js';
import { WriteLog } from '../src/serve/write-log.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'vasg-persist-'));
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

test('writes survive a restart without a clean stop, and a clean stop compacts them into the model directory', () => {
  const modelDir = freshModel('restart');
  const first = Catalog.open(modelDir);
  const someItem = first.model.parts.itemIds[0];
  first.addItems([{ id: 'p-new', title: 'T', category: 'C', features: features() }]);
  first.setAvailable(someItem, false);
  first.addEvents('walk-in', [someItem]);
  // No close(): as after a crash, only the log has the writes.
  assert.ok(fs.statSync(`${modelDir}.writes.log`).size > 0);
  const second = Catalog.open(modelDir);
  assert.equal(second.item(second.model.itemIndexOf('p-new')).title, 'T');
  assert.equal(second.item(second.model.itemIndexOf(someItem)).available, false);
  assert.equal(fs.statSync(`${modelDir}.writes.log`).size, 0, 'opening compacted the log');
  second.close();
  const third = Catalog.open(modelDir);
  assert.equal(third.item(third.model.itemIndexOf('p-new')).cold, true);
  assert.equal(third.item(third.model.itemIndexOf(someItem)).available, false);
  third.close();
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

test('kill -9 during a burst of writes: every acknowledged write survives and the state loads', async () => {
  const modelDir = freshModel('killed');
  const child = spawn(process.execPath, [path.join(root, 'bin/vasg.js'), 'serve', '--model', modelDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const acknowledged: string[] = [];
  let stop = false;
  const writer = async (stream: number) => {
    for (let j = 0; !stop; j++) {
      const id = `burst-${stream}-${j}`;
      try {
        const response = await fetch(`${address}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ id, features: features() }] }) });
        if (response.status === 200) acknowledged.push(id);
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 5));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  stop = true;
  await Promise.all(writers);
  await exited;
  const catalog = Catalog.open(modelDir);
  for (const id of acknowledged) assert.doesNotThrow(() => catalog.model.itemIndexOf(id), `${id} was acknowledged but lost`);
  catalog.close();
});
