// Random walks on the HIN (§3.1): `walksPerNode` walks of `walkLength` tokens from every node,
// users and products alternating. The walking itself is native and multi-threaded.
import { native } from '../native.js';
import type { BipartiteGraph } from './graph.js';

export interface WalkOptions {
  walksPerNode: number;
  walkLength: number;
  /** Next node ∝ edge weight (rating) instead of uniform. */
  weighted: boolean;
  seed: number;
  threads: number;
}

/** The walk corpus: walks of `walkLength` node ids, concatenated. */
export function generateWalks(graph: BipartiteGraph, options: WalkOptions): Promise<Int32Array> {
  return native.randomWalks(graph.indptr, graph.indices, options.weighted ? graph.weights : null,
    options.walksPerNode, options.walkLength, options.seed, options.threads);
}

/** The walks of `corpus` whose start node passes `keep`. */
export function keepWalks(corpus: Int32Array, walkLength: number, keep: (node: number) => boolean): Int32Array {
  const kept: number[] = [];
  for (let w = 0; w < corpus.length / walkLength; w++) if (keep(corpus[w * walkLength])) kept.push(w);
  const out = new Int32Array(kept.length * walkLength);
  kept.forEach((w, k) => out.set(corpus.subarray(w * walkLength, (w + 1) * walkLength), k * walkLength));
  return out;
}

/**
 * Both corpora's walks merged evenly, in their own orders: the skip-gram rate decays along the corpus, so extra
 * walks appended at the end would be learned at the lowest rate.
 */
export function interleaveWalks(a: Int32Array, b: Int32Array, walkLength: number): Int32Array {
  const na = a.length / walkLength, nb = b.length / walkLength;
  const out = new Int32Array(a.length + b.length);
  let ia = 0, ib = 0;
  for (let w = 0; w < na + nb; w++) {
    // Take from b while it is behind its share of the walks written so far.
    const fromB = ib < nb && (ia >= na || (ib + 1) * (na + nb) <= (w + 1) * nb);
    const source = fromB ? b : a;
    const index = fromB ? ib++ : ia++;
    out.set(source.subarray(index * walkLength, (index + 1) * walkLength), w * walkLength);
  }
  return out;
}
