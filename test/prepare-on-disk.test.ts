// `vasg prepare` never loads features.npy: it selects rows and copies them file to file when the split is written
// (`loadDataset(dir, progress, 'on-disk')`, `copyNpyRows`), so a feature file larger than memory can be prepared.
// The split is byte for byte the one the in-memory path writes; bad values are errors naming the row and item.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadDataset, writeDataset } from '../src/data/dataset.js';
import { generate } from '../src/data/generate.js';
import { copyNpyRows, openNpy, readNpy, selectNpyRows, writeNpy } from '../src/data/npy.js';
import { prepareSplit, writeSplit } from '../src/data/split.js';
import { prepareTimeSplit } from '../src/data/time-split.js';
import { silentProgress } from '../src/progress.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-prepare-disk-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const at = (...names: string[]) => path.join(root, ...names);

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).sort().map((name) => [name, fs.readFileSync(path.join(dir, name))]));
}

test('splits prepared with features on disk equal the in-memory ones, float32 and float16, random and time', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    const data = at(`data-${dtype}`);
    writeDataset(data, { ...generate('tiny', 4), featureDtype: dtype });
    for (const kind of ['random', 'time'] as const) {
      const memory = at(`memory-${dtype}-${kind}`);
      const disk = at(`disk-${dtype}-${kind}`);
      const inMemory = loadDataset(data).dataset;
      const onDisk = loadDataset(data, silentProgress, 'on-disk').dataset;
      writeSplit(memory, kind === 'random' ? prepareSplit(inMemory, { seed: 4 }) : prepareTimeSplit(inMemory, { seed: 4 }));
      const split = kind === 'random' ? prepareSplit(onDisk, { seed: 4 }) : prepareTimeSplit(onDisk, { seed: 4 });
      assert.ok(split.features.rows < generate('tiny', 4).itemIds.length || kind === 'time', 'the random split drops products, so rows are selected');
      writeSplit(disk, split);
      assert.deepEqual(filesOf(disk), filesOf(memory), `${dtype}, ${kind} split`);
    }
  }
});

test('copyNpyRows: selections compose, <f8 is converted, float16 overflow and NaN name the row and item', () => {
  const file = at('f8.npy');
  const values = Float64Array.from({ length: 12 }, (_, k) => k * 1.5);
  const header = `{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), }`;
  const dict = header + ' '.repeat(Math.ceil((11 + header.length) / 64) * 64 - 11 - header.length) + '\n';
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), Buffer.from(Uint16Array.of(dict.length).buffer), Buffer.from(dict, 'latin1'), Buffer.from(values.buffer)]));
  const selected = selectNpyRows(selectNpyRows(openNpy(file), [3, 1, 0]), [2, 0]); // rows 0 and 3 of the file
  const out = at('copy.npy');
  fs.writeFileSync(out, Buffer.concat([...copyNpyRows(selected, 'float32')].map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength))));
  assert.deepEqual(Array.from(readNpy(out).data), [0, 1.5, 3, 13.5, 15, 16.5]);

  const big = at('big.npy');
  writeNpy(big, { data: Float32Array.of(1, 2, 70000, 4), rows: 2, cols: 2 });
  assert.throws(() => [...copyNpyRows(openNpy(big), 'float16', ['a', 'b'])], /big\.npy: row 1 \(item "b"\), column 0: 70000 does not fit float16/);
});

test('vasg prepare: a NaN in a kept product is an error naming the file, row and item, and writes nothing', () => {
  const data = at('nan-data');
  const dataset = generate('tiny', 5);
  writeDataset(data, dataset);
  // Overwrite one value of product row 7 with NaN in place (vasg itself never saves NaN).
  const file = path.join(data, 'features.npy');
  const bytes = fs.readFileSync(file);
  const offset = bytes.length - dataset.features.data.length * 4 + (7 * dataset.features.cols + 2) * 4;
  bytes.writeFloatLE(NaN, offset);
  fs.writeFileSync(file, bytes);
  const out = at('nan-split');
  const run = spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'prepare', '--data', data, '--out', out], { encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, new RegExp(`features\\.npy: row 7 \\(item "${dataset.itemIds[7]}"\\), column 2: expected a finite value, found NaN`));
  assert.equal(fs.existsSync(out), false, 'no split directory is left behind');
});
