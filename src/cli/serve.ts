// `vasg serve`: the HTTP service over a trained model (routes in src/serve/server.ts).
import { Command, Option } from 'commander';
import { Catalog, DEFAULT_COMPACT_BYTES } from '../serve/catalog.js';
import { buildServer, type ImageFeatures } from '../serve/server.js';
import { Served } from '../serve/served.js';
import { Experiment } from '../serve/experiment.js';
import { canonicalDirectory } from '../serve/lock.js';
import { DEFAULT_EVENT_WEIGHTS, parseServedEventWeights, type EventWeights } from '../serve/events.js';
import { RETRIEVER_KINDS, type RetrieverKind } from '../search/index.js';
import { BUILTIN_COLOR, createExtractor } from '../features/extractors.js';
import { imageModelOptions, int, num } from './options.js';
import { recordedImages } from './train.js';

/** How long a stop (SIGINT, SIGTERM) waits for requests in flight before closing every connection. */
const STOP_GRACE_MS = 3000;

export interface ServeSettings {
  model: string;
  host: string;
  port: number;
  apiKey?: string;
  index?: RetrieverKind;
  compactBytes?: number;
  /** Start over a write log damaged before its last record (see Catalog.open). */
  repairLog?: boolean;
  /** Product pictures; default: the folder recorded in the model (vasg train --images). */
  images?: string;
  imageFeatures?: ImageFeatures;
  /** `--event-weights`; default: the model's config, else DEFAULT_EVENT_WEIGHTS. */
  eventWeights?: EventWeights;
  /** Two models on live traffic: arm B's model directory, its share of users, the attribution window. */
  modelB?: string;
  trafficB?: number;
  attributionHours?: number;
}

/** Where `--model A --model-b B` logs its impressions and outcomes: beside A's directory, under A's lock (read by vasg ab-report). */
export function experimentLogOf(modelDir: string): string {
  return `${canonicalDirectory(modelDir)}.experiment.log`;
}

/** Opens the model, listens, and resolves `stopped` after SIGINT/SIGTERM has closed everything (shared with `vasg demo --serve`). */
export async function startServing(settings: ServeSettings): Promise<{ address: string; images?: string; size: number; modelId: string; stopped: Promise<void> }> {
  const openOptions = {
    kind: settings.index ?? 'exact', compactBytes: settings.compactBytes ?? DEFAULT_COMPACT_BYTES, repairLog: settings.repairLog ?? false, eventWeights: settings.eventWeights,
  };
  const catalog = await Catalog.open(settings.model, openOptions);
  const served = new Served(catalog);
  let abTest: { b: Served; experiment: Experiment } | undefined;
  let app: Awaited<ReturnType<typeof buildServer>>;
  let address: string;
  let images: string | undefined;
  try {
    images = settings.images ?? recordedImages(catalog.model.info, settings.model);
    if (settings.modelB) {
      const experiment = Experiment.open(experimentLogOf(settings.model), settings.trafficB ?? 0.5, (settings.attributionHours ?? 24) * 3600e3, { repair: settings.repairLog });
      abTest = { b: new Served(await Catalog.open(settings.modelB, openOptions).catch((error) => { experiment.close(); throw error; })), experiment };
    }
    app = await buildServer(served, { apiKey: settings.apiKey, imageFeatures: settings.imageFeatures, images, abTest });
    address = await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    await catalog.close(); // releases the directory for another server
    await abTest?.b.catalog.close();
    abTest?.experiment.close();
    throw error;
  }
  // A clean stop folds the write log into the model directory; a crash leaves it to the next start. Requests in
  // flight get a grace period; then connections a client still holds open (a browser tab) are cut, or they would keep it running.
  // SIGHUP: serve the model `vasg train --out DIR` put into the directory (a failure is printed; the old model keeps serving).
  const reload = () => { served.reload().then(() => abTest?.b.reload()).catch(() => undefined); };
  process.on('SIGHUP', reload);
  const stopped = new Promise<void>((resolve, reject) => {
    const stop = () => {
      process.off('SIGHUP', reload);
      const force = setTimeout(() => app.server.closeAllConnections(), STOP_GRACE_MS);
      app.close().finally(() => clearTimeout(force)).then(() => served.catalog.close()).then(() => abTest?.b.catalog.close()).then(() => abTest?.experiment.close())
        .then(() => settings.imageFeatures?.extractor.close()).then(() => resolve(), reject);
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
  });
  return { address, images, size: catalog.size, modelId: catalog.modelId, stopped };
}

export function serveCommand(): Command {
  const command = new Command('serve')
    .description('HTTP service: recommendations, similar products, new products, fold-in users (OpenAPI at /openapi.json)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .addOption(new Option('--port <n>', 'port (0: any free port)').argParser(int(0, 65535)).default(8080))
    .option('--api-key <key>', 'key that writes (POST /items, PATCH /items/{id}, POST /users/{id}/events) must send as "x-api-key: KEY" or "Authorization: Bearer KEY"')
    .option('--images <dir>', 'folder of product images, served at /items/:id/image and shown on the page (default: the folder the model was trained with, vasg train --images)')
    .addOption(new Option('--index <kind>', 'nearest-product search').choices([...RETRIEVER_KINDS]).default('exact'))
    .addOption(new Option('--compact-bytes <n>', 'write-log size that starts a compaction into the model directory, in the background').argParser(int(1)).default(DEFAULT_COMPACT_BYTES, '64 MiB'))
    .addOption(new Option('--event-weights <list>', 'event types of POST /users/{id}/events and their weights in a folded-in user (default: the model\'s config "eventWeights", else these)')
      .argParser((value: string) => parseServedEventWeights(value)).default(undefined, Object.entries(DEFAULT_EVENT_WEIGHTS).map(([t, w]) => `${t}=${w}`).join(',')))
    .option('--model-b <dir>', 'a second model on live traffic (A/B test): users are split by a stable hash of their id; GET /experiment reports per arm')
    .addOption(new Option('--traffic-b <share>', 'share of users served by --model-b').argParser(num(0, 1)).default(0.5))
    .addOption(new Option('--attribution-hours <h>', 'a click or purchase of a recommended product counts for its list within this many hours').argParser(num(1e-6)).default(24))
    .option('--repair-log', 'start even though the write log is damaged before its last record: keep every intact record, move the damaged bytes to a side file (docs/serving-robustness.md)')
    .option('--features-model <model>', `lets POST /items take images: "${BUILTIN_COLOR}" or an ONNX image model, as in vasg features (the model must have been trained on its features)`);
  for (const option of imageModelOptions()) command.addOption(option);
  return command
    .action(async (options) => {
      const imageFeatures = options.featuresModel
        ? { name: options.featuresModel as string, extractor: await createExtractor({ ...options, model: options.featuresModel }) }
        : undefined;
      if (!options.apiKey && !isLoopback(options.host)) {
        console.error(`vasg serve: warning: bound to ${options.host} without --api-key: anyone who can reach this address can add products, change availability and fold in users`);
      }
      const served = await startServing({
        model: options.model, host: options.host, port: options.port, apiKey: options.apiKey, index: options.index as RetrieverKind,
        compactBytes: options.compactBytes, repairLog: Boolean(options.repairLog), images: options.images, imageFeatures,
        eventWeights: options.eventWeights as EventWeights | undefined,
        modelB: options.modelB, trafficB: options.trafficB, attributionHours: options.attributionHours,
      });
      console.log(`vasg serve: listening on ${served.address} (${served.size} products${served.images ? `, images from ${served.images}` : ''}; model ${served.modelId})`);
      await served.stopped;
    });
}

/** Addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./.test(host);
}
