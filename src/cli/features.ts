// `vasg features`: product images → features.npy, with the user's ONNX image model or the
// model-free `builtin:color`. Resumable; unusable images are reported and never fatal.
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { field, idField, readCsv, writeCsvRows } from '../data/csv.js';
import { ITEMS_CSV, itemsFileBeside } from '../data/dataset.js';
import { imageFileFor } from '../features/image.js';
import { BUILTIN_COLOR, createExtractor } from '../features/extractors.js';
import { extractFeatures, InterruptedError, type ImageItem } from '../features/extract.js';
import { dtypeOption, imageModelOptions, int, progressFor } from './options.js';

export function featuresCommand(): Command {
  const command = new Command('features')
    .description('compute one feature vector per product image (features.npy) with an ONNX image model or builtin:color')
    .requiredOption('--items <file>', 'items.csv: item_id and optional image_url (a path relative to --images, or a URL whose file name is in --images)')
    .requiredOption('--images <dir>', 'folder of images; products without image_url use <item_id>.jpg/.jpeg/.png/.webp there')
    .requiredOption('--model <file>', `ONNX image model (input [batch, 3, size, size]) or "${BUILTIN_COLOR}"`)
    .requiredOption('--out <file>', 'features .npy to write (rows in items.csv order; products without features left out)');
  for (const option of imageModelOptions()) command.addOption(option);
  return command
    .addOption(new Option('--batch <n>', 'images per batch').argParser(int(1, 65536)).default(32))
    .addOption(dtypeOption())
    .option('--json', 'print a JSON report only')
    .action(async (options) => {
      const table = readCsv(options.items, ITEMS_CSV);
      const items: ImageItem[] = table.rows.map((row) => {
        const itemId = idField(table, row, 'item_id');
        return { itemId, file: imageFileFor(options.images, itemId, field(table, row, 'image_url') ?? '') };
      });
      const extractor = await createExtractor(options);
      // Ctrl-C finishes the current batch, keeps what is done and exits; the next run continues.
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const { report, keptRows } = await extractFeatures(items, extractor, options.out, { batch: options.batch, progress: progressFor(options), signal: abort.signal, dtype: options.dtype });
        const beside = itemsFileBeside(options.out);
        const itemsOut = report.failed.length > 0 ? beside : null;
        if (itemsOut) writeCsvRows(itemsOut, table, keptRows.map((row) => table.rows[row]));
        // Every product has its row now: a list left by an earlier run with failures would describe other rows.
        else if (path.resolve(beside) !== path.resolve(options.items)) fs.rmSync(beside, { force: true });
        if (options.json) {
          console.log(JSON.stringify({ out: options.out, itemsOut, ...report }));
        } else {
          console.log(`wrote ${report.withFeatures} × ${report.featureDim} features to ${options.out}` +
            (report.resumed ? ` (${report.resumed} rows from the interrupted run)` : ''));
          if (itemsOut) {
            console.log(`${report.failed.length} of ${report.items} products have no features and were left out; ${itemsOut} lists the products the rows describe:`);
            for (const { itemId, reason } of report.failed.slice(0, 20)) console.log(`  ${itemId}: ${reason}`);
            if (report.failed.length > 20) console.log(`  … and ${report.failed.length - 20} more (--json lists all)`);
          }
        }
      } catch (error) {
        if (!(error instanceof InterruptedError)) throw error;
        process.stderr.write(`vasg features: ${error.message}\n`);
        process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await extractor.close();
      }
    });
}
