// The vasg web page: pick a user → purchases and recommendations; a product → its nearest products;
// add a product from a features file (or a photo, when the server has a features model) → where it lands and whom it would be recommended to; an embedding
// map. Talks only to the vasg HTTP API on the same origin; every text from the API goes in via textContent.
import { parseFeatures } from './features.js';

const $ = (id) => document.getElementById(id);
// user/item: the view, mirrored in the URL (?user=U1&item=P1) so it can be shared and reloaded.
// images: the server serves pictures at /items/:id/image (vasg serve --images). known: products seen so far, by id.
const state = { user: null, item: null, images: false, known: new Map(), map: null, mapCursor: -1, highlight: null };

/** Calls the API; writes carry the API key when one is entered. Throws the server's error message. */
async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const key = $('api-key').value.trim();
  if (method !== 'GET' && key) headers['x-api-key'] = key;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    $('key-box').open = true;
    throw new Error('this server needs its API key for writes: enter it under "API key" at the top');
  }
  if (!response.ok) throw new Error(data.error ?? `${method} ${path}: HTTP ${response.status}`);
  return data;
}

function say(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

/** Runs an action, reporting its failure in the status line instead of losing it. */
function guarded(action) {
  return (...args) => action(...args).catch((error) => say(error.message, true));
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Where a product's picture may come from, in order: the server's copy (with --images), then its image_url
 * (with --images only a full URL: a relative one names a file in that folder, already tried).
 */
function imageSources(item) {
  const sources = state.images ? [`/items/${encodeURIComponent(item.id)}/image`] : [];
  if (item.imageUrl && (!state.images || /^(https?:|data:)/i.test(item.imageUrl))) sources.push(item.imageUrl);
  return sources;
}

/** A product's picture, or a clear placeholder when it has none or none of its sources loads. */
function picture(item, className = '') {
  const placeholder = element('span', `placeholder ${className}`, className ? '' : 'no image');
  const sources = imageSources(item);
  if (sources.length === 0) return placeholder;
  const img = element('img', className);
  img.alt = '';
  img.loading = 'lazy';
  img.src = sources.shift();
  img.addEventListener('error', () => {
    if (sources.length) img.src = sources.shift();
    else img.replaceWith(placeholder);
  });
  return img;
}

function remember(items) {
  for (const item of items) state.known.set(item.id, item);
}

/** A product's title and picture, from the page's products or, once, from the API. */
function lookup(id) {
  const known = state.known.get(id);
  if (known) return Promise.resolve(known);
  const pending = api(`/items/${encodeURIComponent(id)}`).catch(() => ({ id }));
  state.known.set(id, pending);
  return pending.then((item) => (state.known.set(id, item), item));
}

/** "because they bought …" / "looks like …" as thumbnails with titles (the ids stay in the tooltip). */
function explanation(item) {
  const why = element('span', 'why');
  const [label, ids] = item.because?.length ? ['because they bought', item.because]
    : item.looksLike?.length ? ['looks like', item.looksLike] : ['', []];
  if (!ids.length) return why;
  why.append(element('span', 'why-label', label));
  for (const id of ids) {
    const ref = element('span', 'ref');
    ref.title = id;
    ref.append(element('span', 'ref-title', id));
    why.append(ref);
    void lookup(id).then((product) => ref.replaceWith(productChip(product)));
  }
  return why;
}

/** A product as a small chip: round thumbnail and title, the id in the tooltip. */
function productChip(product) {
  const chip = element('span', 'ref');
  chip.title = product.id;
  chip.append(picture(product, 'thumb'), element('span', 'ref-title', product.title || product.id));
  return chip;
}

/** A product card: a button that shows the product's similar products. */
function productCard(item) {
  const button = element('button', 'card');
  button.type = 'button';
  button.dataset.item = item.id;
  button.append(picture(item));
  const title = element('span', 'title', item.title || item.id);
  if (item.cold) title.append(element('span', 'tag', 'never bought'));
  button.append(title);
  const meta = [item.category || 'no category', item.id];
  if (item.score !== undefined) meta.push(`score ${item.score.toFixed(3)}`);
  button.append(element('span', 'meta', meta.join(' · ')));
  button.append(explanation(item));
  button.addEventListener('click', guarded(() => showSimilar(item)));
  const li = element('li');
  li.append(button);
  return li;
}

function renderCards(listId, items) {
  remember(items);
  $(listId).replaceChildren(...items.map(productCard));
}

/** Chips that select a user. */
function renderUserChips(listId, users) {
  $(listId).replaceChildren(...users.map((user) => {
    const id = typeof user === 'string' ? user : user.id;
    const button = element('button', '', typeof user === 'string' ? id : `${id} (${user.score.toFixed(3)})`);
    button.type = 'button';
    button.dataset.user = id;
    button.setAttribute('aria-pressed', String(id === state.user));
    button.addEventListener('click', guarded(() => selectUser(id)));
    const li = element('li');
    li.append(button);
    return li;
  }));
}

async function searchUsers(prefix) {
  const { users, total } = await api(`/users?prefix=${encodeURIComponent(prefix)}&limit=30`);
  if (prefix !== $('user-prefix').value.trim()) return; // typed on since: a newer search answers
  $('user-count').textContent = total === 0 ? 'No user id starts with that.'
    : `${total} user${total === 1 ? '' : 's'}${total > users.length ? `, the first ${users.length} shown` : ''}.`;
  renderUserChips('user-list', users);
}

async function selectUser(id, record = true) {
  say(`Loading user ${id}…`);
  const [history, recs] = await Promise.all([
    api(`/users/${encodeURIComponent(id)}`),
    api(`/users/${encodeURIComponent(id)}/recommendations?k=10`),
  ]);
  state.user = id;
  if (record) recordView();
  for (const chip of document.querySelectorAll('[data-user]')) chip.setAttribute('aria-pressed', String(chip.dataset.user === id));
  $('history-note').textContent = `User ${id} bought ${history.purchases.length} product${history.purchases.length === 1 ? '' : 's'}.`;
  renderCards('history', history.purchases); // first: the recommendations' "because" names these
  $('recommendations-note').textContent = `Top ${recs.recommendations.length} for ${id}, bought products left out.`;
  renderCards('recommendations', recs.recommendations);
  say(`User ${id}: ${history.purchases.length} purchases, ${recs.recommendations.length} recommendations.`);
}

async function showSimilar(item, record = true) {
  const { similar } = await api(`/items/${encodeURIComponent(item.id)}/similar?k=8`);
  state.item = item.id;
  if (record) recordView();
  for (const card of document.querySelectorAll('.card')) card.classList.toggle('selected', card.dataset.item === item.id);
  $('similar-note').replaceChildren('Nearest to ', productChip(item), item.category ? ` (${item.category}):` : ':');
  renderCards('similar', similar);
  if (record) $('similar-heading').focus();
  say(`${similar.length} products similar to ${item.id}.`);
}

// --- the view in the URL -----------------------------------------------------------------------------

/** A new history entry for the current view: the address bar can be copied, Back returns to the last view. */
function recordView() {
  const params = new URLSearchParams();
  if (state.user) params.set('user', state.user);
  if (state.item) params.set('item', state.item);
  const search = params.size ? `?${params}` : '';
  if (search !== location.search) history.pushState(null, '', `${location.pathname}${search}`);
  document.title = ['vasg', state.user && `user ${state.user}`, state.item && `product ${state.item}`].filter(Boolean).join(': ');
}

/** Shows the view the URL names (on load, and on Back/Forward). */
async function restoreView() {
  const params = new URLSearchParams(location.search);
  const [user, item] = [params.get('user'), params.get('item')];
  if (user && user !== state.user) await selectUser(user, false);
  if (item && item !== state.item) await showSimilar(await lookup(item), false);
  document.title = ['vasg', user && `user ${user}`, item && `product ${item}`].filter(Boolean).join(': ');
  return Boolean(user || item);
}

/** The product's features from the form: a features file, or a photo the server turns into features. */
async function featuresOrImage(data) {
  const features = data.get('features');
  const image = data.get('image');
  const hasFeatures = features instanceof File && features.size > 0;
  const hasImage = image instanceof File && image.size > 0;
  if (hasFeatures === hasImage) throw new Error('choose a features file or a product image (one of them)');
  if (hasFeatures) {
    const values = parseFeatures(features.name, await features.arrayBuffer());
    return { body: { features: values }, what: `${values.length} features` };
  }
  return { body: { image: await base64Of(image) }, what: `image ${image.name}` };
}

async function base64Of(file) {
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`${file.name}: cannot read the file`));
    reader.readAsDataURL(file);
  });
  return url.slice(url.indexOf(',') + 1);
}

