// The web page at `/`, driven in Debian's chromium through playwright-core (no browser download): pick a
// user, see purchases and recommendations, open similar products, add a product from a features file and
// see where it lands and whom it would be recommended to, add one from a photo (the server runs builtin:color,
// and the model is trained on builtin:color features of rendered product images), use the map from the
// keyboard, take a screenshot.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { prepareSplit, train, VasgModel } from '../src/index.js';
import { generateWithStyles } from '../src/data/generate.js';
import { renderProductImages } from '../src/data/images.js';
import { BUILTIN_COLOR, colorExtractor } from '../src/features/extractors.js';
import { COLOR_FEATURE_DIM } from '../src/features/color.js';
import { silentProgress } from '../src/progress.js';
import { Catalog } from '../src/serve/catalog.js';
import { buildServer } from '../src/serve/server.js';

const CHROMIUM = process.env.VASG_CHROMIUM ?? '/usr/bin/chromium';
const KEY = 'web-secret';
const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-web-'));
// A 1×1 PNG, so an image URL loads with no network; another URL that fails shows the placeholder.
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let app: FastifyInstance;
/** The same model served with its pictures (vasg serve --images). */
let picturesApp: FastifyInstance;
let picturesBase = '';
let browser: Browser;
let page: Page;
let base = '';
let model: VasgModel;
let coldId = '';
let coldFeatures: number[] = [];
let coldPng: Buffer = Buffer.alloc(0);
const outside: string[] = [];

before(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Debian's chromium at ${CHROMIUM} (apt-get install chromium, as .ci/run does) or VASG_CHROMIUM=/path/to/chromium`);
  }
  const { dataset, styles } = generateWithStyles('tiny', 1);
  const pngs = await renderProductImages(styles, 1, silentProgress);
  const features = new Float32Array(pngs.length * COLOR_FEATURE_DIM);
  (await colorExtractor().extract(pngs)).forEach((row, i) => features.set(row as Float32Array, i * COLOR_FEATURE_DIM));
  const split = prepareSplit({ ...dataset, features: { data: features, rows: pngs.length, cols: COLOR_FEATURE_DIM } }, { seed: 1 });
  // Cosine scoring (the paper's), so that "nearest" means same direction: a product's twin comes first.
  ({ model } = await train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1, scoring: 'cosine' } }));
  const bought = purchasesOf(model.parts.userIds[0]);
  model.parts.meta![model.itemIndexOf(bought[0])].imageUrl = PIXEL;
  model.parts.meta![model.itemIndexOf(bought[1])].imageUrl = '/no-such-image.png';
  coldId = model.parts.itemIds[model.parts.cold.indexOf(1)];
  const row = split.itemIds.indexOf(coldId);
  coldFeatures = Array.from(split.features.data.subarray(row * split.features.cols, (row + 1) * split.features.cols));
  coldPng = pngs[dataset.itemIds.indexOf(coldId)];
  model.save(path.join(dir, 'model'));
  app = await buildServer(new Catalog(VasgModel.load(path.join(dir, 'model'))), { apiKey: KEY, imageFeatures: { name: BUILTIN_COLOR, extractor: colorExtractor() } });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  const images = path.join(dir, 'images');
  fs.mkdirSync(images);
  dataset.itemIds.forEach((id, i) => fs.writeFileSync(path.join(images, `${id}.png`), pngs[i]));
  picturesApp = await buildServer(new Catalog(VasgModel.load(path.join(dir, 'model'))), { images });
  picturesBase = await picturesApp.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  // Nothing may come from anywhere but the server (no CDN); record any attempt and refuse it.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith(picturesBase) || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await page.goto(`${base}/`);
  await page.locator('#status').filter({ hasText: 'Pick a user' }).waitFor();
});

