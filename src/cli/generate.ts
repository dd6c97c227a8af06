// `vasg generate`: a synthetic fashion-purchase data set in the standard layout (docs/synthetic-data.md).
import path from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { generateStreamed, PRESETS, type PresetName } from '../data/generate.js';
import { writeProductImages } from '../data/images.js';
import { DATASET_FILES, writeDataset } from '../data/dataset.js';
import { checkOutputDirectory } from '../data/atomic.js';
import { dtypeOption, int, num, oneOf, progressFor } from './options.js';
import { addBrowsing } from '../data/browse.js';

export function generateCommand(): Command {
  const presets = Object.keys(PRESETS) as PresetName[];
  return new Command('generate')
    .description('generate a synthetic data set (interactions.csv, items.csv, features.npy, ground truth)')
    .addOption(new Option('--preset <name>', `size preset: ${presets.join(', ')}`).argParser(oneOf(...presets)).default('small'))
    .addOption(new Option('--seed <n>', 'random seed').argParser(int(0, 2 ** 31 - 1)).default(1))
    .requiredOption('--out <dir>', 'directory to write')
    .option('--images <dir>', 'also render a 64×64 PNG per product into this folder (<item_id>.png, named in items.csv\'s image_url)')
    .addOption(new Option('--views-per-purchase <x>', 'also emit view events, x per purchase of each user (noisier signals of taste; see docs/shop-loop.md)').argParser(num(0, 100)).default(0))
    .addOption(new Option('--carts-per-purchase <x>', 'also emit cart events, x per purchase of each user').argParser(num(0, 100)).default(0))
    .addOption(dtypeOption())
    .option('--json', 'print a JSON summary only')
    .action(async (options) => {
      checkOutputDirectory(options.out, DATASET_FILES.interactions);
      const progress = progressFor(options);
      if (options.images && path.resolve(options.images) === path.resolve(options.out)) {
        throw new ConfigError(`--images ${options.images} is the --out directory: the data set would replace the images; give the images their own folder`, 'images');
      }
      // Features are computed while features.npy is written: memory holds one block of them, not the matrix.
      const generated = generateStreamed(options.preset, options.seed, options.dtype, progress);
      const { styles } = generated;
      const browsing = { viewsPerPurchase: options.viewsPerPurchase, cartsPerPurchase: options.cartsPerPurchase };
      const dataset = browsing.viewsPerPurchase > 0 || browsing.cartsPerPurchase > 0 ? addBrowsing(generated.dataset, browsing, options.seed) : generated.dataset;
      if (options.images) await writeProductImages(options.images, dataset, styles, options.seed, progress);
      writeDataset(options.out, dataset);
      const summary = {
        out: options.out,
        users: dataset.userIds.length,
        items: dataset.itemIds.length,
        interactions: dataset.interactions.users.length,
        featureDim: dataset.features.cols,
        dtype: options.dtype,
        images: options.images ?? null,
      };
      if (options.json) console.log(JSON.stringify(summary));
      else console.log(`wrote ${summary.users} users, ${summary.items} products, ${summary.interactions} interactions (I = ${summary.featureDim}) to ${options.out}`);
    });
}
