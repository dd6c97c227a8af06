// The HTTP layer of `vasg serve`: Fastify routes with JSON schemas (validated on every request and
// collected into /openapi.json), typed errors mapped to status codes, an API key on writes, and
// Prometheus metrics. The answers come from Catalog. Bodies are validated strictly (no type coercion: a
// `null` or `"0.5"` feature is a 400, not a 0 or a 0.5); query strings and path parameters are text, so
// they are coerced. Every number that reaches the native core is checked in its unit (finite as float32).
import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchema } from 'fastify';
import { ConfigError, InputError, UnknownIdError, UnsupportedError } from '../errors.js';
import { featureWidth, type FeatureExtractor } from '../features/extractors.js';
import { Catalog, FALLBACK_KINDS, type FallbackKind, type NewItem, type RecommendOptions } from './catalog.js';
import { checkEvents, type PostedEvent, type UserEvent } from './events.js';
import type { Experiment } from './experiment.js';
import { imagesRoot, registerImageRoute } from './images.js';
import { Served } from './served.js';

/** The image → features model that lets `POST /items` take images (`vasg serve --features-model`). */
export interface ImageFeatures {
  /** As given on the command line: `builtin:color` or the ONNX file. */
  name: string;
  extractor: FeatureExtractor;
}

export interface ServerOptions {
  apiKey?: string;
  /** Without it, `POST /items` takes feature vectors only. */
  imageFeatures?: ImageFeatures;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** Folder served at `/` (the web page); default: the package's web/ folder, when it exists. */
  webRoot?: string;
  /** Folder of product images, served at /items/:id/image (`vasg serve --images`). */
  images?: string;
  /** Two models on live traffic (`--model-b`): arm B's model and the experiment that assigns arms and counts. */
  abTest?: { b: Served; experiment: Experiment };
}

const PACKAGE_WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web');

const K = { type: 'integer', minimum: 1, maximum: 1000, default: 10 } as const;
/** Longest product or user id, in characters; the same on every route (body, path and query). */
export const MAX_ID_LENGTH = 256;
const ID = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } as const;
/**
 * The router's limit on a path parameter's raw length: an id of MAX_ID_LENGTH characters percent-encoded
 * (up to 4 UTF-8 bytes of 3 characters each), so the schema's limit, not the router's 414, decides.
 */
const MAX_PARAM_LENGTH = MAX_ID_LENGTH * 12;
/** Largest magnitude a float32 holds: the native core's unit for features and vectors. */
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOATS = { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 100000 } as const;
const ID_LIST = { type: 'array', items: ID, maxItems: 10000 } as const;
/** One id or several (a repeated query parameter). */
const IDS = { anyOf: [ID, { type: 'array', items: ID }] } as const;
// include_cold's default is the model's: true where it scores cold products, false where they would all tie (BPR-MF, MostPop).
const RULES = { include_cold: { type: 'boolean', description: 'default: true when the model scores cold products (capabilities.coldItems)' }, category: IDS, exclude: IDS, allow: IDS } as const;
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

type Query = Record<string, unknown>;
/** Marks the routes that change state: they need the API key when one is set. */
interface RouteConfig { write?: boolean }
const WRITE: RouteConfig = { write: true };

