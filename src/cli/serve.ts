// `vasg serve`: the HTTP service over a trained model (routes in src/serve/server.ts).
import { Command, Option } from 'commander';
import { Catalog } from '../serve/catalog.js';
import { buildServer } from '../serve/server.js';
import { RETRIEVER_KINDS, type RetrieverKind } from '../search/index.js';
import { int } from './options.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('HTTP service: recommendations, similar products, new products, fold-in users (OpenAPI at /openapi.json)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .addOption(new Option('--port <n>', 'port (0: any free port)').argParser(int(0, 65535)).default(8080))
    .option('--api-key <key>', 'key that writes (POST, PATCH) must send as "x-api-key"')
    .addOption(new Option('--index <kind>', 'nearest-product search').choices([...RETRIEVER_KINDS]).default('exact'))
    .action(async (options) => {
      const catalog = Catalog.open(options.model, options.index as RetrieverKind);
      const app = await buildServer(catalog, { apiKey: options.apiKey });
      const address = await app.listen({ host: options.host, port: options.port });
      console.log(`vasg serve: listening on ${address} (${catalog.size} products)`);
      // A clean stop folds the write log into the model directory; a crash leaves it to the next start.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => { void app.close().then(() => catalog.close()); });
      }
    });
}
