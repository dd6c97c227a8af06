// `vasg features` and the ONNX writer: a tiny ONNX image model built here and checked against a
// hand computation, bad images (corrupt, missing, grayscale, transparent), resuming after an
// interruption, builtin:color, and the encoder's ONNX export against the native encoder.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import ort from 'onnxruntime-node';
import { encodeModel, type OnnxGraph } from '../src/onnx/writer.js';
import { encoderGraph, ENCODER_INPUT, ENCODER_OUTPUT } from '../src/onnx/encoder-graph.js';
import { colorExtractor, onnxExtractor, type FeatureExtractor } from '../src/features/extractors.js';
import { extractFeatures, InterruptedError, partialDirFor, type ImageItem } from '../src/features/extract.js';
import { colorFeatures, COLOR_FEATURE_DIM } from '../src/features/color.js';
import { imageFileFor, loadRgb } from '../src/features/image.js';
import { readNpy } from '../src/data/npy.js';
import { native } from '../src/native.js';
import { resolveConfig } from '../src/model/config.js';
import { VasgModel } from '../src/model/vasg-model.js';
import { Rng } from '../src/data/random.js';
import { silentProgress } from '../src/progress.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-features-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// The tiny image model: global average pool ("pooled", [n, 3]) then a linear layer ("logits", [n, 2]).
const W = Float32Array.of(1, -2, 0.5, 3, -1, 0.25);
const B = Float32Array.of(0.1, -0.2);
const MEAN = [0.5, 0.25, 0.75];
const STD = [0.5, 0.25, 2];
const tinyModel: OnnxGraph = {
  name: 'tiny_image_model',
  nodes: [
    { op: 'GlobalAveragePool', inputs: ['image'], outputs: ['gap'] },
    { op: 'Flatten', inputs: ['gap'], outputs: ['pooled'], attributes: { axis: 1 } },
    { op: 'MatMul', inputs: ['pooled', 'W'], outputs: ['xw'] },
    { op: 'Add', inputs: ['xw', 'b'], outputs: ['logits'] },
  ],
  initializers: [{ name: 'W', dims: [3, 2], data: W }, { name: 'b', dims: [2], data: B }],
  inputs: [{ name: 'image', dims: ['batch', 3, 4, 4] }],
  outputs: [{ name: 'logits', dims: ['batch', 2] }, { name: 'pooled', dims: ['batch', 3] }],
};
const modelFile = path.join(tmp, 'tiny.onnx');
fs.writeFileSync(modelFile, encodeModel(tinyModel));

/** The hand computation for a solid colour: normalised channels, then the linear layer. */
function expected(rgb: number[]): { pooled: number[]; logits: number[] } {
  const pooled = rgb.map((v, c) => (v / 255 - MEAN[c]) / STD[c]);
  const logits = [0, 1].map((j) => pooled.reduce((s, v, c) => s + v * W[c * 2 + j], B[j]));
  return { pooled, logits };
}

async function solid(file: string, rgb: number[], size = 10): Promise<void> {
  await sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(file);
}

function assertClose(actual: ArrayLike<number>, wanted: number[], tolerance = 1e-5, what = ''): void {
  assert.equal(actual.length, wanted.length, what);
  wanted.forEach((v, k) => assert.ok(Math.abs(actual[k] - v) <= tolerance, `${what}[${k}]: ${actual[k]} vs ${v}`));
}