export async function buildServer(input: Catalog | Served, options: ServerOptions = {}): Promise<FastifyInstance> {
  // Routes read served.catalog per request: a reload swaps it (served.ts).
  const served = input instanceof Served ? input : new Served(input);
  if (options.imageFeatures) await checkFeatureWidth(options.imageFeatures, served.catalog.model.parts.featureDim);
  const images = options.images === undefined ? undefined : imagesRoot(options.images);
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 8 * 1024 * 1024, routerOptions: { maxParamLength: MAX_PARAM_LENGTH } });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? validators.body : validators.text).compile(schema));
  const metrics = new Metrics();
  const routes: ApiRoute[] = [];
  // Routes with a schema are documented; the static files' wildcard (schema.hide) is not an API route.
  app.addHook('onRoute', (route) => {
    if (route.schema && !(route.schema as { hide?: boolean }).hide) {
      routes.push({ method: String(route.method), url: route.url, schema: route.schema, write: Boolean((route.config as RouteConfig | undefined)?.write) });
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  // Only the routes that change state need the key: POST /query and POST /recommendations are reads with a body.
  // Checked on arrival, before the body is read or validated: a caller without the key learns nothing about the body.
  app.addHook('onRequest', async (request, reply) => {
    if (!options.apiKey || !(request.routeOptions.config as RouteConfig).write) return;
    if (!sameKey(keyOf(request), options.apiKey)) return reply.code(401).send({ error: 'writes need the API key (header "x-api-key: KEY" or "Authorization: Bearer KEY")' });
  });
  app.setErrorHandler((error, _request, reply) => {
    const e = error as Error & { validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>; validationContext?: string; statusCode?: number };
    if (e.validation) {
      const first = e.validation[0];
      const field = `${e.validationContext ?? 'body'}${first.instancePath.replaceAll('/', '.')}${first.params?.missingProperty ? `.${String(first.params.missingProperty)}` : ''}`;
      return reply.code(400).send({ error: `${field}: ${first.message ?? 'invalid'}`, field });
    }
    if (e instanceof UnknownIdError) return reply.code(404).send({ error: e.message, kind: e.kind, id: e.id });
    if (e instanceof InputError) return reply.code(400).send({ error: e.message, field: e.field ?? e.file });
    if (error instanceof ConfigError) return reply.code(400).send({ error: error.message, field: error.field });
    if (error instanceof UnsupportedError) return reply.code(501).send({ error: error.message, method: error.method, operation: error.operation });
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.message });
    // Logged even though Fastify's logger is off: a 500 is a bug to find, not an answer to input.
    console.error(`vasg serve: internal error on ${_request.method} ${_request.url}: ${e.stack ?? e.message}`);
    return reply.code(500).send({ error: 'internal error' });
  });

  app.get('/users/:id/recommendations', {
    schema: {
      summary: 'top-k unseen products for a user, with explanations; for a user the model has never seen, a 404 or (with fallback) a popular/new list marked "fallback"',
      params: idParams,
      querystring: { type: 'object', properties: { k: K, ...RULES, fallback: { type: 'string', enum: [...FALLBACK_KINDS], description: 'for an unknown user: recent popularity, newest products, or both (default: 404)' } } },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const q = request.query as Query;
    const ab = options.abTest;
    const arm = ab?.experiment.arm(id);
    const catalog = arm === 'B' ? ab!.b.catalog : served.catalog;
    const fallback = q.fallback as FallbackKind | undefined;
    const useFallback = fallback !== undefined && !catalog.knowsUser(id);
    const recommendations = useFallback ? await catalog.fallback(fallback, q.k as number, rulesOf(q)) : await catalog.recommend(id, q.k as number, rulesOf(q));
    if (arm) ab!.experiment.impression(arm, id, recommendations.map((r) => r.id));
    return { user: id, ...(arm ? { arm } : {}), ...(useFallback ? { fallback } : {}), recommendations };
  });

  app.get('/items/:id/similar', {
    schema: { summary: 'nearest products, warm or cold', params: idParams, querystring: kQuery },
  }, async (request) => {
    const { id } = request.params as { id: string };
    return { item: id, similar: await served.catalog.similar(id, (request.query as Query).k as number) };
  });

  app.get('/users', {
    schema: { summary: 'user ids starting with a prefix (trained and folded-in users)', querystring: { type: 'object', properties: { prefix: { type: 'string', maxLength: 256, default: '' }, limit: { ...K, default: 20 } } } },
  }, async (request) => {
    const q = request.query as { prefix: string; limit: number };
    return served.catalog.users(q.prefix, q.limit);
  });

  app.get('/users/:id', { schema: { summary: 'a user and the products they bought', params: idParams } }, async (request) => {
    const { id } = request.params as { id: string };
    return { user: id, purchases: served.catalog.purchases(id) };
  });

  app.get('/items/:id/users', {
    schema: { summary: 'the trained users a product would be recommended to (highest scores, not bought)', params: idParams, querystring: kQuery },
  }, async (request) => {
    const { id } = request.params as { id: string };
    return { item: id, users: await served.catalog.topUsers(id, (request.query as Query).k as number) };
  });

  app.get('/map', {
    schema: {
      summary: '2-D PCA map of a sample of products and users, with the products in "include"',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 20000, default: 2000 }, include: IDS } },
    },
  }, async (request) => {
    const q = request.query as Query;
    return served.catalog.map(q.limit as number, list(q.include));
  });

  app.get('/items/:id', { schema: { summary: 'one product', params: idParams } }, async (request) => {
    return served.catalog.item(served.catalog.model.itemIndexOf((request.params as { id: string }).id));
  });

  app.post('/items', {
    config: WRITE,
    schema: {
      summary: 'add or update products (embedded by the encoder, recommendable at once)',
      body: {
        type: 'object', required: ['items'], additionalProperties: false,
        properties: {
          items: {
            type: 'array', minItems: 1, maxItems: 10000,
            items: {
              type: 'object', required: ['id'], additionalProperties: false,
              properties: {
                id: ID, title: { type: 'string', maxLength: 1000 }, category: { type: 'string', maxLength: 256 }, image_url: { type: 'string', maxLength: 2048 },
                features: FLOATS,
                image: { type: 'string', minLength: 1, description: 'base64 of a JPEG, PNG or WebP file, instead of "features" (needs --features-model)' },
              },
            },
          },
        },
      },
    },
  }, async (request) => {
    const body = request.body as { items: PostedItem[] };
    checkUniqueIds(body.items.map((it) => it.id), 'body.items', '.id');
    const features = await featuresOf(body.items, options.imageFeatures, served.catalog.model.parts.featureDim);
    const items = body.items.map(({ image_url, image: _image, ...rest }, j) => ({ ...rest, features: features[j], ...(image_url === undefined ? {} : { imageUrl: image_url }) }));
    const { replaced } = await served.catalog.addItems(items);
    // Arm B's model learns of the product too, when it can place new products.
    const b = options.abTest?.b.catalog;
    if (b?.model.capabilities.newItems) await b.addItems(items);
    return { added: items.length - replaced.length, replaced, items: items.map((it) => it.id), catalog_size: served.catalog.size };
  });

  app.patch('/items/:id', {
    config: WRITE,
    schema: { summary: 'set a product\'s availability', params: idParams, body: { type: 'object', required: ['available'], additionalProperties: false, properties: { available: { type: 'boolean' } } } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    served.catalog.setAvailable(id, (request.body as { available: boolean }).available);
    const b = options.abTest?.b.catalog;
    if (b?.model.hasItem(id)) b.setAvailable(id, (request.body as { available: boolean }).available);
    return served.catalog.item(served.catalog.model.itemIndexOf(id));
  });

  app.post('/query', {
    schema: {
      summary: 'products nearest to image features, an embedding vector, or the analogy X_p1 − X_u1 + X_u2',
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          k: K, features: FLOATS, vector: FLOATS, ...RULES,
          analogy: { type: 'object', required: ['product', 'from_user', 'to_user'], additionalProperties: false, properties: { product: ID, from_user: ID, to_user: ID } },
        },
      },
    },
  }, async (request) => {
    const body = request.body as Query & { features?: number[]; vector?: number[]; analogy?: { product: string; from_user: string; to_user: string } };
    if (body.vector) checkFloat32(body.vector, 'body.vector');
    if (body.features) checkFloat32(body.features, 'body.features');
    let vector: Float32Array | undefined = body.vector ? Float32Array.from(body.vector) : undefined;
    if (vector && vector.length !== served.catalog.model.config.dim) throw new InputError(`vector has ${vector.length} values, the model's dimension is ${served.catalog.model.config.dim}`, 'body.vector', undefined, 'body.vector');
    if (body.features) checkWidth(body.features, served.catalog.model.parts.featureDim, 'body.features');
    if (body.analogy) vector = served.catalog.analogy(body.analogy.product, body.analogy.from_user, body.analogy.to_user);
    return { results: await served.catalog.query(body.k as number, { features: body.features, vector }, rulesOf(body)) };
  });

  app.post('/users/:id/events', {
    config: WRITE,
    schema: {
      summary: 'fold in a new or returning user from typed events ("events") or products they bought ("items": purchases)',
      params: idParams,
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          items: { ...ID_LIST, minItems: 1, description: 'products bought (purchases, time: now)' },
          events: {
            type: 'array', minItems: 1, maxItems: 10000,
            items: {
              type: 'object', required: ['item', 'type'], additionalProperties: false,
              properties: {
                item: ID,
                type: { type: 'string', minLength: 1, maxLength: 64, description: 'an event type of the server\'s weights (--event-weights): purchase, cart, click, view, …' },
                time: { anyOf: [{ type: 'string', maxLength: 64 }, { type: 'number' }], description: 'ISO-8601 or epoch seconds; default: now' },
              },
            },
          },
        },
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { items?: string[]; events?: PostedEvent[] };
    if ((body.items === undefined) === (body.events === undefined)) throw new InputError('body: give "events" (typed events) or "items" (purchases), one of them', 'body', undefined, 'body');
    const catalog = served.catalog;
    const now = new Date();
    const events: UserEvent[] = body.events ? checkEvents(body.events, catalog.weights, 'body.events', now) : body.items!.map((item) => ({ item, type: 'purchase', time: now.toISOString() }));
    catalog.addEvents(id, events);
    const ab = options.abTest;
    if (ab) {
      // Arm B folds in the events of the products it knows (of types it weighs); the experiment attributes them.
      const b = ab.b.catalog;
      const known = events.filter((e) => b.model.hasItem(e.item) && e.type in b.weights);
      if (known.length > 0) b.addEvents(id, known);
      ab.experiment.events(id, events);
    }
    return { user: id, folded: true, events: events.length };
  });

  app.post('/admin/reload', {
    config: WRITE,
    schema: {
      summary: 'serve the model now in the model directory (after vasg train --out DIR), carrying over the writes it lacks; the same as SIGHUP',
      extraResponses: { 409: 'the reload failed (missing, mixed or damaged directory): the old model keeps serving; the error says why' },
    } as FastifySchema,
  }, async (_request, reply) => {
    try {
      const a = await served.reload();
      return options.abTest ? { ...a, b: await options.abTest.b.reload() } : a;
    } catch (error) {
      return reply.code(409).send({ error: `reload failed: ${(error as Error).message}`, model_id: served.catalog.modelId, ...(options.abTest ? { model_b_id: options.abTest.b.catalog.modelId } : {}) });
    }
  });

  app.get('/experiment', {
    schema: {
      summary: 'the A/B test of --model-b: per arm users, impressions, clicks, conversions, rates with 95 % (Wilson) intervals, and a two-proportion z-test of B − A',
      extraResponses: { 404: 'no experiment: the server was started without --model-b' },
    } as FastifySchema,
  }, async (_request, reply) => {
    const ab = options.abTest;
    if (!ab) return reply.code(404).send({ error: 'no experiment: start vasg serve with --model-b MODEL to compare two models' });
    return { traffic_b: ab.experiment.trafficB, attribution_hours: ab.experiment.windowMs / 3600e3, model_a: served.catalog.modelId, model_b: ab.b.catalog.modelId, ...ab.experiment.report() };
  });

  app.post('/recommendations', {
    schema: {
      summary: 'top-k for an anonymous basket of product ids',
      body: { type: 'object', required: ['items'], additionalProperties: false, properties: { items: { ...ID_LIST, minItems: 1 }, k: K, ...RULES } },
    },
  }, async (request) => {
    const body = request.body as Query & { items: string[] };
    return { recommendations: await served.catalog.recommendBasket(body.items, body.k as number, rulesOf(body)) };
  });

  app.get('/healthz', { schema: summary('liveness, the served model\'s id (manifest modelId, set by vasg train), the model\'s method and capabilities, catalog size, the features model that turns posted images into features (null: none), and whether /items/:id/image serves pictures') }, async () => ({
    ok: true, model_id: served.catalog.modelId, ...(options.abTest ? { model_b_id: options.abTest.b.catalog.modelId, traffic_b: options.abTest.experiment.trafficB } : {}), method: served.catalog.model.method, capabilities: served.catalog.model.capabilities, items: served.catalog.size, users: served.catalog.model.parts.userIds.length, features_model: options.imageFeatures?.name ?? null, images: images !== undefined,
  }));
  if (images) registerImageRoute(app, () => served.catalog, images);

  app.get('/metrics', { schema: summary('Prometheus metrics') }, async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.type('text/plain; version=0.0.4');
    return metrics.text(served.catalog.size);
  });

  app.get('/openapi.json', { schema: summary('this document') }, async () => openApi(routes, Boolean(options.apiKey)));
  const webRoot = options.webRoot ?? PACKAGE_WEB;
  if (fs.existsSync(webRoot)) await app.register(fastifyStatic, { root: webRoot, prefix: '/' });
  return app;
}

