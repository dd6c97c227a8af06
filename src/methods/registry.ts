// The registry of methods: every model the package can train, by the name `vasg train --method` takes.
// Adding a model: an adapter (a Method: name, option table, fit → factor artifact) and one line in METHODS.
import { ConfigError } from '../errors.js';
import type { Dataset, Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import { VasgModel } from '../model/vasg-model.js';
import { bprMfMethod, ibrMethod, mostPopMethod, vbprMethod, wboiMethod } from './baselines.js';
import { contentCfMethod, ialsMethod } from './ials.js';
import { vasgMethod } from './vasg.js';
import type { Method } from './method.js';

/** Every registered method, in the order tables list them (Table 2's: the simple baselines first). */
export const METHODS: readonly Method[] = [
  entry(mostPopMethod), entry(wboiMethod), entry(vbprMethod), entry(bprMfMethod), entry(ialsMethod), entry(contentCfMethod),
  entry(vasgMethod), entry(ibrMethod),
];

/**
 * Baselines that are rows of `vasg experiment auc` but not registered methods, with the reason: asked for by name
 * (`fit`, `vasg train --method`), they are refused with it rather than as unknown names.
 */
export const EXPERIMENT_ONLY: Readonly<Record<string, string>> = {
  ease: 'EASE is a row of "vasg experiment auc" only, not a method to train, save or serve: its model is an item × item ' +
    'weight matrix B (up to 10 000 × 10 000 products, scores X_u·B), which the shared model format (factor rows of at most ' +
    '4096 columns) cannot hold; see docs/baselines.md',
};

/** A method with its options record's type erased: its `fit` checks whatever it is given against its own table. */
function entry<O>(method: Method<O>): Method {
  return method as unknown as Method;
}

export function methodNames(): string[] {
  return METHODS.map((m) => m.name);
}

/** The method called `name`; an unknown name throws a ConfigError listing the known ones. */
export function getMethod(name: string): Method {
  const method = METHODS.find((m) => m.name === name);
  if (!method && name in EXPERIMENT_ONLY) throw new ConfigError(`method "${name}" cannot be trained: ${EXPERIMENT_ONLY[name]}`, 'method');
  if (!method) throw new ConfigError(`unknown method "${name}": the known methods are ${methodNames().join(', ')}`, 'method');
  return method;
}

/** Fits a method by name on a prepared split or a whole data set, with options of its own table. */
export function fit(method: string, data: Dataset | Split, options: Record<string, unknown> = {}, progress?: Progress): Promise<VasgModel> {
  return getMethod(method).fit(data, options, progress);
}

/** Reads any method's model directory (they share one format; the manifest names the method). */
export function loadRecommender(dir: string): VasgModel {
  return VasgModel.load(dir);
}

/** The subset of `values` that a method's option table has (e.g. seed and threads for an experiment run). */
export function optionsFor(method: Method, values: Record<string, unknown>): Record<string, unknown> {
  const keys = new Set(method.options.map((o) => String(o.key)));
  return Object.fromEntries(Object.entries(values).filter(([key]) => keys.has(key)));
}
