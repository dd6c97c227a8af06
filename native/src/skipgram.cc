#include "skipgram.h"
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include "rng.h"
#include "worker.h"

namespace vasg {
namespace {

constexpr float kMaxLogit = 30.0f;
constexpr int64_t kProgressEvery = 1024;  // tokens between publications of a thread's progress

inline void PrefetchRow(const float* row, int dim) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int off = 0; off < dim * 4; off += 64) __builtin_prefetch(p + off);
}

// Negative draws through a two-stage prefetch pipeline: table slots are drawn kSlotAhead draws before use
// (their negTable entry prefetched), ids kRowAhead draws before use (their output row prefetched).
// The sequence of ids is exactly negTable[rng.Below(size)] in draw order.
class NegativeStream {
 public:
  static constexpr int kSlotAhead = 32, kRowAhead = 8;
  NegativeStream(Rng& rng, const int32_t* table, uint32_t size, const float* Y, int dim)
      : rng_(rng), table_(table), size_(size), Y_(Y), dim_(dim) {
    if (size_ == 0) return;
    for (int i = 0; i < kSlotAhead; ++i) {
      slots_[i] = rng_.Below(size_);
      __builtin_prefetch(table_ + slots_[i]);
    }
    for (int i = 0; i < kRowAhead; ++i) ids_[i] = Advance();
  }
  int32_t Next() {
    const int32_t id = ids_[rowHead_];
    ids_[rowHead_] = Advance();
    rowHead_ = (rowHead_ + 1) % kRowAhead;
    return id;
  }

 private:
  int32_t Advance() {
    const int32_t id = table_[slots_[slotHead_]];
    PrefetchRow(Y_ + static_cast<int64_t>(id) * dim_, dim_);
    slots_[slotHead_] = rng_.Below(size_);
    __builtin_prefetch(table_ + slots_[slotHead_]);
    slotHead_ = (slotHead_ + 1) % kSlotAhead;
    return id;
  }
  Rng& rng_;
  const int32_t* table_;
  uint32_t size_;
  const float* Y_;
  int dim_;
  uint32_t slots_[kSlotAhead];
  int32_t ids_[kRowAhead];
  int slotHead_ = 0, rowHead_ = 0;
};

#if defined(__AVX2__) && defined(__FMA__)
inline float Hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
// Four independent accumulators: the FMA latency chain is a quarter as long as a single-accumulator loop.
inline float Dot(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int d = 0;
  for (; d + 32 <= n; d += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d + 8), _mm256_loadu_ps(b + d + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d + 16), _mm256_loadu_ps(b + d + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d + 24), _mm256_loadu_ps(b + d + 24), s3);
  }
  for (; d + 8 <= n; d += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), s0);
  float s = Hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; d < n; ++d) s += a[d] * b[d];
  return s;
}
#else
inline float Dot(const float* __restrict a, const float* __restrict b, int n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int d = 0; d < n; ++d) s += a[d] * b[d];
  return s;
}
#endif

struct Task {
  float* X;
  float* Y;
  int dim;
  int64_t nNodes;
  const int32_t* corpus;
  int64_t walkLength, nWalks;
  int radius, negatives;
  const int32_t* negTable;
  uint32_t negSize;
  double lrStart, lrEnd;
  const float* centreScale;
  int64_t nUsers;
  int threads;
  uint64_t seed;
};

struct Counters {
  double lossUsers = 0, lossProducts = 0;
  int64_t pairsUsers = 0, pairsProducts = 0;
};

// -log of a running product of probabilities, flushed to a sum before it underflows.
struct LogLoss {
  double sum = 0, prod = 1;
  inline void Add(double p) {
    prod *= p;
    if (prod < 1e-280) Flush();
  }
  void Flush() {
    sum -= std::log(prod);
    prod = 1;
  }
};

class SkipgramWorker : public PromiseWorker {
 public:
  SkipgramWorker(Napi::Env env, const Task& task) : PromiseWorker(env, "vasg.skipgram"), t_(task) {}

