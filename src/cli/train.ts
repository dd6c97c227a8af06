// `vasg train`: prepared split → model directory (embeddings, encoder, decoder, manifest, loss log).
import { Command, Option } from 'commander';
import { loadSplit } from '../data/split.js';
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
    .description('train VASG on a prepared split and write a model directory')
    .requiredOption('--data <dir>', 'prepared split (output of "vasg prepare")')
    .requiredOption('--out <dir>', 'model directory to write')
    .option('--json', 'print a JSON summary only');
  addTrainOptions(command);
  return command.action(async (options) => {
    const config = configFromOptions(command, options);
    const progress = progressFor(options);
    checkOutputDirectory(options.out, 'manifest.json');
    const split = loadSplit(options.data);
    const result = await trainVasg(split, config, progress);
    result.model.save(options.out, { summary: split.summary, trainLog: result.log, rankingLog: result.rankingLog, encoderLog: result.encoderLog, trainSeconds: result.seconds });
    const summary = { model: options.out, seconds: result.seconds, epochs: result.log, rankingLoss: result.rankingLog, encoderLoss: result.encoderLog };
    if (options.json) console.log(JSON.stringify(summary));
    else console.log(`model written to ${options.out} (${result.seconds.toFixed(1)} s)`);
  });
}
