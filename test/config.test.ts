// One option schema (CONFIG_OPTIONS) drives both the CLI's training flags and the library's resolveConfig.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { CONFIG_OPTIONS, defaultConfig, resolveConfig, type TrainConfig } from '../src/model/config.js';
import { addTrainOptions, configFromOptions } from '../src/cli/train.js';
import { ConfigError } from '../src/errors.js';

// Listing every key of TrainConfig: the compiler refuses this literal when a key is missing or unknown.
const EVERY_KEY: Record<keyof TrainConfig, true> = {
  dim: true, walksPerNode: true, newWalksPerNode: true, walkLength: true, weightedWalks: true, window: true, negatives: true, negativePower: true,
  epochs: true, skipgramLr: true, decoder: true, hidden: true, dropout: true, lr: true, batchSize: true, minMaxScale: true,
  decoderNoise: true, visual: true, visualLr: true, rankEpochs: true, rankLr: true, rankReg: true, pretrain: true,
  encoderObjective: true, encoderSteps: true, encoderDropout: true, calibrateCold: true, encoderNoise: true, scoring: true,
  itemBias: true, coldPopularity: true, coldOffset: true, coldExposure: true, rankNegatives: true, rankSubspace: true, similar: true, similarRank: true, similarEpochs: true,
  eventWeights: true, halfLifeDays: true, threads: true, seed: true,
};

/** Parses `args` as `vasg train`'s training flags would be; returns the config, or throws commander's error. */
function parseFlags(args: string[]): TrainConfig {
  const command = addTrainOptions(new Command('train')).exitOverride().configureOutput({ writeErr: () => {} });
  command.parse(args, { from: 'user' });
  return configFromOptions(command, command.opts());
}

test('every TrainConfig key has exactly one schema entry, and every flag is distinct', () => {
  const keys = CONFIG_OPTIONS.map((o) => o.key);
  assert.deepEqual([...keys].sort(), Object.keys(EVERY_KEY).sort());
  const flags = CONFIG_OPTIONS.map((o) => o.flag.split(' ')[0]);
  assert.equal(new Set(flags).size, flags.length);
});

test('CLI defaults are the library defaults, and every default passes its own check', () => {
  assert.deepEqual(parseFlags([]), defaultConfig);
  assert.deepEqual(resolveConfig(), defaultConfig);
  for (const { key, flag, default: value, type } of CONFIG_OPTIONS) {
    assert.ok(type.valid(value), `${key}: default ${JSON.stringify(value)} is ${type.expected}`);
    // A switch's flag says which way it turns: --no-x for options on by default, --x for those off.
    if (!type.parse) assert.equal(flag.startsWith('--no-'), value === true, `${key}: ${flag} against default ${value}`);
  }
});

test('flags parse into the same values the config holds, switches included', () => {
  const config = parseFlags(['--dim', '24', '--hidden', '32,64', '--no-min-max', '--weighted-walks', '--scoring', 'cosine', '--negative-power', '0.75', '--threads', '1']);
  assert.deepEqual(config, { ...defaultConfig, dim: 24, hidden: [32, 64], minMaxScale: false, weightedWalks: true, scoring: 'cosine', negativePower: 0.75, threads: 1 });
});

test('a bad value is refused with the same bounds by the flag and by resolveConfig', () => {
  const cases: Array<[keyof TrainConfig, string, unknown]> = [
    ['window', '4', 4], ['dim', '0', 0], ['dropout', '0.99', 0.99], ['hidden', '256,0', [256, 0]], ['scoring', 'l2', 'l2'], ['threads', '300', 300],
  ];
  for (const [key, text, value] of cases) {
    const { flag, type } = CONFIG_OPTIONS.find((o) => o.key === key)!;
    assert.throws(() => parseFlags([flag.split(' ')[0], text]), (e: Error) => e.message.includes(`expected ${type.expected}, got "${text}"`), `${flag} ${text}`);
    assert.throws(() => resolveConfig({ [key]: value }), (e: Error) => e instanceof ConfigError && e.message === `config: ${key} must be ${type.expected}, got ${JSON.stringify(value)}`);
  }
  assert.throws(() => parseFlags(['--epochs', '2.5']), /expected an integer in \[1, 1000\], got "2.5"/);
  assert.throws(() => resolveConfig({ pretrain: 'yes' as unknown as boolean }), /config: pretrain must be true or false, got "yes"/);
});