 protected:
  void Execute() override {
    if (!Validate()) return;
    const int64_t total = t_.nWalks * t_.walkLength;
    if (total == 0) return;
    const int parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(t_.threads, t_.nWalks)));
    std::vector<Counters> counters(parts);
    ParallelFor(t_.nWalks, parts, [&](int64_t b, int64_t e, int part) { Run(b, e, part, total, counters[part]); });
    for (const auto& c : counters) {
      stats_.lossUsers += c.lossUsers;
      stats_.lossProducts += c.lossProducts;
      stats_.pairsUsers += c.pairsUsers;
      stats_.pairsProducts += c.pairsProducts;
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("lossUsers", Napi::Number::New(env, stats_.lossUsers));
    o.Set("lossProducts", Napi::Number::New(env, stats_.lossProducts));
    o.Set("pairsUsers", Napi::Number::New(env, static_cast<double>(stats_.pairsUsers)));
    o.Set("pairsProducts", Napi::Number::New(env, static_cast<double>(stats_.pairsProducts)));
    return o;
  }

 private:
  bool Validate() {
    const int64_t total = t_.nWalks * t_.walkLength;
    std::atomic<int64_t> bad{-1};
    ParallelFor(total, t_.threads, [&](int64_t b, int64_t e, int) {
      for (int64_t k = b; k < e; ++k) {
        if (static_cast<uint64_t>(t_.corpus[k]) >= static_cast<uint64_t>(t_.nNodes)) {
          int64_t expected = -1;
          bad.compare_exchange_strong(expected, k);
          return;
        }
      }
    });
    if (bad.load() >= 0) {
      const int64_t k = bad.load();
      SetError("corpus[" + std::to_string(k) + "] = " + std::to_string(t_.corpus[k]) + " is not a node id in [0, " +
               std::to_string(t_.nNodes) + ")");
      return false;
    }
    if (t_.negatives > 0) {
      for (uint32_t k = 0; k < t_.negSize; ++k) {
        if (static_cast<uint64_t>(t_.negTable[k]) >= static_cast<uint64_t>(t_.nNodes)) {
          SetError("negTable[" + std::to_string(k) + "] = " + std::to_string(t_.negTable[k]) +
                   " is not a node id in [0, " + std::to_string(t_.nNodes) + ")");
          return false;
        }
      }
    }
    return true;
  }

  void Run(int64_t walkBegin, int64_t walkEnd, int part, int64_t total, Counters& out) {
    const int dim = t_.dim;
    const int64_t L = t_.walkLength;
    const int radius = t_.radius;
    const int negatives = t_.negatives;
    float* const X = t_.X;
    float* const Y = t_.Y;
    Rng rng(StreamSeed(t_.seed, 0x534b4950ULL, static_cast<uint64_t>(part)));
    std::vector<float> scratch(static_cast<size_t>(dim) + 16);
    float* const neu1e = scratch.data();
    std::vector<int32_t> targets(static_cast<size_t>(negatives) + 1);
    NegativeStream negStream(rng, t_.negTable, negatives > 0 ? t_.negSize : 0, Y, dim);
    LogLoss lossU, lossP;
    int64_t pairsU = 0, pairsP = 0;
    int64_t done = 0, published = 0, globalAtPublish = 0;
    const double lrSpan = t_.lrEnd - t_.lrStart;
    const double invTotal = 1.0 / static_cast<double>(total);

    for (int64_t walk = walkBegin; walk < walkEnd; ++walk) {
      const int32_t* w = t_.corpus + walk * L;
      for (int64_t p = 0; p < L; ++p, ++done) {
        if (done - published >= kProgressEvery) {
          const int64_t delta = done - published;
          globalAtPublish = progress_.fetch_add(delta, std::memory_order_relaxed) + delta;
          published = done;
        }
        const double seen = static_cast<double>(globalAtPublish + (done - published));
        const double lr = t_.lrStart + lrSpan * std::min(1.0, seen * invTotal);
        const int32_t v = w[p];
        if (p + 1 < L) PrefetchRow(X + static_cast<int64_t>(w[p + 1]) * dim, dim);
        if (p + radius + 1 < L) PrefetchRow(Y + static_cast<int64_t>(w[p + radius + 1]) * dim, dim);
        const float lrv = static_cast<float>(lr * (t_.centreScale ? t_.centreScale[v] : 1.0f));
        float* const x = X + static_cast<int64_t>(v) * dim;
        const bool isUser = v < t_.nUsers;
        LogLoss& loss = isUser ? lossU : lossP;
        const int64_t lo = std::max<int64_t>(0, p - radius), hi = std::min<int64_t>(L - 1, p + radius);
        for (int64_t q = lo; q <= hi; ++q) {
          if (q == p) continue;
          const int32_t c = w[q];
          int nt = 0;
          targets[nt++] = c;
          for (int k = 0; k < negatives; ++k) {
            const int32_t s = negStream.Next();
            if (s != c) targets[nt++] = s;
          }
          for (int d = 0; d < dim; ++d) neu1e[d] = 0.0f;
          for (int k = 0; k < nt; ++k) {
            float* const y = Y + static_cast<int64_t>(targets[k]) * dim;
            float f = Dot(x, y, dim);
            f = std::min(kMaxLogit, std::max(-kMaxLogit, f));
            const float e = std::exp(-std::fabs(f));
            const float inv = 1.0f / (1.0f + e);
            const float sigPos = f >= 0 ? inv : e * inv;  // σ(f)
            const float sigNeg = f >= 0 ? e * inv : inv;  // σ(-f) = 1 - σ(f)
            float g;
            if (k == 0) {
              g = sigNeg * lrv;  // (1 − σ(f))·lr
              loss.Add(sigPos);
            } else {
              g = -sigPos * lrv;  // (0 − σ(f))·lr
              loss.Add(sigNeg);
            }
#pragma omp simd
            for (int d = 0; d < dim; ++d) {
              neu1e[d] += g * y[d];
              y[d] += g * x[d];
            }
          }
#pragma omp simd
          for (int d = 0; d < dim; ++d) x[d] += neu1e[d];
          if (isUser) ++pairsU; else ++pairsP;
        }
      }
    }
    progress_.fetch_add(done - published, std::memory_order_relaxed);
    lossU.Flush();
    lossP.Flush();
    out.lossUsers = lossU.sum;
    out.lossProducts = lossP.sum;
    out.pairsUsers = pairsU;
    out.pairsProducts = pairsP;
  }

  Task t_;
  Counters stats_;
  std::atomic<int64_t> progress_{0};
};

