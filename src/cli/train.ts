// `vasg train`: prepared split → model directory (embeddings, encoder, decoder, manifest, loss log).
import { Command, Option } from 'commander';
import { loadSplit } from '../data/split.js';
import { checkOutputDirectory } from '../data/atomic.js';
import { paperConfig, resolveConfig, defaultConfig, type TrainConfig } from '../model/config.js';
import { trainVasg } from '../model/train.js';
import { defaultThreads, int, intList, num, oneOf, progressFor } from './options.js';

/** Training flags, shared with `vasg demo`. */
export function addTrainOptions(command: Command): Command {
  const d = defaultConfig;
  return command
    .addOption(new Option('--dim <n>', 'embedding size D').argParser(int(1, 4096)).default(d.dim))
    .addOption(new Option('--walks-per-node <n>', 'random walks started from every node per epoch').argParser(int(1, 1000)).default(d.walksPerNode))
    .addOption(new Option('--walk-length <n>', 'tokens per walk').argParser(int(2, 10000)).default(d.walkLength))
    .option('--weighted-walks', 'choose the next node with probability proportional to the rating', d.weightedWalks)
    .addOption(new Option('--window <w>', 'skip-gram window (odd): centre ± (w-1)/2').argParser(int(3, 101)).default(d.window))
    .addOption(new Option('--negatives <k>', 'negative samples per pair; 0 = the paper\'s positive-only objective').argParser(int(0, 100)).default(d.negatives))
    .addOption(new Option('--negative-power <x>', 'draw negatives ∝ frequency^x (0 = uniform)').argParser(num(0, 2)).default(d.negativePower))
    .addOption(new Option('--epochs <n>', 'passes over a fresh walk corpus').argParser(int(1, 1000)).default(d.epochs))
    .addOption(new Option('--skipgram-lr <x>', 'skip-gram SGD learning rate (linear decay)').argParser(num(1e-6, 10)).default(d.skipgramLr))
    .option('--no-decoder', 'train without the image decoder (the paper\'s Skip-Gram ablation)')
    .addOption(new Option('--hidden <list>', 'decoder hidden widths, D → hidden → I (the encoder mirrors them)').argParser(intList).default(d.hidden, d.hidden.join(',')))
    .addOption(new Option('--dropout <p>', 'dropout on hidden layers').argParser(num(0, 0.95)).default(d.dropout))
    .addOption(new Option('--lr <x>', 'Adam learning rate of decoder and encoder').argParser(num(1e-8, 1)).default(d.lr))
    .addOption(new Option('--batch-size <n>', 'products per decoder/encoder batch').argParser(int(1, 65536)).default(d.batchSize))
    .option('--pretrain', 'pre-train an autoencoder and start product vectors and decoder from it (reference implementation)', d.pretrain)
    .option('--no-min-max', 'use raw image features instead of per-product min–max scaling to [0, 1]')
    .addOption(new Option('--decoder-noise <sd>', 'Gaussian noise on embeddings before the decoder (reference implementation: 1)').argParser(num(0)).default(d.decoderNoise))
    .option('--no-visual', 'no joint visual term: product vectors are free skip-gram vectors (the paper\'s model)')
    .addOption(new Option('--visual-lr <x>', 'Adam learning rate of the visual term\'s E').argParser(num(1e-8, 1)).default(d.visualLr))
    .addOption(new Option('--rank-epochs <n>', 'BPR epochs of ranking refinement after the joint stage (0 = none, the paper\'s model)').argParser(int(0, 10000)).default(d.rankEpochs))
    .addOption(new Option('--rank-lr <x>', 'SGD learning rate of the ranking refinement').argParser(num(1e-8, 10)).default(d.rankLr))
    .addOption(new Option('--rank-reg <x>', 'L2 weight of the ranking refinement, per touched vector').argParser(num(0, 100)).default(d.rankReg))
    .addOption(new Option('--encoder-objective <name>', 'joint: M is the visual term\'s E (default); regress: an MLP M(f) ≈ warm embeddings; ' +
      'autoencoder: the paper\'s f → M(f) → frozen M⁻¹ (default with --no-visual: regress)')
      .argParser(oneOf('joint', 'autoencoder', 'regress')).default(d.encoderObjective))
    .addOption(new Option('--encoder-steps <n>', 'encoder training steps (minibatches of --batch-size warm products)').argParser(int(0, 10_000_000)).default(d.encoderSteps))
    .addOption(new Option('--encoder-dropout <p>', 'dropout on the encoder\'s hidden layers').argParser(num(0, 0.95)).default(d.encoderDropout))
    .option('--no-calibrate-cold', 'do not map encoder outputs onto the mean/spread of the warm vectors')
    .addOption(new Option('--encoder-noise <sd>', 'Gaussian noise on encoder input features').argParser(num(0)).default(d.encoderNoise))
    .addOption(new Option('--scoring <rule>', 'rank by cosine (paper) or dot product').argParser(oneOf('cosine', 'dot')).default(d.scoring))
    .option('--paper', 'the paper\'s formulation: --no-visual --rank-epochs 0 --negatives 0 --scoring cosine --encoder-objective autoencoder (explicit flags still win)')
    .addOption(new Option('--threads <n>', 'worker threads').argParser(int(1, 256)).default(defaultThreads()))
    .addOption(new Option('--seed <n>', 'random seed').argParser(int(0, 2 ** 31 - 1)).default(d.seed));
}

/** Builds the config from parsed flags; with --paper, the paper's settings replace defaults the user did not set. */
export function configFromOptions(command: Command, options: Record<string, unknown>): TrainConfig {
  const keys = Object.keys(defaultConfig) as Array<keyof TrainConfig>;
  const fromFlags: Partial<TrainConfig> = {};
  const flagName: Partial<Record<keyof TrainConfig, string>> = { minMaxScale: 'minMax' };
  for (const key of keys) {
    const name = flagName[key] ?? key;
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