type PostedItem = Omit<NewItem, 'imageUrl' | 'features'> & { image_url?: string; features?: number[]; image?: string };

/** A features model whose width differs from the encoder's input could never embed a posted image: refuse to start. */
async function checkFeatureWidth(imageFeatures: ImageFeatures, featureDim: number): Promise<void> {
  const width = await featureWidth(imageFeatures.extractor);
  if (width !== featureDim) {
    throw new ConfigError(`--features-model ${imageFeatures.name} gives ${width} features per image, but the model's encoder takes I = ${featureDim}: serve a model trained on features made by the same features model`, 'features-model');
  }
}

/** Each posted item's feature vector: as sent, or extracted from its image (one batch, off the event loop). */
async function featuresOf(items: PostedItem[], imageFeatures: ImageFeatures | undefined, featureDim: number): Promise<number[][]> {
  const images: Buffer[] = [];
  const slots = items.map((item, j) => {
    const field = `body.items.${j}`;
    if (item.features && item.image !== undefined) throw new InputError(`${field} (item "${item.id}"): give "features" or "image", not both`, field, undefined, field);
    if (item.features) {
      checkWidth(item.features, featureDim, `${field}.features`, ` (item "${item.id}")`);
      checkFloat32(item.features, `${field}.features`, ` (item "${item.id}")`);
      return -1;
    }
    if (item.image === undefined) throw new InputError(`${field}.features (item "${item.id}"): give "features" (the model's I values) or "image"`, `${field}.features`, undefined, `${field}.features`);
    if (!imageFeatures) {
      throw new InputError(`${field}.image: this server takes no images; start vasg serve with --features-model builtin:color (or an ONNX image model) to turn images into features`, `${field}.image`, undefined, `${field}.image`);
    }
    images.push(Buffer.from(item.image, 'base64'));
    return images.length - 1;
  });
  const rows = images.length ? await imageFeatures!.extractor.extract(images) : [];
  return items.map((item, j) => {
    if (slots[j] < 0) return item.features!;
    const row = rows[slots[j]];
    const field = `body.items.${j}.image`;
    if (row instanceof Error) throw new InputError(`${field} (item "${item.id}"): not a readable JPEG, PNG or WebP image: ${row.message}`, field, undefined, field);
    return Array.from(row);
  });
}

