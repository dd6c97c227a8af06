// `vasg import`: real catalogs into the standard layout (interactions.csv, items.csv, features.npy).
import { Command, Option } from 'commander';
import { writeDataset } from '../data/dataset.js';
import { DEFAULT_FEATURE_DIM } from '../data/formats/amazonfeatures.js';
import { importAmazon, type ImportReport } from '../data/formats/amazonimport.js';
import { int, progressFor } from './options.js';

function printReport(report: ImportReport, out: string, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(`wrote ${report.users} users, ${report.items} products, ${report.interactions} interactions (I = ${report.featureDim}) to ${out}`);
  for (const [reason, n] of Object.entries(report.dropped)) console.log(`  dropped: ${reason}: ${n}`);
}

function amazonCommand(): Command {
  return new Command('amazon')
    .description('import an Amazon review dump (2014/2018 reviews, metadata, optional .b image features)')
    .requiredOption('--reviews <file>', 'reviews: JSON lines (2014/2018) or ratings-only CSV, plain or .gz')
    .requiredOption('--meta <file>', 'metadata: 2014 Python-literal lines or 2018 JSON lines, plain or .gz')
    .option('--features <file>', 'image features .b file (10-byte ASIN + float32 vector per record)')
    .addOption(new Option('--feature-dim <n>', 'floats per .b record').argParser(int(1)).default(DEFAULT_FEATURE_DIM))
    .option('--category <path>', "category path prefix, e.g. 'Clothing, Shoes & Jewelry/Men'", '')
    .requiredOption('--out <dir>', 'directory to write')
    .option('--json', 'print a JSON summary only')
    .action(async (options) => {
      const { dataset, report } = await importAmazon(
        {
          reviews: options.reviews,
          meta: options.meta,
          features: options.features,
          featureDim: options.featureDim,
          category: options.category === '' ? [] : String(options.category).split('/'),
        },
        progressFor(options),
      );
      writeDataset(options.out, dataset);
      printReport(report, options.out, Boolean(options.json));
    });
}

export function importCommand(): Command {
  return new Command('import').description('import real data into the standard layout').addCommand(amazonCommand());
}
