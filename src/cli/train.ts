// `vasg train`: prepared split or whole data set → model directory, for VASG (embeddings, encoder, decoder, loss logs) or any
// other registered method (`--method`, its flags from its option table; see docs/library.md).
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { imagesRoot } from '../serve/images.js';
import { loadTrainingData, type TrainingLayout } from '../data/production.js';
import { checkOutputDirectory } from '../data/atomic.js';
import { CONFIG_OPTIONS, paperConfig, resolveConfig, type TrainConfig } from '../model/config.js';
import { ConfigError } from '../errors.js';
import type { OptionSpec } from '../core/options.js';
import { getMethod, METHODS } from '../methods/registry.js';
import { retrainVasg } from '../methods/vasg.js';
import { VasgModel } from '../model/vasg-model.js';
import type { Method } from '../methods/method.js';
import { configFlag, progressFor } from './options.js';

/** Training flags (one per row of CONFIG_OPTIONS), shared with `vasg demo` and `vasg experiment`. */
export function addTrainOptions(command: Command): Command {
  for (const { key } of CONFIG_OPTIONS) command.addOption(configFlag(key));
  return command.option('--paper', 'the paper\'s formulation: --decoder --no-visual --rank-epochs 0 --negatives 0 --scoring cosine --encoder-objective autoencoder (explicit flags still win)');
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
    .description('train a model (VASG or a baseline) on a prepared split (evaluation) or on a whole data set (production: all interactions, every catalogue product)')
    .requiredOption('--data <dir>', 'prepared split (output of "vasg prepare") or data set in the standard layout (output of "vasg generate"/"vasg import")')
    .requiredOption('--out <dir>', 'model directory to write')
    .addOption(new Option('--method <name>', `what to train: ${METHODS.map((m) => m.name).join(', ')}; the defaults shown below are VASG\'s, a baseline\'s own are in its flag\'s help or docs/library.md`).default('vasg').argParser((name: string) => {
      try {
        return getMethod(name).name;
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    }))
    .option('--images <dir>', 'folder of the products\' images: recorded in the model, so "vasg serve" shows them without --images')
    .option('--init-from <model>', 'incremental retraining (VASG only): start from this model\'s vectors, encoder and decoder; new users start at the ' +
      'mean of their products, new products at the encoder\'s output; a shorter schedule unless flags say otherwise (see docs/shop-loop.md)')
    .option('--json', 'print a JSON summary only');
  addTrainOptions(command);
  addBaselineOptions(command);
  return command.action(async (options) => {
    const method = getMethod(options.method);
    if (options.initFrom && method.name !== 'vasg') {
      throw new ConfigError(`--init-from works with --method vasg only: ${method.label} has no incremental training (train it from scratch without --init-from)`);
    }
    const methodOptions: object = method.name === 'vasg' ? vasgOptions(command, options) : baselineOptions(command, options, method);
    const progress = progressFor(options);
    checkOutputDirectory(options.out, 'manifest.json');
    const images = options.images === undefined ? {} : { images: imagesRoot(options.images) };
    const previous = options.initFrom ? VasgModel.load(options.initFrom) : null;
    const { layout, split } = loadTrainingData(options.data, progress);
    const model = previous
      ? await retrainVasg(previous, split, explicitConfig(command, options), progress)
      : await method.fit(split, methodOptions as Record<string, unknown>, progress);
    const info = model.info as { trainSeconds?: number; trainLog?: unknown; rankingLog?: unknown; encoderLog?: unknown; initFrom?: unknown };
    // The absolute data path lets `vasg export-events` find the training data of a served model.
    model.save(options.out, { layout, summary: split.summary, dataDir: path.resolve(options.data), ...info, ...images });
    const s = split.summary;
    const data = { dir: options.data, layout, users: s.users, items: s.items, warmItems: s.warmItems, coldItems: s.coldItems, trainPairs: s.trainPairs, filtered: s.filtered };
    const seconds = info.trainSeconds ?? 0;
    const summary = { model: options.out, method: method.name, data, seconds, epochs: info.trainLog, rankingLoss: info.rankingLog, encoderLoss: info.encoderLog,
      ...(previous ? { initFrom: { model: options.initFrom, ...(info.initFrom as object) } } : {}) };
    if (options.json) console.log(JSON.stringify(summary));
    else console.log(`${describeData(data)}\n${method.label} model written to ${options.out} (${seconds.toFixed(1)} s)`);
  });
}

/** The training options the user typed (incremental training fills the rest from the model and its schedule). */
function explicitConfig(command: Command, options: Record<string, unknown>): Partial<TrainConfig> {
  const values: Record<string, unknown> = {};
  for (const { key, flag } of CONFIG_OPTIONS) {
    const name = new Option(flag).attributeName();
    if (command.getOptionValueSource(name) === 'cli') values[key] = options[name];
  }
  return values as Partial<TrainConfig>;
}

/** Flag names of the CLI options a user typed (not defaults). */
function explicitFlags(command: Command): Set<string> {
  return new Set(command.options.filter((o) => command.getOptionValueSource(o.attributeName()) === 'cli').map((o) => o.long ?? o.flags));
}

const flagName = (flag: string) => flag.split(' ')[0];

/** Flags of the other methods, refused with VASG. */
function vasgOptions(command: Command, options: Record<string, unknown>): TrainConfig {
  const own = new Set(CONFIG_OPTIONS.map((o) => flagName(o.flag)));
  const foreign = [...explicitFlags(command)].filter((f) => !own.has(f) && BASELINE_FLAGS.has(f));
  if (foreign.length > 0) throw new ConfigError(`${foreign.join(', ')} ${foreign.length === 1 ? 'does' : 'do'} not apply to --method vasg (flags of other methods)`);
  return configFromOptions(command, options);
}

/** A baseline's options from the flags given explicitly; a flag that is not the method's is refused, naming its flags. */
function baselineOptions(command: Command, options: Record<string, unknown>, method: Method): Record<string, unknown> {
  const rows = new Map(method.options.map((o) => [flagName(o.flag), o]));
  const common = new Set(['--data', '--out', '--method', '--json']);
  const foreign = [...explicitFlags(command)].filter((f) => !common.has(f) && !rows.has(f));
  if (foreign.length > 0) {
    throw new ConfigError(`${foreign.join(', ')} ${foreign.length === 1 ? 'does' : 'do'} not apply to --method ${method.name} (its options: ${[...rows.keys()].join(', ') || 'none'})`);
  }
  const given = explicitFlags(command);
  const values: Record<string, unknown> = {};
  for (const [flag, row] of rows) if (given.has(flag)) values[String(row.key)] = options[new Option(row.flag).attributeName()];
  return values;
}

/** Every flag some baseline has and VASG has not. */
const BASELINE_FLAGS = new Set(METHODS.filter((m) => m.name !== 'vasg').flatMap((m) => m.options.map((o) => flagName(o.flag))));

/**
 * The baselines' flags, once each, next to VASG's. A flag several methods share (--epochs, --lr, …) accepts a value
 * any of them accepts; the chosen method's own table then checks it (its bounds, its message).
 */
function addBaselineOptions(command: Command): void {
  const byFlag = new Map<string, Array<OptionSpec<Record<string, unknown>>>>();
  for (const method of METHODS) {
    for (const row of method.options) byFlag.set(flagName(row.flag), [...(byFlag.get(flagName(row.flag)) ?? []), row]);
  }
  for (const [flag, rows] of byFlag) {
    const existing = command.options.find((o) => o.long === flag);
    const parser = (text: string) => {
      for (const { type } of rows) {
        const value = type.parse!(text);
        if (type.valid(value)) return value;
      }
      throw new InvalidArgumentError(`expected ${rows[0].type.expected}, got "${text}"`);
    };
    if (existing) {
      if (rows.length > 1 && rows[0].type.parse) existing.argParser(parser);
      continue;
    }
    command.addOption(new Option(rows[0].flag, flagHelp(flag)).argParser(parser));
  }
}

/** A baseline flag's help: each meaning it has, with the methods that have it and their defaults. */
function flagHelp(flag: string): string {
  const meanings = new Map<string, Map<string, string[]>>(); // description → default → methods
  for (const method of METHODS) {
    const row = method.options.find((o) => flagName(o.flag) === flag);
    if (!row) continue;
    const byDefault = meanings.get(row.description) ?? new Map<string, string[]>();
    meanings.set(row.description, byDefault);
    const value = JSON.stringify(row.default);
    byDefault.set(value, [...(byDefault.get(value) ?? []), method.name]);
  }
  return [...meanings].map(([description, byDefault]) =>
    `${description} (--method ${[...byDefault].map(([value, methods]) => `${methods.join('|')}: default ${value}`).join(', ')})`).join('; ');
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