async function addProduct(form) {
  const data = new FormData(form);
  const { body, what } = await featuresOrImage(data);
  const item = { id: String(data.get('id')).trim(), ...body };
  for (const field of ['title', 'category', 'image_url']) {
    const value = String(data.get(field) ?? '').trim();
    if (value) item[field] = value;
  }
  say(`Adding ${item.id} (${what})…`);
  await api('/items', { method: 'POST', body: { items: [item] } });
  const [lands, audience] = await Promise.all([
    api(`/items/${encodeURIComponent(item.id)}/similar?k=8`),
    api(`/items/${encodeURIComponent(item.id)}/users?k=10`),
  ]);
  renderCards('lands', lands.similar);
  renderUserChips('recommended-to', audience.users);
  $('lands-heading').focus();
  state.highlight = item.id;
  await loadMap();
  say(`Added ${item.id}: it lands next to ${lands.similar.slice(0, 3).map((s) => s.id).join(', ')}.`);
}

// --- the embedding map ---------------------------------------------------------------------------

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#393b79', '#637939', '#843c39'];
const MARGIN = 24;

async function loadMap() {
  const include = state.highlight ? `&include=${encodeURIComponent(state.highlight)}` : '';
  const { points, explained } = await api(`/map?limit=1500${include}`);
  const categories = [...new Set(points.filter((p) => p.kind === 'item').map((p) => p.category))].sort();
  const colour = new Map(categories.map((c, j) => [c, PALETTE[j % PALETTE.length]]));
  // Keyboard order: left to right.
  points.sort((a, b) => a.x - b.x || a.y - b.y);
  state.map = { points, colour };
  state.mapCursor = -1;
  $('map').setAttribute('aria-label', `Embedding map: ${points.filter((p) => p.kind === 'item').length} products and ${points.filter((p) => p.kind === 'user').length} users; the axes explain ${(100 * explained[0]).toFixed(0)}% and ${(100 * explained[1]).toFixed(0)}% of the variance`);
  $('legend').replaceChildren(...[...colour].map(([category, c]) => legendEntry(c, category || 'no category')), legendEntry('#8a8f99', 'users'));
  drawMap();
}