const images = path.join(tmp, 'images');
fs.mkdirSync(images);
const colours: Record<string, number[]> = { red: [200, 10, 30], green: [20, 180, 60], blue: [40, 50, 220], grey: [128, 128, 128] };
const ready = (async () => {
  for (const [name, rgb] of Object.entries(colours)) await solid(path.join(images, `${name}.png`), rgb);
  // Grayscale (1 channel) with the grey value 90, and a fully transparent RGBA image (→ white).
  await sharp(Buffer.alloc(64, 90), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(path.join(images, 'gray.png'));
  await sharp(Buffer.alloc(8 * 8 * 4, 0), { raw: { width: 8, height: 8, channels: 4 } }).png().toFile(path.join(images, 'clear.png'));
  fs.writeFileSync(path.join(images, 'corrupt.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(50, 7)]));
})();

function items(names: string[]): ImageItem[] {
  return names.map((name) => ({ itemId: name, file: name === 'missing' ? null : path.join(images, `${name}.png`) }));
}

test('an ONNX image model built in the test gives the hand-computed features, batch by batch', async () => {
  await ready;
  const names = ['red', 'green', 'blue', 'grey', 'gray', 'clear'];
  const wanted: Record<string, number[]> = { ...colours, gray: [90, 90, 90], clear: [255, 255, 255] };
  for (const output of ['logits', 'pooled'] as const) {
    const extractor = await onnxExtractor(modelFile, { inputSize: 4, mean: MEAN, std: STD, output });
    const out = path.join(tmp, `onnx-${output}.npy`);
    const { report } = await extractFeatures(items(names), extractor, out, { batch: 4, progress: silentProgress });
    await extractor.close();
    assert.deepEqual(report.failed, []);
    const features = readNpy(out);
    assert.equal(features.rows, names.length);
    names.forEach((name, r) => assertClose(features.data.subarray(r * features.cols, (r + 1) * features.cols), expected(wanted[name])[output], 1e-5, `${output} ${name}`));
  }
});

test('corrupt and missing images are reported and skipped, never fatal; the kept rows follow items.csv', async () => {
  await ready;
  const extractor = await onnxExtractor(modelFile, { inputSize: 4, mean: MEAN, std: STD });
  const out = path.join(tmp, 'bad.npy');
  const { report, keptRows } = await extractFeatures(items(['red', 'corrupt', 'missing', 'blue']), extractor, out, { batch: 2, progress: silentProgress });
  await extractor.close();
  assert.deepEqual(keptRows, [0, 3]);
  assert.equal(report.withFeatures, 2);
  assert.deepEqual(report.failed.map((f) => f.itemId), ['corrupt', 'missing']);
  assert.equal(report.failed[1].reason, 'no image file');
  assert.ok(report.failed[0].reason.length > 0);
  const features = readNpy(out);
  assertClose(features.data.subarray(2, 4), expected(colours.blue).logits);
  assert.ok(!fs.existsSync(partialDirFor(out)), 'the partial directory is removed at the end');
});

/** Counts the files an extractor is asked for; aborts the run after the first batch when told to. */
function counting(inner: FeatureExtractor, abortAfterFirst?: AbortController): FeatureExtractor & { files: string[] } {
  const files: string[] = [];
  return {
    key: inner.key,
    files,
    async extract(batch) {
      files.push(...batch.map(String));
      abortAfterFirst?.abort();
      return inner.extract(batch);
    },
    close: () => inner.close(),
  };
}

test('an interrupted run resumes: finished rows are not recomputed and the result equals an uninterrupted run', async () => {
  await ready;
  const names = ['red', 'green', 'blue', 'grey', 'gray', 'clear'];
  const whole = path.join(tmp, 'whole.npy');
  await extractFeatures(items(names), colorExtractor(), whole, { batch: 2, progress: silentProgress });
  const out = path.join(tmp, 'resumed.npy');
  const abort = new AbortController();
  const first = counting(colorExtractor(), abort);
  await assert.rejects(extractFeatures(items(names), first, out, { batch: 2, progress: silentProgress, signal: abort.signal }), InterruptedError);
  assert.equal(first.files.length, 2);
  assert.ok(!fs.existsSync(out), 'no features.npy before the run has finished');
  // A crash mid-append leaves a cut record: it is dropped, not misread.
  fs.appendFileSync(path.join(partialDirFor(out), 'rows.bin'), Buffer.from([1, 0, 0]));
  const second = counting(colorExtractor());
  const { report } = await extractFeatures(items(names), second, out, { batch: 2, progress: silentProgress });
  assert.equal(report.resumed, 2);
  assert.deepEqual(second.files, names.slice(2).map((n) => path.join(images, `${n}.png`)));
  assert.deepEqual(readNpy(out).data, readNpy(whole).data);
});

test('builtin:color is deterministic and sees colour, area and position', async () => {
  await ready;
  const file = path.join(tmp, 'square.png');
  const square = (left: number, rgb: number[]) => sharp({ create: { width: 64, height: 64, channels: 3, background: '#ffffff' } })
    .composite([{ input: { create: { width: 16, height: 32, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }, left, top: 16 }]).png().toFile(file)
    .then(() => loadRgb(file, 64)).then(colorFeatures);
  const a = await square(8, [220, 20, 20]);
  const again = await square(8, [220, 20, 20]);
  assert.equal(a.length, COLOR_FEATURE_DIM);
  assert.deepEqual(again, a);
  const H = 64;
  assert.ok(Math.abs(a[H + 6] - (16 * 32) / (64 * 64)) < 0.01, `area ${a[H + 6]}`);
  assert.ok(Math.abs(a[H + 7] - 15.5 / 63) < 0.01, `centroid x ${a[H + 7]}`);
  const moved = await square(40, [220, 20, 20]);
  assert.ok(moved[H + 7] > a[H + 7] + 0.4, 'the centroid follows the product');
  const blue = await square(8, [20, 20, 220]);
  assert.ok(a[H] !== blue[H] && a.subarray(0, H).some((v, k) => Math.abs(v - blue[k]) > 0.5), 'histograms differ for red and blue');
});

test('vasg features on the command line: builtin:color, a report of what is missing, the kept items listed', async () => {
  await ready;
  const itemsCsv = path.join(tmp, 'items.csv');
  fs.writeFileSync(itemsCsv, 'item_id,title,image_url\nred,Red one,red.png\nx1,No image,\nblue,Blue,https://shop.example/img/blue.png\n');
  const out = path.join(tmp, 'cli.npy');
  const run = spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'features', '--items', itemsCsv, '--images', images, '--model', 'builtin:color', '--out', out, '--json'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.withFeatures, 2);
  assert.deepEqual(report.failed, [{ itemId: 'x1', reason: 'no image file' }]);
  assert.equal(fs.readFileSync(report.itemsOut, 'utf8'), 'item_id,title,image_url\nred,Red one,red.png\nblue,Blue,https://shop.example/img/blue.png\n');
  assert.equal(readNpy(out).rows, 2);
  // Once every product has an image, the list of kept products from the earlier run is removed.
  fs.writeFileSync(itemsCsv, 'item_id,title,image_url\nred,Red one,red.png\nblue,Blue,https://shop.example/img/blue.png\n');
  const again = spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'features', '--items', itemsCsv, '--images', images, '--model', 'builtin:color', '--out', out, '--json'], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).itemsOut, null);
  assert.ok(!fs.existsSync(report.itemsOut), 'no stale list of kept products beside features.npy');
  const bad = spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'features', '--items', itemsCsv, '--images', images, '--model', modelFile, '--input-size', '4', '--output', 'nope', '--out', out], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /has no output "nope"; its outputs are "logits", "pooled"/);
});