/**
 * The two strict validators: bodies are JSON and keep their types (no coercion); query strings and path
 * parameters are text, coerced to the schema's types ("?k=5" is 5). Defaults fill in on both.
 */
const validators = {
  body: new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false }),
  text: new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: false }),
};

/** The key a request sends: only "x-api-key: KEY" or "Authorization: Bearer KEY" (another scheme, or none, is no key). */
function keyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (header !== undefined) return typeof header === 'string' ? header : undefined;
  return /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
}

/** The same id twice in one request would count twice and apply twice: a 400 naming both positions. */
function checkUniqueIds(ids: string[], field: string, suffix = ''): void {
  const first = new Map<string, number>();
  ids.forEach((id, j) => {
    const earlier = first.get(id);
    if (earlier !== undefined) {
      throw new InputError(`${field}.${j}${suffix}: "${id}" is also ${field}.${earlier}${suffix}; give each product once per request`, `${field}.${j}${suffix}`, undefined, `${field}.${j}${suffix}`);
    }
    first.set(id, j);
  });
}

/** Every value must survive the conversion to float32 (1e39 would become Infinity in the native core). */
function checkFloat32(values: number[], field: string, what = ''): void {
  const bad = values.findIndex((v) => !(Math.abs(v) <= FLOAT32_MAX));
  if (bad >= 0) throw new InputError(`${field}.${bad}${what}: ${values[bad]} is out of range: values must be finite 32-bit floats (|x| ≤ 3.4e38)`, `${field}.${bad}`, undefined, `${field}.${bad}`);
}

