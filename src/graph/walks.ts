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