after(async () => {
  await browser?.close();
  await app?.close();
  await picturesApp?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function purchasesOf(user: string): string[] {
  const u = model.userIndexOf(user);
  return Array.from(model.parts.seenIndices.subarray(model.parts.seenIndptr[u], model.parts.seenIndptr[u + 1]), (i) => model.parts.itemIds[i]);
}

const ids = (list: string, attribute = 'data-item') => page.locator(`#${list} [${attribute}]`).evaluateAll((nodes, a) => nodes.map((n) => n.getAttribute(a)), attribute);

async function apiJson(url: string, server = base): Promise<any> {
  return (await fetch(server + url)).json();
}

test('pick a user by id prefix: purchases and recommendations side by side, images or placeholders', async () => {
  const user = model.parts.userIds[0];
  await page.getByLabel('User id starts with').fill(user);
  await page.locator(`#user-list [data-user="${user}"]`).click();
  await page.locator('#status').filter({ hasText: `User ${user}:` }).waitFor();
  assert.deepEqual(await ids('history'), purchasesOf(user));
  const recs = (await apiJson(`/users/${user}/recommendations?k=10`)).recommendations.map((r: { id: string }) => r.id);
  assert.deepEqual(await ids('recommendations'), recs);
  assert.match(await page.locator('#recommendations .why').first().innerText(), /because they bought|looks like/);
  // The product with a loadable image shows it; the broken URL and the products without one show the placeholder.
  // (Images load and fail asynchronously: wait for that state rather than sampling it.)
  await page.waitForFunction((placeholders) => {
    const images = document.querySelectorAll<HTMLImageElement>('#history img');
    return images.length === 1 && images[0].complete && images[0].naturalWidth === 1 && document.querySelectorAll('#history .placeholder').length === placeholders;
  }, purchasesOf(user).length - 1);
  assert.equal(await page.locator(`#user-list [data-user="${user}"]`).getAttribute('aria-pressed'), 'true');
});

test('a product, opened from the keyboard, shows its similar products', async () => {
  const first = page.locator('#recommendations .card').first();
  const id = await first.getAttribute('data-item');
  await first.focus();
  await page.keyboard.press('Enter');
  await page.locator('#similar-note').filter({ hasText: 'Nearest to' }).waitFor();
  const expected = (await apiJson(`/items/${id}/similar?k=8`)).similar.map((r: { id: string }) => r.id);
  assert.deepEqual(await ids('similar'), expected);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'similar-heading');
});

test('add a product from a features file: refused without the key, then lands beside its twin', async () => {
  const form = page.locator('#add-form');
  await form.getByLabel('Product id').fill('web-new');
  await form.getByLabel('Title').fill('Uploaded product');
  await form.getByLabel('Category').fill('uploads');
  await form.getByLabel('Features file').setInputFiles({ name: 'features.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(coldFeatures)) });
  await form.getByRole('button', { name: 'Add product' }).click();
  await page.locator('#status.error').filter({ hasText: 'API key' }).waitFor();
  assert.equal((await fetch(`${base}/items/web-new`)).status, 404);
  // The key box has opened; with the key the write goes through.
  await page.getByLabel('Key sent with writes').fill(KEY);
  await form.getByRole('button', { name: 'Add product' }).click();
  await page.locator('#status').filter({ hasText: 'Added web-new' }).waitFor();
  // The same features as a cold product embed to the same point: that product is its nearest neighbour.
  const lands = await ids('lands');
  assert.equal(lands.length, 8);
  assert.equal(lands[0], coldId);
  const audience = (await apiJson('/items/web-new/users?k=10')).users.map((u: { id: string }) => u.id);
  assert.deepEqual(await ids('recommended-to', 'data-user'), audience);
  assert.equal(audience.length, 10);
  // A user it would be recommended to opens like any other.
  await page.locator(`#recommended-to [data-user="${audience[0]}"]`).click();
  await page.locator('#status').filter({ hasText: `User ${audience[0]}:` }).waitFor();
});

test('a bad features file is reported with the file name, and nothing is added', async () => {
  const form = page.locator('#add-form');
  await form.getByLabel('Product id').fill('web-bad');
  await form.getByLabel('Features file').setInputFiles({ name: 'row.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,x\n') });
  await form.getByRole('button', { name: 'Add product' }).click();
  await page.locator('#status.error').filter({ hasText: 'row.csv: line 2, column 2: "x" is not a number' }).waitFor();
  assert.equal((await fetch(`${base}/items/web-bad`)).status, 404);
});

test('add a product from a photo: the server turns it into features, and it lands beside the product it shows', async () => {
  const form = page.locator('#add-form');
  assert.equal(await page.locator('#features-model').innerText(), BUILTIN_COLOR);
  await form.getByLabel('Product id').fill('web-photo');
  await form.getByLabel('Features file').setInputFiles([]);
  await form.getByLabel('Product image').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: coldPng });
  await form.getByRole('button', { name: 'Add product' }).click();
  await page.locator('#status').filter({ hasText: 'Added web-photo' }).waitFor();
  // The photo of a cold product gives its features, hence its point, so that product (or the features-file twin
  // added above, at the same point) comes first.
  const lands = await ids('lands');
  assert.ok([coldId, 'web-new'].includes(lands[0] ?? ''), lands.join(','));
  assert.ok(lands.slice(0, 2).includes(coldId), lands.join(','));
  // Both a file and a photo: refused in the page, nothing sent.
  await form.getByLabel('Product id').fill('web-both');
  await form.getByLabel('Features file').setInputFiles({ name: 'features.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(coldFeatures)) });
  await form.getByRole('button', { name: 'Add product' }).click();
  await page.locator('#status.error').filter({ hasText: 'one of them' }).waitFor();
  assert.equal((await fetch(`${base}/items/web-both`)).status, 404);
  await form.getByLabel('Product image').setInputFiles([]);
});

test('the embedding map: the new product is marked; arrow keys and Enter open a point', async () => {
  assert.match(await page.locator('#map').getAttribute('aria-label') ?? '', /\d+ products and \d+ users/);
  assert.ok(await page.locator('#legend li').filter({ hasText: 'uploads' }).count() === 1);
  await page.locator('#map').focus();
  await page.keyboard.press('ArrowRight');
  const pick = await page.locator('#map-pick').innerText();
  const [, kind, id] = /^(User|Product) ([^\s:]+)/.exec(pick) ?? [];
  assert.ok(id, pick);
  await page.keyboard.press('Enter');
  await page.locator('#status').filter({ hasText: kind === 'User' ? `User ${id}:` : `similar to ${id}` }).waitFor();
  // Canvas pixels in several colours: points were drawn.
  const colours = await page.locator('#map').evaluate((canvas: HTMLCanvasElement) => {
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const seen = new Set<number>();
    for (let p = 0; p < pixels.length; p += 4) if (pixels[p + 3] > 200) seen.add((pixels[p] << 16) | (pixels[p + 1] << 8) | pixels[p + 2]);
    return seen.size;
  });
  assert.ok(colours >= 3, `${colours} colours on the map`);
});

test('with --images: ?user= restores the view, the recommended products\' pictures load, explanations show titles and thumbnails', async () => {
  // A user whose top 10 holds none of the two products given a 1-pixel and a missing picture above. Lists come from the
  // pictures server the page talks to: the first server also ranks the products added by the tests above.
  const altered = purchasesOf(model.parts.userIds[0]).slice(0, 2);
  let user = '';
  for (const candidate of model.parts.userIds.slice(1)) {
    const top = (await apiJson(`/users/${candidate}/recommendations?k=10`, picturesBase)).recommendations as Array<{ id: string }>;
    if (!top.some((r) => altered.includes(r.id))) {
      user = candidate;
      break;
    }
  }
  assert.ok(user, 'a user whose recommendations avoid the altered pictures');
  await page.goto(`${picturesBase}/?user=${user}`);
  await page.locator('#status').filter({ hasText: `User ${user}:` }).waitFor();
  assert.deepEqual(await ids('history'), purchasesOf(user));
  const recs = (await apiJson(`/users/${user}/recommendations?k=10`, picturesBase)).recommendations as Array<{ id: string; because?: string[]; looksLike?: string[] }>;
  assert.deepEqual(await ids('recommendations'), recs.map((r) => r.id));
  assert.equal(await page.locator(`#user-list [data-user="${user}"]`).getAttribute('aria-pressed'), 'true');
  // Every card's picture is the rendered PNG, decoded by the browser (not merely an <img> that exists).
  await page.waitForFunction(() => {
    const images = [...document.querySelectorAll<HTMLImageElement>('#recommendations .card > img')];
    return images.length === 10 && images.every((img) => img.complete && img.naturalWidth === 64);
  });
  assert.equal(await page.locator('#recommendations .card > .placeholder').count(), 0);
  // The first explanation names products by title, each with a loaded thumbnail; the ids are in the tooltips.
  const explained = recs[0].because ?? recs[0].looksLike ?? [];
  assert.ok(explained.length > 0);
  const titles = await Promise.all(explained.map(async (id) => (await apiJson(`/items/${id}`)).title as string));
  const why = page.locator('#recommendations .card').first().locator('.why');
  await page.waitForFunction((n) => {
    const thumbs = [...document.querySelectorAll<HTMLImageElement>('#recommendations li:first-child .why img.thumb')];
    return thumbs.length === n && thumbs.every((img) => img.complete && img.naturalWidth > 0);
  }, explained.length);
  assert.deepEqual(await why.locator('.ref-title').allInnerTexts(), titles);
  assert.deepEqual(await why.locator('.ref').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('title'))), explained);
  // Opening a product adds it to the URL; reloading that URL shows the same user and product.
  const first = recs[0].id;
  await page.locator(`#recommendations [data-item="${first}"]`).click();
  await page.locator('#status').filter({ hasText: `similar to ${first}` }).waitFor();
  assert.equal(new URL(page.url()).search, `?user=${user}&item=${first}`);
  const similar = await ids('similar');
  await page.reload();
  await page.locator('#status').filter({ hasText: `similar to ${first}` }).waitFor();
  assert.deepEqual(await ids('similar'), similar);
  assert.deepEqual(await ids('history'), purchasesOf(user));
  assert.match(await page.title(), new RegExp(`user ${user}: product ${first}`));
  // Back returns to the user's view alone.
  await page.goBack();
  assert.equal(new URL(page.url()).search, `?user=${user}`);
});

