// Every method's model is stored as the same artifact (VasgModel's directory format): user and item factor
// matrices, the users' seen items, product metadata, an optional encoder from image features to item rows,
// and the method's name, options and capabilities in the manifest. So `vasg serve`, `vasg recommend` and the
// library load and serve any method's model the same way; only VASG's own training lives in model/.
import { native } from '../native.js';
import type { Dataset, Matrix, Split } from '../data/types.js';
import { productionSplit } from '../data/production.js';
import { ConfigError } from '../errors.js';
import { resolveConfig, type Scoring } from '../model/config.js';
import type { Encoder } from '../model/encoder.js';
import { VasgModel } from '../model/vasg-model.js';

/** What a method's adapter hands over: its factors and what it can do with them. */
export interface FactorParts {
  /** Registry name. */
  method: string;
  /** The method's resolved options (stored in the manifest). */
  options: object;
  /** Raw factors; `scoring: 'cosine'` normalises their rows when scoring, 'dot' scores them as they are. */
  users: Matrix;
  items: Matrix;
  scoring: Scoring;
  /** Linear map from image features to a new product's item row, [I × width]; absent: no new products. */
  featureMap?: Matrix;
  /** Added to every new product's row after featureMap ([width]; Content→CF's intercept); absent: 0. */
  featureIntercept?: Float32Array;
  /** Per product, the similar-items query when it is not the item row (see VasgModelParts.itemQueries). */
  itemQueries?: Matrix;
  similarItems: boolean;
  coldItems: boolean;
  /** Extra manifest information (training losses, seconds). */
  info?: Record<string, unknown>;
}

/** Widest factor row a model can hold (the `dim` bound of the artifact's config). */
const MAX_WIDTH = 4096;

function isSplit(data: Dataset | Split): data is Split {
  return 'train' in data;
}

/** A prepared split as is; a whole data set as production training data (every product; never-bought ones cold). */
export function asSplit(data: Dataset | Split): Split {
  return isSplit(data) ? data : productionSplit(data);
}

/** The model artifact of a method's factors on a split. */
export function factorModel(split: Split, parts: FactorParts): VasgModel {
  const width = parts.users.cols;
  if (parts.items.cols !== width) throw new Error(`${parts.method}: user and item factors differ in width (${width} vs ${parts.items.cols})`);
  if (width > MAX_WIDTH) throw new ConfigError(`${parts.method}: ${width} factors per row exceed the ${MAX_WIDTH} a model can hold; choose fewer latent or visual factors`);
  // The artifact's config carries what serving reads (width, scoring, no feature scaling); the method's own options are in `method`.
  const config = resolveConfig({ dim: width, scoring: parts.scoring, minMaxScale: false });
  return VasgModel.fromTraining({
    config,
    userIds: split.userIds,
    itemIds: split.itemIds,
    users: parts.users,
    items: parts.items,
    cold: Uint8Array.from(split.warm, (w) => 1 - w),
    train: split.train,
    encoder: parts.featureMap ? linearEncoder(parts.featureMap, parts.featureIntercept) : null,
    decoder: null,
    featureDim: split.features.cols,
    meta: split.items.map((m) => ({ ...m })),
    method: { name: parts.method, options: { ...parts.options }, similarItems: parts.similarItems, coldItems: parts.coldItems },
    ...(parts.itemQueries ? { itemQueries: parts.itemQueries } : {}),
  }, parts.info);
}

/** An encoder that is the affine map x ↦ x·W + c (one linear layer, no bias; calibration: scale 1, shift c). */
function linearEncoder(W: Matrix, intercept?: Float32Array): Encoder {
  const network = new native.Mlp([W.rows, W.cols], { dropout: 0, outputRelu: false, seed: 0 });
  network.setParams([W.data, new Float32Array(W.cols)]);
  const calibration = new Float32Array(2 * W.cols).fill(1, 0, W.cols);
  if (intercept) calibration.set(intercept, W.cols);
  return { network, calibration };
}