/** Compares in constant time, so the answer's timing does not reveal how much of a guess was right. */
function sameKey(given: string | string[] | undefined, key: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, createHash('sha256').update(key).digest());
}

/** A feature vector the encoder cannot take is a 400 naming the request's field (not the model's). */
function checkWidth(features: number[], featureDim: number, field: string, what = ''): void {
  if (features.length !== featureDim) {
    throw new InputError(`${field}${what}: ${features.length} feature values, the model's encoder takes I = ${featureDim}`, field, undefined, field);
  }
}

/** A route with no input still gets a schema, so it is listed in /openapi.json. */
function summary(text: string): FastifySchema {
  return { summary: text } as FastifySchema;
}

const idParams = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const kQuery = { type: 'object', properties: { k: K } } as const;

function list(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function rulesOf(q: Query): RecommendOptions {
  return { includeCold: q.include_cold as boolean | undefined, categories: list(q.category), exclude: list(q.exclude), allow: list(q.allow) };
}

interface ApiRoute { method: string; url: string; schema: unknown; write: boolean }

const SECURITY_SCHEMES = {
  apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'vasg serve --api-key KEY; needed by the routes that change state' },
  bearer: { type: 'http', scheme: 'bearer', description: 'the same key as "Authorization: Bearer KEY"' },
};