test('?item= alone opens a product\'s nearest products; an unknown id in the URL is reported, not a blank page', async () => {
  const item = model.parts.itemIds[5];
  await page.goto(`${picturesBase}/?item=${item}`);
  await page.locator('#status').filter({ hasText: `similar to ${item}` }).waitFor();
  assert.deepEqual(await ids('similar'), (await apiJson(`/items/${item}/similar?k=8`)).similar.map((r: { id: string }) => r.id));
  assert.equal(await page.locator('#similar-note .ref-title').innerText(), (await apiJson(`/items/${item}`)).title);
  await page.goto(`${picturesBase}/?user=nobody`);
  await page.locator('#status.error').filter({ hasText: 'unknown user "nobody"' }).waitFor();
});

test('a screenshot of the whole page is a real PNG; nothing was fetched from outside the server', async () => {
  const shots = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-shot-'));
  try {
    const file = path.join(shots, 'page.png');
    await page.screenshot({ path: file, fullPage: true });
    const png = fs.readFileSync(file);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    assert.equal(width, 1366);
    assert.ok(height > 768, `page height ${height}`);
    assert.ok(png.length > 30_000, `${png.length} bytes`);
    if (process.env.VASG_SCREENSHOT) fs.copyFileSync(file, process.env.VASG_SCREENSHOT);
  } finally {
    fs.rmSync(shots, { recursive: true, force: true });
  }
  assert.deepEqual(outside, []);
});