test('imageFileFor: a path, a URL\'s file name in the folder (query dropped, %-escapes decoded), <item_id>.<ext>; a malformed URL is no file, not a crash', async () => {
  await ready;
  fs.copyFileSync(path.join(images, 'red.png'), path.join(images, 'big red.png'));
  try {
    assert.equal(imageFileFor(images, 'x', 'red.png'), path.join(images, 'red.png'));
    assert.equal(imageFileFor(images, 'x', path.join(images, 'blue.png')), path.join(images, 'blue.png'));
    assert.equal(imageFileFor(images, 'x', 'https://img.example/I/big%20red.png?w=300#top'), path.join(images, 'big red.png'));
    assert.equal(imageFileFor(images, 'green', ''), path.join(images, 'green.png'));
    assert.equal(imageFileFor(images, 'x', 'http://exa mple.com/%E0%A4%A.png'), null);
    assert.equal(imageFileFor(images, 'x', 'http://img.example'), null);
    assert.equal(imageFileFor(images, 'nothing', ''), null);
  } finally {
    fs.rmSync(path.join(images, 'big red.png'));
  }
});

function modelWith(minMaxScale: boolean): VasgModel {
  const config = resolveConfig({ dim: 6, minMaxScale, threads: 1 });
  const network = new native.Mlp([10, 7, 5, 6], { dropout: 0, outputRelu: false, seed: 3 });
  const rng = new Rng(4);
  network.setParams(network.getParams().map((p) => rng.fillNormal(new Float32Array(p.length), 0.5)));
  const calibration = rng.fillNormal(new Float32Array(12), 1);
  const none = { users: new Int32Array(0), items: new Int32Array(0), ratings: new Float32Array(0), timestamps: new Float64Array(0) };
  return VasgModel.fromTraining({
    config, userIds: [], itemIds: [], users: { data: new Float32Array(0), rows: 0, cols: 6 }, items: { data: new Float32Array(0), rows: 0, cols: 6 },
    cold: new Uint8Array(0), encoder: { network, calibration }, decoder: null, featureDim: 10, train: none,
  });
}

test('the encoder exported as ONNX matches VasgModel.embedFeatures to 1e-5, with and without min–max scaling', async () => {
  const rng = new Rng(7);
  const features = { data: rng.fillNormal(new Float32Array(50 * 10), 2), rows: 50, cols: 10 };
  features.data.fill(3, 0, 10); // a constant row: min–max scaling maps it to zeros
  for (const minMaxScale of [false, true]) {
    const model = modelWith(minMaxScale);
    const file = path.join(tmp, `encoder-${minMaxScale}.onnx`);
    if (minMaxScale) {
      // Through the command line, from a saved model directory.
      const dir = path.join(tmp, 'model');
      model.save(dir);
      const run = spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'export', '--model', dir, '--onnx', file, '--json'], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { target: 'onnx', out: file, input: ENCODER_INPUT, output: ENCODER_OUTPUT, featureDim: 10, dim: 6 });
    } else {
      fs.writeFileSync(file, encodeModel(encoderGraph(model)));
    }
    const session = await ort.InferenceSession.create(file);
    const result = await session.run({ [ENCODER_INPUT]: new ort.Tensor('float32', features.data, [50, 10]) });
    await session.release();
    const native = await model.embedFeatures(features);
    assertClose(result[ENCODER_OUTPUT].data as Float32Array, Array.from(native.data), 1e-5, `minMaxScale ${minMaxScale}`);
  }
});