function legendEntry(colour, text) {
  const li = element('li');
  const swatch = element('span', 'swatch');
  swatch.style.background = colour;
  li.append(swatch, text);
  return li;
}

/** Canvas coordinates of every point (the projection scaled to fit and centred, aspect ratio kept). */
function layout(canvas, points) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((canvas.width - 2 * MARGIN) / (x1 - x0 || 1), (canvas.height - 2 * MARGIN) / (y1 - y0 || 1));
  const left = (canvas.width - (x1 - x0) * scale) / 2;
  const bottom = (canvas.height + (y1 - y0) * scale) / 2;
  return points.map((p) => ({ cx: left + (p.x - x0) * scale, cy: bottom - (p.y - y0) * scale }));
}

function drawMap() {
  const canvas = $('map');
  const ctx = canvas.getContext('2d');
  const { points, colour } = state.map;
  const at = layout(canvas, points);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  points.forEach((p, j) => {
    ctx.beginPath();
    if (p.kind === 'user') {
      ctx.arc(at[j].cx, at[j].cy, 2.5, 0, 2 * Math.PI);
      ctx.strokeStyle = '#8a8f99';
      ctx.stroke();
    } else {
      ctx.arc(at[j].cx, at[j].cy, 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = colour.get(p.category);
      ctx.fill();
    }
  });
  const marked = [points.findIndex((p) => p.kind === 'item' && p.id === state.highlight), state.mapCursor];
  for (const j of marked.filter((j) => j >= 0)) {
    ctx.beginPath();
    ctx.arc(at[j].cx, at[j].cy, 9, 0, 2 * Math.PI);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = '#111';
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.fillStyle = '#111';
    ctx.font = '13px system-ui, sans-serif';
    ctx.fillText(points[j].id, at[j].cx + 11, at[j].cy - 8);
  }
}

function moveMapCursor(j) {
  const { points } = state.map;
  state.mapCursor = (j + points.length) % points.length;
  const p = points[state.mapCursor];
  $('map-pick').textContent = `${p.kind === 'user' ? 'User' : 'Product'} ${p.id}${p.category ? ` (${p.category})` : ''}: press Enter to open it.`;
  drawMap();
}

async function openMapPoint(p) {
  if (p.kind === 'user') return selectUser(p.id);
  return showSimilar(await api(`/items/${encodeURIComponent(p.id)}`));
}

function onMapClick(event) {
  if (!state.map) return;
  const canvas = $('map');
  const box = canvas.getBoundingClientRect();
  const x = ((event.clientX - box.left) * canvas.width) / box.width;
  const y = ((event.clientY - box.top) * canvas.height) / box.height;
  const at = layout(canvas, state.map.points);
  let best = -1;
  let bestDistance = 12 * 12;
  at.forEach(({ cx, cy }, j) => {
    const d = (cx - x) ** 2 + (cy - y) ** 2;
    if (d < bestDistance) [best, bestDistance] = [j, d];
  });
  if (best < 0) return;
  moveMapCursor(best);
  guarded(openMapPoint)(state.map.points[best]);
}

function onMapKey(event) {
  if (!state.map) return;
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (step) {
    event.preventDefault();
    moveMapCursor(state.mapCursor < 0 ? 0 : state.mapCursor + step);
  } else if (event.key === 'Enter' && state.mapCursor >= 0) {
    event.preventDefault();
    guarded(openMapPoint)(state.map.points[state.mapCursor]);
  }
}

/** With a features model on the server, a photo can stand in for the features file. */
function offerImageUpload(modelName) {
  $('image-field').hidden = false;
  $('image-hint').hidden = false;
  $('features-model').textContent = modelName;
  document.querySelector('#add-form input[name="features"]').required = false;
}

// --- start -----------------------------------------------------------------------------------------

$('user-search').addEventListener('submit', (event) => {
  event.preventDefault();
  guarded(searchUsers)($('user-prefix').value.trim());
});
$('user-prefix').addEventListener('input', () => guarded(searchUsers)($('user-prefix').value.trim()));
$('add-form').addEventListener('submit', (event) => {
  event.preventDefault();
  guarded(addProduct)(event.target);
});
$('map').addEventListener('click', onMapClick);
$('map').addEventListener('keydown', onMapKey);

window.addEventListener('popstate', () => guarded(restoreView)());

guarded(async () => {
  const health = await api('/healthz');
  state.images = health.images === true;
  if (health.features_model) offerImageUpload(health.features_model);
  await Promise.all([searchUsers(''), loadMap()]);
  say(`Model with ${health.items} products and ${health.users} users. Pick a user.`);
  await restoreView();
})();
