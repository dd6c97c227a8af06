// The heterogeneous information network of §3.1: a bipartite user–product graph of the
// training interactions, stored as CSR. Node ids: users 0..nUsers-1, then warm products.
// Cold products have no edges and are not nodes (they never appear in training).
import type { Interactions } from '../data/types.js';

export interface BipartiteGraph {
  nUsers: number;
  /** nUsers + number of warm products. */
  nNodes: number;
  indptr: Int32Array;
  indices: Int32Array;
  /** Edge weights (ratings), aligned with `indices`. */
  weights: Float32Array;
  /** Product node n (n ≥ nUsers) is item nodeItem[n - nUsers]. */
  nodeItem: Int32Array;
  /** Item i is node itemNode[i], or -1 for items without training interactions. */
  itemNode: Int32Array;
}

export function buildGraph(train: Interactions, nUsers: number, nItems: number): BipartiteGraph {
  const itemNode = new Int32Array(nItems).fill(-1);
  const nodeItemList: number[] = [];
  for (const item of train.items) {
    if (itemNode[item] === -1) {
      itemNode[item] = -2; // seen; numbered below in item order so ids do not depend on row order
    }
  }
  for (let i = 0; i < nItems; i++) {
    if (itemNode[i] === -2) {
      itemNode[i] = nUsers + nodeItemList.length;
      nodeItemList.push(i);
    }
  }
  const nNodes = nUsers + nodeItemList.length;
  const degree = new Int32Array(nNodes);
  const n = train.users.length;
  for (let e = 0; e < n; e++) {
    degree[train.users[e]]++;
    degree[itemNode[train.items[e]]]++;
  }
  const indptr = new Int32Array(nNodes + 1);
  for (let v = 0; v < nNodes; v++) indptr[v + 1] = indptr[v] + degree[v];
  const fill = indptr.slice(0, nNodes);
  const indices = new Int32Array(2 * n);
  const weights = new Float32Array(2 * n);
  for (let e = 0; e < n; e++) {
    const u = train.users[e];
    const p = itemNode[train.items[e]];
    const r = train.ratings[e];
    indices[fill[u]] = p;
    weights[fill[u]++] = r;
    indices[fill[p]] = u;
    weights[fill[p]++] = r;
  }
  return { nUsers, nNodes, indptr, indices, weights, nodeItem: Int32Array.from(nodeItemList), itemNode };
}

/** How often each node occurs in a walk corpus (used for negative sampling and decoder weights). */
export function nodeFrequencies(corpus: Int32Array, nNodes: number): Float64Array {
  const counts = new Float64Array(nNodes);
  for (const v of corpus) counts[v]++;
  return counts;
}

/** word2vec's unigram^power table of node ids, for drawing negative samples in proportion to counts^power. */
export function negativeTable(counts: Float64Array, power = 0.75, size = 1 << 22): Int32Array {
  const table = new Int32Array(size);
  let total = 0;
  for (const c of counts) total += Math.pow(c, power);
  let node = 0;
  let cumulative = counts.length ? Math.pow(counts[0], power) / total : 0;
  for (let t = 0; t < size; t++) {
    table[t] = node;
    if ((t + 1) / size > cumulative && node < counts.length - 1) {
      node++;
      cumulative += Math.pow(counts[node], power) / total;
    }
  }
  return table;
}
