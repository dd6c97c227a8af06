// Flag parsers shared by the commands: each names what it expected and what it got.
import { InvalidArgumentError, Option } from 'commander';
import { CONFIG_OPTIONS, type TrainConfig } from '../model/config.js';
import { consoleProgress, silentProgress, type Progress } from '../progress.js';

export function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got "${value}"`);
    }
    return n;
  };
}

export function num(min: number, max = Number.POSITIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number in [${min}, ${max === Number.POSITIVE_INFINITY ? '∞' : max}], got "${value}"`);
    }
    return n;
  };
}

export function oneOf<T extends string>(...choices: T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got "${value}"`);
    return value as T;
  };
}

/** Progress on stderr, or none with --json so stdout carries only the JSON document. */
export function progressFor(options: { json?: boolean; quiet?: boolean }): Progress {
  return options.json || options.quiet ? silentProgress : consoleProgress();
}

/** The flag of one training option, from its row of CONFIG_OPTIONS: same help, default, parser and bounds as the library. */
export function configFlag(key: keyof TrainConfig): Option {
  const { flag, description, default: value, type } = CONFIG_OPTIONS.find((o) => o.key === key)!;
  const option = new Option(flag, description);
  if (!type.parse) return flag.startsWith('--no-') ? option : option.default(value);
  const parse = type.parse;
  return option.default(value, Array.isArray(value) ? value.join(',') : undefined).argParser((text: string) => {
    const parsed = parse(text);
    if (!type.valid(parsed)) throw new InvalidArgumentError(`expected ${type.expected}, got "${text}"`);
    return parsed;
  });
}