/** Every status a route can answer: what its inputs allow, and the write key where it needs one. */
function responsesOf(s: { params?: unknown; body?: unknown; extraResponses?: Record<string, string> }, write: boolean): Record<string, { description: string }> {
  return {
    ...Object.fromEntries(Object.entries(s.extraResponses ?? {}).map(([status, description]) => [status, { description }])),
    200: { description: 'OK' },
    400: { description: 'bad input (names the field)' },
    ...(write ? { 401: { description: 'the API key is missing or wrong (checked before the body)' } } : {}),
    ...(s.params || s.body ? { 404: { description: 'unknown product or user id' } } : {}),
    ...(s.body ? { 413: { description: 'body larger than the server\'s limit' }, 415: { description: 'body not application/json' } } : {}),
    500: { description: 'internal error (a bug: logged by the server)' },
  };
}

/** OpenAPI 3 from the routes' own JSON schemas (one source for validation and documentation). */
function openApi(routes: ApiRoute[], apiKey: boolean): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, url, schema, write } of routes) {
    const s = schema as { summary?: string; params?: { properties: Record<string, unknown> }; querystring?: { properties: Record<string, unknown> }; body?: unknown; extraResponses?: Record<string, string> };
    const openPath = url.replace(/:([a-zA-Z_]+)/g, '{$1}');
    const parameters = [
      ...Object.entries(s.params?.properties ?? {}).map(([name, p]) => ({ name, in: 'path', required: true, schema: p })),
      ...Object.entries(s.querystring?.properties ?? {}).map(([name, p]) => ({ name, in: 'query', schema: p })),
    ];
    paths[openPath] ??= {};
    paths[openPath][method.toLowerCase()] = {
      summary: s.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } } : {}),
      ...(write && apiKey ? { security: [{ apiKey: [] }, { bearer: [] }] } : {}),
      responses: responsesOf(s, write && apiKey),
    };
  }
  return { openapi: '3.0.3', info: { title: 'vasg', version: '0.1.0' }, components: { securitySchemes: SECURITY_SCHEMES }, paths };
}

/** Request counts and latency histograms per route, in Prometheus text format. */
class Metrics {
  private readonly series = new Map<string, { count: number; sum: number; buckets: number[] }>();
  private readonly statuses = new Map<string, number>();

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${route}"`;
    const s = this.series.get(key) ?? { count: 0, sum: 0, buckets: LATENCY_BUCKETS_S.map(() => 0) };
    s.count++;
    s.sum += seconds;
    LATENCY_BUCKETS_S.forEach((b, i) => { if (seconds <= b) s.buckets[i]++; });
    this.series.set(key, s);
    const statusKey = `${key},status="${status}"`;
    this.statuses.set(statusKey, (this.statuses.get(statusKey) ?? 0) + 1);
  }

  text(catalogSize: number): string {
    const lines = ['# HELP vasg_requests_total HTTP requests by route and status.', '# TYPE vasg_requests_total counter'];
    for (const [key, n] of this.statuses) lines.push(`vasg_requests_total{${key}} ${n}`);
    lines.push('# HELP vasg_request_duration_seconds Request latency.', '# TYPE vasg_request_duration_seconds histogram');
    for (const [key, s] of this.series) {
      LATENCY_BUCKETS_S.forEach((b, i) => lines.push(`vasg_request_duration_seconds_bucket{${key},le="${b}"} ${s.buckets[i]}`));
      lines.push(`vasg_request_duration_seconds_bucket{${key},le="+Inf"} ${s.count}`);
      lines.push(`vasg_request_duration_seconds_sum{${key}} ${s.sum}`, `vasg_request_duration_seconds_count{${key}} ${s.count}`);
    }
    lines.push('# HELP vasg_catalog_items Products in the catalog.', '# TYPE vasg_catalog_items gauge', `vasg_catalog_items ${catalogSize}`);
    return `${lines.join('\n')}\n`;
  }
}