Napi::Value Skipgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "args must be an object");
  Napi::Object a = info[0].As<Napi::Object>();
  auto vectors = TypedValue<float>(env, a.Get("vectors"), "vectors");
  auto contexts = TypedValue<float>(env, a.Get("contexts"), "contexts", true);
  const int64_t dim = IntValue(env, a.Get("dim"), "dim");
  auto corpus = TypedValue<int32_t>(env, a.Get("corpus"), "corpus");
  const int64_t walkLength = IntValue(env, a.Get("walkLength"), "walkLength");
  const int64_t radius = IntValue(env, a.Get("radius"), "radius");
  const int64_t negatives = IntValue(env, a.Get("negatives"), "negatives");
  auto negTable = TypedValue<int32_t>(env, a.Get("negTable"), "negTable", true);
  const double lrStart = NumValue(env, a.Get("lrStart"), "lrStart");
  const double lrEnd = NumValue(env, a.Get("lrEnd"), "lrEnd");
  auto centreScale = TypedValue<float>(env, a.Get("centreScale"), "centreScale", true);
  const int64_t nUsers = IntValue(env, a.Get("nUsers"), "nUsers");
  const int64_t threads = IntValue(env, a.Get("threads"), "threads");
  const double seed = NumValue(env, a.Get("seed"), "seed");

  RequireRange(env, dim >= 1, "dim must be >= 1");
  RequireRange(env, vectors.length % dim == 0, "vectors.length must be a multiple of dim");
  const int64_t nNodes = static_cast<int64_t>(vectors.length) / dim;
  RequireRange(env, nNodes <= INT32_MAX, "vectors has more than 2^31 - 1 rows");
  if (contexts.data != nullptr) {
    RequireRange(env, contexts.length == vectors.length, "contexts must have the same length as vectors");
  }
  RequireRange(env, walkLength >= 1, "walkLength must be >= 1");
  RequireRange(env, corpus.length % walkLength == 0, "corpus.length must be a multiple of walkLength");
  RequireRange(env, radius >= 0 && radius <= INT32_MAX, "radius must be >= 0");
  RequireRange(env, negatives >= 0 && negatives <= 1000000, "negatives must be in [0, 1e6]");
  if (negatives > 0) {
    RequireRange(env, negTable.data != nullptr && negTable.length > 0,
                 "negTable must be a non-empty Int32Array when negatives > 0");
    RequireRange(env, negTable.length <= UINT32_MAX, "negTable is too long");
  }
  if (centreScale.data != nullptr) CheckLength(env, centreScale.length, static_cast<size_t>(nNodes), "centreScale");
  RequireRange(env, nUsers >= 0 && nUsers <= nNodes, "nUsers must be in [0, nNodes]");
  RequireRange(env, threads >= 1, "threads must be >= 1");

  Task t;
  t.X = vectors.data;
  t.Y = contexts.data != nullptr ? contexts.data : vectors.data;
  t.dim = static_cast<int>(dim);
  t.nNodes = nNodes;
  t.corpus = corpus.data;
  t.walkLength = walkLength;
  t.nWalks = static_cast<int64_t>(corpus.length) / walkLength;
  t.radius = static_cast<int>(radius);
  t.negatives = static_cast<int>(negatives);
  t.negTable = negatives > 0 ? negTable.data : nullptr;
  t.negSize = negatives > 0 ? static_cast<uint32_t>(negTable.length) : 0;
  t.lrStart = lrStart;
  t.lrEnd = lrEnd;
  t.centreScale = centreScale.data;
  t.nUsers = nUsers;
  t.threads = static_cast<int>(std::min<int64_t>(threads, 1024));
  t.seed = static_cast<uint64_t>(static_cast<int64_t>(seed));

  auto* worker = new SkipgramWorker(env, t);
  for (const char* key : {"vectors", "contexts", "corpus", "negTable", "centreScale"}) worker->Keep(a.Get(key));
  return worker->Start();
}

}  // namespace

void InitSkipgram(Napi::Env env, Napi::Object exports) {
  exports.Set("skipgram", Napi::Function::New(env, Skipgram, "skipgram"));
}

}  // namespace vasg
