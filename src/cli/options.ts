// Flag parsers shared by the commands: each names what it expected and what it got.
import os from 'node:os';
import { InvalidArgumentError } from 'commander';
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

export function intList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new InvalidArgumentError(`expected comma-separated positive integers such as 256,512,1024,2048, got "${value}"`);
  }
  return parts.map(Number);
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

/** Default thread count: the machine's cores. */
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism());
}
