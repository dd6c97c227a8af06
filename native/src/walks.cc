#include "walks.h"
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>
#include "rng.h"
#include "worker.h"

namespace vasg {
namespace {

class WalksWorker : public PromiseWorker {
 public:
  WalksWorker(Napi::Env env, const int32_t* indptr, const int32_t* indices, const float* weights, int64_t nNodes,
              int64_t walksPerNode, int64_t walkLength, uint64_t seed, int threads, Napi::Int32Array out)
      : PromiseWorker(env, "vasg.randomWalks"),
        indptr_(indptr), indices_(indices), weights_(weights), nNodes_(nNodes), walksPerNode_(walksPerNode),
        walkLength_(walkLength), seed_(seed), threads_(threads), out_(out.Data()) {
    outRef_ = Napi::Persistent(out);
  }

 protected:
  void Execute() override {
    const int64_t n = nNodes_;
    if (n == 0 || walksPerNode_ == 0) return;
    // Per-edge cumulative weights within each node's neighbour range (double: exact enough for long lists).
    if (weights_ != nullptr) {
      cum_.resize(static_cast<size_t>(indptr_[n]));
      ParallelFor(n, threads_, [&](int64_t b, int64_t e, int) {
        for (int64_t u = b; u < e; ++u) {
          double s = 0;
          for (int32_t k = indptr_[u]; k < indptr_[u + 1]; ++k) cum_[k] = (s += weights_[k]);
        }
      });
    }
    std::vector<int32_t> order(static_cast<size_t>(n));
    for (int64_t r = 0; r < walksPerNode_; ++r) {
      std::iota(order.begin(), order.end(), 0);
      Rng shuffle(StreamSeed(seed_, 0x5348554646ULL, static_cast<uint64_t>(r)));
      for (int64_t i = n - 1; i > 0; --i) {
        int64_t j = static_cast<int64_t>(shuffle.Uniform() * static_cast<double>(i + 1));
        if (j > i) j = i;
        std::swap(order[i], order[j]);
      }
      ParallelFor(n, threads_, [&](int64_t b, int64_t e, int) {
        for (int64_t k = b; k < e; ++k) Walk(r * n + k, order[k]);
      });
    }
  }

  Napi::Value Result(Napi::Env) override { return outRef_.Value(); }

 private:
  void Walk(int64_t walk, int32_t start) {
    Rng rng(StreamSeed(seed_, 0x57414c4bULL, static_cast<uint64_t>(walk)));
    int32_t* w = out_ + walk * walkLength_;
    int32_t cur = start;
    w[0] = cur;
    for (int64_t t = 1; t < walkLength_; ++t) {
      const int32_t b = indptr_[cur], e = indptr_[cur + 1];
      const int32_t deg = e - b;
      if (deg > 0) {
        int32_t pick = -1;
        if (weights_ != nullptr) {
          const double total = cum_[e - 1];
          if (total > 0) {
            const double x = rng.Uniform() * total;
            // First edge whose cumulative weight exceeds x (zero-weight edges are never chosen).
            const double* base = cum_.data();
            pick = static_cast<int32_t>(std::upper_bound(base + b, base + e, x) - base);
            if (pick >= e) pick = e - 1;
          }
        }
        if (pick < 0) pick = b + static_cast<int32_t>(rng.Below(static_cast<uint32_t>(deg)));
        cur = indices_[pick];
      }
      w[t] = cur;
    }
  }

  const int32_t* indptr_;
  const int32_t* indices_;
  const float* weights_;
  int64_t nNodes_, walksPerNode_, walkLength_;
  uint64_t seed_;
  int threads_;
  int32_t* out_;
  Napi::Reference<Napi::Int32Array> outRef_;
  std::vector<double> cum_;
};

Napi::Value RandomWalks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto indptr = TypedArg<int32_t>(info, 0, "indptr");
  auto indices = TypedArg<int32_t>(info, 1, "indices");
  auto weights = TypedValue<float>(env, info[2], "weights", true);
  const int64_t walksPerNode = IntArg(info, 3, "walksPerNode");
  const int64_t walkLength = IntArg(info, 4, "walkLength");
  const double seedNum = NumArg(info, 5, "seed");
  const int64_t threads = IntArg(info, 6, "threads");

  RequireRange(env, indptr.length >= 1, "indptr must have nNodes + 1 >= 1 elements");
  const int64_t n = static_cast<int64_t>(indptr.length) - 1;
  RequireRange(env, indptr.data[0] == 0, "indptr[0] must be 0");
  for (int64_t u = 0; u < n; ++u) {
    if (indptr.data[u + 1] < indptr.data[u]) throw Napi::RangeError::New(env, "indptr must be non-decreasing");
  }
  const int64_t nnz = indptr.data[n];
  CheckLength(env, indices.length, static_cast<size_t>(nnz), "indices");
  for (int64_t k = 0; k < nnz; ++k) {
    if (indices.data[k] < 0 || indices.data[k] >= n) {
      throw Napi::RangeError::New(env, "indices[" + std::to_string(k) + "] = " + std::to_string(indices.data[k]) +
                                           " is not a node id in [0, " + std::to_string(n) + ")");
    }
  }
  if (weights.data != nullptr) {
    CheckLength(env, weights.length, static_cast<size_t>(nnz), "weights");
    for (int64_t k = 0; k < nnz; ++k) {
      if (!(weights.data[k] >= 0) || !std::isfinite(weights.data[k])) {
        throw Napi::RangeError::New(env, "weights must be finite and >= 0 (weights[" + std::to_string(k) + "])");
      }
    }
  }
  RequireRange(env, walksPerNode >= 0, "walksPerNode must be >= 0");
  RequireRange(env, walkLength >= 1, "walkLength must be >= 1");
  const double total = static_cast<double>(walksPerNode) * static_cast<double>(n) * static_cast<double>(walkLength);
  RequireRange(env, total <= 2147483647.0, "walksPerNode · nNodes · walkLength exceeds 2^31 - 1 tokens");
  RequireRange(env, threads >= 1, "threads must be >= 1");

  auto out = Napi::Int32Array::New(env, static_cast<size_t>(total));
  auto* worker = new WalksWorker(env, indptr.data, indices.data, weights.data, n, walksPerNode, walkLength,
                                 static_cast<uint64_t>(static_cast<int64_t>(seedNum)), static_cast<int>(threads), out);
  worker->Keep(info[0]);
  worker->Keep(info[1]);
  worker->Keep(info[2]);
  return worker->Start();
}

}  // namespace

void InitWalks(Napi::Env env, Napi::Object exports) {
  exports.Set("randomWalks", Napi::Function::New(env, RandomWalks, "randomWalks"));
}

}  // namespace vasg
