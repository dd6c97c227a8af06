// `vasg serve --images DIR`: GET /items/:id/image serves each product's picture from a local folder, found
// as `vasg features` finds it, never outside the folder (data and POST /items name the file, not the request),
// only as a browser-safe raster type, with cache headers; `vasg train --images` keeps the folder with the model.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { prepareSplit, train, VasgModel, writeDataset } from '../src/index.js';
import { generateWithStyles } from '../src/data/generate.js';
import { writeProductImages } from '../src/data/images.js';
import { silentProgress } from '../src/progress.js';
import { Catalog } from '../src/serve/catalog.js';
import { buildServer } from '../src/serve/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-pictures-'));
const images = path.join(dir, 'images');
let app: FastifyInstance;
let base = '';
let itemIds: string[] = [];
let featureDim = 0;

before(async () => {
  const { dataset, styles } = generateWithStyles('tiny', 1);
  await writeProductImages(images, dataset, styles, 1, silentProgress);
  writeDataset(path.join(dir, 'data'), dataset);
  itemIds = dataset.itemIds;
  featureDim = dataset.features.cols;
  const { model } = await train(prepareSplit(dataset, { seed: 1 }), { config: { threads: 1, seed: 1, dim: 8, epochs: 1, rankEpochs: 1 } });
  model.save(path.join(dir, 'model'));
  // Files the image_url of posted products will point at: outside the folder, a link out of it, a type not served.
  fs.writeFileSync(path.join(dir, 'secret.png'), fs.readFileSync(path.join(images, `${itemIds[0]}.png`)));
  fs.symlinkSync(path.join(dir, 'secret.png'), path.join(images, 'link-out.png'));
  fs.writeFileSync(path.join(images, 'drawing.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  fs.writeFileSync(path.join(images, 'Photo.JPG'), fs.readFileSync(path.join(images, `${itemIds[1]}.png`)));
  app = await buildServer(new Catalog(VasgModel.load(path.join(dir, 'model'))), { images });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function add(id: string, imageUrl: string): Promise<void> {
  const response = await fetch(`${base}/items`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ id, image_url: imageUrl, features: new Array(featureDim).fill(0.5) }] }),
  });
  assert.equal(response.status, 200, await response.text());
}

test('a product\'s picture: the file\'s bytes, its type, cache headers; a repeated request with the ETag is a 304', async () => {
  const id = itemIds[3];
  const response = await fetch(`${base}/items/${id}/image`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'image/png');
  assert.equal(response.headers.get('cache-control'), 'public, max-age=3600');
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(Buffer.from(await response.arrayBuffer()), fs.readFileSync(path.join(images, `${id}.png`)));
  const etag = response.headers.get('etag')!;
  assert.match(etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
  const again = await fetch(`${base}/items/${id}/image`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal((await (await fetch(`${base}/healthz`)).json()).images, true);
  const doc = await (await fetch(`${base}/openapi.json`)).json();
  assert.ok(doc.paths['/items/{id}/image'].get.summary);
});

test('unknown products and products without a picture are 404s that say which', async () => {
  const unknown = await fetch(`${base}/items/no-such-product/image`);
  assert.equal(unknown.status, 404);
  assert.match((await unknown.json()).error, /unknown product "no-such-product"/);
  await add('no-picture', 'not-there.png');
  const missing = await fetch(`${base}/items/no-picture/image`);
  assert.equal(missing.status, 404);
  assert.match((await missing.json()).error, /product "no-picture" has no image in the images folder/);
  // The id in the request is an id, never a path.
  assert.equal((await fetch(`${base}/items/..%2F..%2Fsecret.png/image`)).status, 404);
});

test('nothing outside the folder is served, whatever image_url says; SVG is not served', async () => {
  for (const [id, url] of [['up', '../secret.png'], ['absolute', path.join(dir, 'secret.png')], ['link', 'link-out.png'], ['up-url', 'https://cdn.example/x/%2E%2E%2Fsecret.png'], ['svg', 'drawing.svg'], ['folder', '.']]) {
    await add(id, url);
    assert.equal((await fetch(`${base}/items/${id}/image`)).status, 404, `${id}: ${url}`);
  }
});

test('an http(s) URL is served from its file name in the folder; the type follows the extension, in any case', async () => {
  await add('from-url', `https://shop.example/img/${itemIds[2]}.png?size=large`);
  const fromUrl = await fetch(`${base}/items/from-url/image`);
  assert.equal(fromUrl.status, 200);
  assert.deepEqual(Buffer.from(await fromUrl.arrayBuffer()), fs.readFileSync(path.join(images, `${itemIds[2]}.png`)));
  await add('jpeg', 'Photo.JPG');
  const jpeg = await fetch(`${base}/items/jpeg/image`);
  assert.equal(jpeg.status, 200);
  assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
});

test('a missing images folder stops the server at start; without one there is no picture route', async () => {
  await assert.rejects(buildServer(new Catalog(VasgModel.load(path.join(dir, 'model'))), { images: path.join(dir, 'nowhere') }), /--images .*nowhere: no such folder/);
  const plain = await buildServer(new Catalog(VasgModel.load(path.join(dir, 'model'))));
  try {
    assert.equal((await plain.inject({ url: '/healthz' })).json().images, false);
    assert.equal((await plain.inject({ url: `/items/${itemIds[0]}/image` })).statusCode, 404);
  } finally {
    await plain.close();
  }
});

test('vasg train --images keeps the folder with the model: vasg serve shows the pictures without --images', async () => {
  const model = path.join(dir, 'model-cli');
  const trained = spawnSync(process.execPath, [path.join(root, 'bin/vasg.js'), 'train', '--data', path.join(dir, 'data'), '--out', model, '--images', images,
    '--threads', '1', '--dim', '8', '--epochs', '1', '--rank-epochs', '1', '--json'], { encoding: 'utf8' });
  assert.equal(trained.status, 0, trained.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(model, 'manifest.json'), 'utf8')).info.images, images);
  const server = spawn(process.execPath, [path.join(root, 'bin/vasg.js'), 'serve', '--model', model, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await firstLine(server);
    assert.match(line, new RegExp(`images from ${images.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const address = /listening on (\S+)/.exec(line)![1];
    const picture = await fetch(`${address}/items/${itemIds[0]}/image`);
    assert.equal(picture.status, 200);
    assert.equal(picture.headers.get('content-type'), 'image/png');
  } finally {
    server.kill('SIGTERM');
  }
  const refused = spawnSync(process.execPath, [path.join(root, 'bin/vasg.js'), 'train', '--data', path.join(dir, 'data'), '--out', path.join(dir, 'never'), '--images', path.join(dir, 'nowhere')], { encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /--images .*nowhere: no such folder/);
  assert.ok(!fs.existsSync(path.join(dir, 'never')));
});

/** The server's first stdout line, or a failure after 60 s (never a hang). */
function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no output from vasg serve in 60 s; stderr: ${err}`)), 60_000);
    child.stderr!.on('data', (chunk) => (err += chunk));
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0]);
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`vasg serve exited with ${code}: ${err}`)); });
  });
}
