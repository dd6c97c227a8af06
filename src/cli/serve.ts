// `vasg serve`: the HTTP service over a trained model (routes in src/serve/server.ts).
import { Command, Option } from 'commander';
import { Catalog, DEFAULT_COMPACT_BYTES } from '../serve/catalog.js';
import { buildServer } from '../serve/server.js';
import { RETRIEVER_KINDS, type RetrieverKind } from '../search/index.js';
import { BUILTIN_COLOR, createExtractor } from '../features/extractors.js';
import { imageModelOptions, int } from './options.js';

export function serveCommand(): Command {
  const command = new Command('serve')
    .description('HTTP service: recommendations, similar products, new products, fold-in users (OpenAPI at /openapi.json)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .addOption(new Option('--port <n>', 'port (0: any free port)').argParser(int(0, 65535)).default(8080))
    .option('--api-key <key>', 'key that writes (POST /items, PATCH /items/{id}, POST /users/{id}/events) must send as "x-api-key: KEY" or "Authorization: Bearer KEY"')
    .addOption(new Option('--index <kind>', 'nearest-product search').choices([...RETRIEVER_KINDS]).default('exact'))
    .addOption(new Option('--compact-bytes <n>', 'write-log size that starts a compaction into the model directory, in the background').argParser(int(1)).default(DEFAULT_COMPACT_BYTES, '64 MiB'))
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
      const catalog = await Catalog.open(options.model, { kind: options.index as RetrieverKind, compactBytes: options.compactBytes, repairLog: Boolean(options.repairLog) });
      const app = await buildServer(catalog, { apiKey: options.apiKey, imageFeatures });
      let address: string;
      try {
        address = await app.listen({ host: options.host, port: options.port });
      } catch (error) {
        await catalog.close(); // releases the directory for another server
        throw error;
      }
      console.log(`vasg serve: listening on ${address} (${catalog.size} products)`);
      // A clean stop folds the write log into the model directory; a crash leaves it to the next start.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => { void app.close().then(() => catalog.close()).then(() => imageFeatures?.extractor.close()); });
      }
    });
}

/** Addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./.test(host);
}
