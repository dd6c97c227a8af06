// `vasg train`: prepared split or whole data set → model directory (embeddings, encoder, decoder, manifest, loss log).
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { imagesRoot } from '../serve/images.js';
import { loadTrainingData, type TrainingLayout } from '../data/production.js';
import { checkOutputDirectory } from '../data/atomic.js';
import { CONFIG_OPTIONS, paperConfig, resolveConfig, type TrainConfig } from '../model/config.js';
import { trainVasg } from '../model/train.js';
import { configFlag, progressFor } from './options.js';

/** Training flags (one per row of CONFIG_OPTIONS), shared with `vasg demo` and `vasg experiment`. */
export function addTrainOptions(command: Command): Command {
  for (const { key } of CONFIG_OPTIONS) command.addOption(configFlag(key));
  return command.option('--paper', 'the paper\'s formulation: --no-visual --rank-epochs 0 --negatives 0 --scoring cosine --encoder-objective autoencoder (explicit flags still win)');
}

/** Builds the config from parsed flags; with --paper, the paper's settings replace defaults the user did not set. */
export function configFromOptions(command: Command, options: Record<string, unknown>): TrainConfig {
  const fromFlags: Partial<TrainConfig> = {};
  for (const { key, flag } of CONFIG_OPTIONS) {
    const name = new Option(flag).attributeName();
    if (options[name] === undefined) continue;
    const explicit = command.getOptionValueSource(name) === 'cli';
    if (options.paper && !explicit && key in paperConfig) continue;
    (fromFlags as Record<string, unknown>)[key] = options[name];
  }
  // Without the visual term there is no E to embed cold products with: the MLP encoder takes over.
  if (fromFlags.visual === false && command.getOptionValueSource('encoderObjective') !== 'cli' && !options.paper) fromFlags.encoderObjective = 'regress';
  return resolveConfig({ ...(options.paper ? paperConfig : {}), ...fromFlags });
}

export function trainCommand(): Command {
  const command = new Command('train')
    .description('train VASG on a prepared split (evaluation) or on a whole data set (production: all interactions, every catalogue product)')
    .requiredOption('--data <dir>', 'prepared split (output of "vasg prepare") or data set in the standard layout (output of "vasg generate"/"vasg import")')
    .requiredOption('--out <dir>', 'model directory to write')
    .option('--images <dir>', 'folder of the products\' images: recorded in the model, so "vasg serve" shows them without --images')
    .option('--json', 'print a JSON summary only');
  addTrainOptions(command);
  return command.action(async (options) => {
    const config = configFromOptions(command, options);
    const progress = progressFor(options);
    checkOutputDirectory(options.out, 'manifest.json');
    const images = options.images === undefined ? {} : { images: imagesRoot(options.images) };
    const { layout, split } = loadTrainingData(options.data, progress);
    const result = await trainVasg(split, config, progress);
    result.model.save(options.out, { layout, summary: split.summary, trainLog: result.log, rankingLog: result.rankingLog, encoderLog: result.encoderLog, trainSeconds: result.seconds, ...images });
    const s = split.summary;
    const data = { dir: options.data, layout, users: s.users, items: s.items, warmItems: s.warmItems, coldItems: s.coldItems, trainPairs: s.trainPairs, filtered: s.filtered };
    const summary = { model: options.out, data, seconds: result.seconds, epochs: result.log, rankingLoss: result.rankingLog, encoderLoss: result.encoderLog };
    if (options.json) console.log(JSON.stringify(summary));
    else console.log(`${describeData(data)}\nmodel written to ${options.out} (${result.seconds.toFixed(1)} s)`);
  });
}

function describeData(d: { dir: string; layout: TrainingLayout; users: number; items: number; warmItems: number; coldItems: number; trainPairs: number }): string {
  const what = d.layout === 'dataset' ? 'data set, all interactions, no test set' : 'prepared split';
  const cold = d.layout === 'dataset' ? 'never bought, embedded as cold' : 'cold, held out';
  return `trained on ${d.dir} (${what}): ${d.users} users, ${d.items} products (${d.warmItems} bought, ${d.coldItems} ${cold}), ${d.trainPairs} interactions`;
}

/**
 * The images folder a model was trained with (`vasg train --images`, stored as an absolute path in the
 * manifest's info): the model does not copy the pictures, so a folder moved since is reported and skipped.
 */
export function recordedImages(info: Record<string, unknown>, modelDir: string): string | undefined {
  if (typeof info.images !== 'string') return undefined;
  if (fs.existsSync(info.images)) return info.images;
  console.error(`vasg: ${modelDir} was trained with images from ${info.images}, which no longer exists: serving without pictures (pass --images DIR)`);
  return undefined;
}
