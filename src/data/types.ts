// Typed records passed between pipeline stages (data → graph → training → evaluation).
// Users and items are addressed by dense indices; the string ids live in `userIds`/`itemIds`.
import type { NpyDtype } from './npy.js';

/** A dense row-major float32 matrix. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** A dense row-major matrix of float16 values, as their bit patterns (Node 20 has no Float16Array). */
export interface HalfMatrix {
  half: Uint16Array;
  rows: number;
  cols: number;
}

/** Image features in memory in their storage type (src/data/features.ts reads them as float32 blocks). */
export type Features = Matrix | HalfMatrix;

/** Interactions as parallel arrays of user/item indices. */
export interface Interactions {
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  /** Seconds since the epoch; NaN when unknown. */
  timestamps: Float64Array;
  /**
   * Event types (optional `event_type` column): bit t of types[k] set when pair k had an event of type
   * typeNames[t] (a pair's events are merged into one pair; training weighs it by its strongest type).
   * Absent: every pair is a purchase.
   */
  events?: EventTypes;
}

/** The event types of the pairs of an Interactions record (at most 32 distinct types). */
export interface EventTypes {
  typeNames: string[];
  types: Uint32Array;
  /** Where each type was first seen ("interactions.csv:12"), for errors that name the line. */
  firstSeen: string[];
}

export interface ItemMeta {
  title: string;
  category: string;
  imageUrl: string;
}

/** Ground truth of a generated data set: the true preference score of (u, i) is users[u]·items[i]. */
export interface GroundTruth {
  users: Matrix;
  items: Matrix;
}

/**
 * A data set in the standard layout (interactions.csv, items.csv, features.npy), loaded and validated. Features are
 * held in their storage type (float16 stays float16), or (F = NpyOnDisk) left in their file for stages that only
 * select rows of them.
 */
export interface Dataset<F = Features> {
  userIds: string[];
  itemIds: string[];
  items: ItemMeta[];
  interactions: Interactions;
  /** [itemIds.length × I] image features, row i ↔ item i. */
  features: F;
  /** How features.npy stores them (absent: float32). */
  featureDtype?: NpyDtype;
  truth?: GroundTruth;
}

/** Counts reported by `prepare` (and by production training, which holds nothing out: see src/data/production.ts). */
export interface SplitSummary {
  users: number;
  items: number;
  warmItems: number;
  coldItems: number;
  trainPairs: number;
  testWarm: number;
  testCold: number;
  featureDim: number;
  /** What was removed, and why: reason → count. */
  filtered: Record<string, number>;
  /** Seed of the split's random choices (0 for production training, which makes none). */
  seed: number;
  minInteractions: number;
  /** How cold products were chosen: "balanced", "fraction:x", or "never-bought" (production training on a whole data set). */
  coldPolicy: string;
  /** "random" (leave-one-out with a random cold set) or "time" (global cutoff; see src/data/time-split.ts). Absent in older directories: random. */
  split?: 'random' | 'time';
  /** Time split only: the cutoff (seconds since the epoch; training is strictly before it), as ISO text too, and the requested test fraction. */
  cutoff?: number;
  cutoffIso?: string;
  testFraction?: number;
  /** Time split only: share of the split's interactions at or after the cutoff (≥ testFraction when timestamps tie). */
  shareAfterCutoff?: number;
  /** Time split only: cold products first bought after the cutoff (new arrivals) and catalogue products nobody bought (kept as candidates). */
  newArrivals?: number;
  neverBought?: number;
  /** Conditions the user should know about (e.g. few test users); printed by `prepare` on stderr. */
  warnings?: string[];
}

/**
 * A prepared train/test split (output of `prepare`, input of `train` and `evaluate`). Features are held in their
 * storage type (float16 stays float16), or (F = NpyOnDisk, while preparing) left in their file.
 */
export interface Split<F = Features> {
  userIds: string[];
  itemIds: string[];
  items: ItemMeta[];
  /** 1 for products seen in training, 0 for cold products (never in training). */
  warm: Uint8Array;
  train: Interactions;
  /** One leave-one-out test pair per user (users without one are counted in the summary). */
  test: { users: Int32Array; items: Int32Array };
  features: F;
  /** How the split's features.npy stores them (absent: float32), kept from the data set; also how `features` holds them. */
  featureDtype?: NpyDtype;
  truth?: GroundTruth;
  summary: SplitSummary;
  /** Weight of each training pair in ranking (typed events, decay; mean 1); absent: every pair weighs 1. */
  pairWeights?: Float32Array;
}
