#include "score.h"
#include <cblas.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>
#include "worker.h"

namespace vasg {
namespace {

constexpr int64_t kBlock = 512;             // users (pairs) per GEMM block
constexpr int64_t kMaxBlockScores = 1 << 25;  // cap on a block's score matrix (floats)
constexpr size_t kKeptScores = 1 << 23;        // score buffer kept per thread between top-k calls (32 MiB)

int64_t BlockRows(int64_t nItems) {
  return std::max<int64_t>(1, std::min<int64_t>(kBlock, kMaxBlockScores / std::max<int64_t>(1, nItems)));
}

struct Tables {
  const float* U;
  const float* V;
  int64_t dim, nUsers, nItems;
  const int32_t* indptr;
  const int32_t* indices;
};

// Checks U, V, dim and the exclusion CSR; every entry of `users` must be a row of U with a CSR row.
Tables CheckTables(Napi::Env env, View<float> U, View<float> V, int64_t dim, View<int32_t> users, const char* usersName,
                   View<int32_t> indptr, View<int32_t> indices) {
  RequireRange(env, dim >= 1, "dim must be >= 1");
  RequireRange(env, U.length % dim == 0, "U.length must be a multiple of dim");
  RequireRange(env, V.length % dim == 0, "V.length must be a multiple of dim");
  Tables t{U.data, V.data, dim, static_cast<int64_t>(U.length) / dim, static_cast<int64_t>(V.length) / dim,
           indptr.data, indices.data};
  RequireRange(env, t.nItems <= INT32_MAX, "V has more than 2^31 - 1 rows");
  RequireRange(env, indptr.length >= 1, "excludeIndptr must have at least one element");
  const int64_t rowsCsr = static_cast<int64_t>(indptr.length) - 1;
  for (int64_t u = 0; u < rowsCsr; ++u) {
    if (indptr.data[u + 1] < indptr.data[u]) throw Napi::RangeError::New(env, "excludeIndptr must be non-decreasing");
  }
  RequireRange(env, indptr.data[0] >= 0 && static_cast<size_t>(indptr.data[rowsCsr]) <= indices.length,
               "excludeIndptr must index within excludeIndices");
  for (int64_t k = indptr.data[0]; k < indptr.data[rowsCsr]; ++k) {
    if (indices.data[k] < 0 || indices.data[k] >= t.nItems) {
      throw Napi::RangeError::New(env, "excludeIndices[" + std::to_string(k) + "] = " +
                                           std::to_string(indices.data[k]) + " is not an item in [0, " +
                                           std::to_string(t.nItems) + ")");
    }
  }
  const int64_t limit = std::min(t.nUsers, rowsCsr);
  for (size_t j = 0; j < users.length; ++j) {
    if (users.data[j] < 0 || users.data[j] >= limit) {
      throw Napi::RangeError::New(env, std::string(usersName) + "[" + std::to_string(j) + "] = " +
                                           std::to_string(users.data[j]) + " is not a user in [0, " +
                                           std::to_string(limit) + ")");
    }
  }
  return t;
}

// Scores of `rows` users (ids in users[0..rows)) against all items: S [rows × nItems].
void ScoreBlock(const Tables& t, const int32_t* users, int64_t rows, float* gathered, float* S) {
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(gathered + r * t.dim, t.U + static_cast<int64_t>(users[r]) * t.dim, t.dim * sizeof(float));
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(t.nItems),
              static_cast<int>(t.dim), 1.0f, gathered, static_cast<int>(t.dim), t.V, static_cast<int>(t.dim), 0.0f, S,
              static_cast<int>(t.nItems));
}

struct Cand {
  float score;
  int32_t item;
};
// a ranks before b: higher score, then lower id.
inline bool Before(const Cand& a, const Cand& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// The top k of one score row s [n] into oi/os (best first, padded with −1/−Infinity), skipping the rows in
// [exclBegin, exclEnd) (they are overwritten with NaN) and, when allow is given, every row i with allow[i] == 0.
void RowTopK(float* s, int64_t n, int64_t k, const int32_t* exclBegin, const int32_t* exclEnd, const uint8_t* allow,
             std::vector<Cand>& heap, int32_t* oi, float* os) {
  auto worse = [](const Cand& a, const Cand& b) { return Before(a, b); };  // heap top = worst kept
  for (const int32_t* e = exclBegin; e != exclEnd; ++e) s[*e] = std::numeric_limits<float>::quiet_NaN();
  heap.clear();
  // Most rows score below the worst kept one: one comparison rejects them (and the NaNs of excluded rows,
  // since NaN >= x is false) before the allow mask or the heap is touched.
  float floor = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    const float v = s[i];
    if (!(v >= floor) || (allow && !allow[i])) continue;
    const Cand c{v, static_cast<int32_t>(i)};
    if (static_cast<int64_t>(heap.size()) < k) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), worse);
      if (static_cast<int64_t>(heap.size()) == k) floor = heap.front().score;
    } else if (Before(c, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = c;
      std::push_heap(heap.begin(), heap.end(), worse);
      floor = heap.front().score;
    }
  }
  std::sort(heap.begin(), heap.end(), Before);
  for (int64_t q = 0; q < k; ++q) {
    const bool have = q < static_cast<int64_t>(heap.size());
    oi[q] = have ? heap[q].item : -1;
    os[q] = have ? heap[q].score : -std::numeric_limits<float>::infinity();
  }
}

// Per test pair, from one score row: eq. 4's AUC, then (k > 0) the user's top k over the same candidates
// (training products excluded, the test product included), so evaluation computes each score block once.
class RankPairsWorker : public PromiseWorker {
 public:
  RankPairsWorker(Napi::Env env, const Tables& t, const int32_t* users, const int32_t* items, int64_t nPairs, int64_t k,
                  int threads, Napi::Object result)
      : PromiseWorker(env, "vasg.rankTestPairs"), t_(t), users_(users), items_(items), nPairs_(nPairs), k_(k),
        threads_(threads), auc_(result.Get("auc").As<Napi::Float64Array>().Data()),
        lists_(result.Get("lists").As<Napi::Int32Array>().Data()), resultRef_(Napi::Persistent(result)) {}

 protected:
  void Execute() override {
    if (nPairs_ == 0) return;
    const int64_t n = t_.nItems;
    if (n == 0) {
      std::fill(auc_, auc_ + nPairs_, std::numeric_limits<double>::quiet_NaN());
      std::fill(lists_, lists_ + nPairs_ * k_, -1);
      return;
    }
    const int64_t B = BlockRows(n);
    std::vector<float> gathered(static_cast<size_t>(B * t_.dim)), S(static_cast<size_t>(B * n));
    for (int64_t j0 = 0; j0 < nPairs_; j0 += B) {
      const int64_t rows = std::min(B, nPairs_ - j0);
      ScoreBlock(t_, users_ + j0, rows, gathered.data(), S.data());
      ParallelFor(rows, threads_, [&](int64_t r0, int64_t r1, int) {
        std::vector<Cand> heap;
        std::vector<float> scores(static_cast<size_t>(k_));
        heap.reserve(static_cast<size_t>(std::min(k_, n)));
        for (int64_t r = r0; r < r1; ++r) {
          float* s = S.data() + r * n;
          const int32_t user = users_[j0 + r];
          auc_[j0 + r] = Auc(s, user, items_[j0 + r]);
          if (k_ > 0) {
            RowTopK(s, n, k_, t_.indices + t_.indptr[user], t_.indices + t_.indptr[user + 1], nullptr, heap,
                    lists_ + (j0 + r) * k_, scores.data());
          }
        }
      });
    }
  }

  Napi::Value Result(Napi::Env) override { return resultRef_.Value(); }

 private:
  double Auc(const float* __restrict s, int32_t user, int32_t item) const {
    const int64_t n = t_.nItems;
    const float st = s[item];
    uint32_t less = 0, equal = 0;
#pragma omp simd reduction(+ : less, equal)
    for (int64_t i = 0; i < n; ++i) {
      less += s[i] < st ? 1u : 0u;
      equal += s[i] == st ? 1u : 0u;
    }
    double below = static_cast<double>(less), ties = static_cast<double>(equal);
    if (st == st) ties -= 1;  // the test item itself
    int64_t excluded = 0;
    for (int32_t k = t_.indptr[user]; k < t_.indptr[user + 1]; ++k) {
      const int32_t e = t_.indices[k];
      if (e == item) continue;
      ++excluded;
      if (s[e] < st) below -= 1;
      else if (s[e] == st) ties -= 1;
    }
    const int64_t candidates = n - 1 - excluded;
    if (candidates <= 0) return std::numeric_limits<double>::quiet_NaN();
    return (below + 0.5 * ties) / static_cast<double>(candidates);
  }

  Tables t_;
  const int32_t* users_;
  const int32_t* items_;
  int64_t nPairs_, k_;
  int threads_;
  double* auc_;
  int32_t* lists_;
  Napi::ObjectReference resultRef_;
};

Napi::Value RankTestPairs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto U = TypedArg<float>(info, 0, "U");
  auto V = TypedArg<float>(info, 1, "V");
  const int64_t dim = IntArg(info, 2, "dim");
  auto users = TypedArg<int32_t>(info, 3, "testUsers");
  auto items = TypedArg<int32_t>(info, 4, "testItems");
  auto indptr = TypedArg<int32_t>(info, 5, "excludeIndptr");
  auto indices = TypedArg<int32_t>(info, 6, "excludeIndices");
  const int64_t k = IntArg(info, 7, "k");
  const int64_t threads = IntArg(info, 8, "threads");
  Tables t = CheckTables(env, U, V, dim, users, "testUsers", indptr, indices);
  RequireRange(env, items.length == users.length, "testItems must have the same length as testUsers");
  for (size_t j = 0; j < items.length; ++j) {
    if (items.data[j] < 0 || items.data[j] >= t.nItems) {
      throw Napi::RangeError::New(env, "testItems[" + std::to_string(j) + "] = " + std::to_string(items.data[j]) +
                                           " is not an item in [0, " + std::to_string(t.nItems) + ")");
    }
  }
  RequireRange(env, k >= 0, "k must be >= 0");
  RequireRange(env, static_cast<double>(users.length) * static_cast<double>(k) < 2147483647.0, "testUsers · k is too large");
  RequireRange(env, threads >= 1, "threads must be >= 1");
  Napi::Object result = Napi::Object::New(env);
  result.Set("auc", Napi::Float64Array::New(env, users.length));
  result.Set("lists", Napi::Int32Array::New(env, users.length * static_cast<size_t>(k)));
  auto* worker = new RankPairsWorker(env, t, users.data, items.data, static_cast<int64_t>(users.length), k,
                                     static_cast<int>(std::min<int64_t>(threads, 1024)), result);
  for (size_t i = 0; i < 7; ++i) worker->Keep(info[i]);
  return worker->Start();
}

// Rows per panel of the layout searchTopK scores (see PanelScores).
constexpr int64_t kPanelRows = 16;

// S[q·ldS + j] = Q[q]·(row j of the panel) for QB queries and the panel's first `valid` rows. The panel holds
// kPanelRows rows dimension-major (panel[d·kPanelRows + j]), so the inner loop is a broadcast FMA over 16 rows
// that the compiler vectorises, with QB × 16 accumulators in registers and no horizontal sums.
template <int QB>
inline void PanelBlock(const float* Q, int64_t dim, const float* panel, int64_t valid, float* S, int64_t ldS) {
  float acc[QB][kPanelRows] = {};
  for (int64_t d = 0; d < dim; ++d) {
    const float* p = panel + d * kPanelRows;
    for (int q = 0; q < QB; ++q) {
      const float x = Q[q * dim + d];
#pragma omp simd
      for (int64_t j = 0; j < kPanelRows; ++j) acc[q][j] += x * p[j];
    }
  }
  for (int q = 0; q < QB; ++q) {
    for (int64_t j = 0; j < valid; ++j) S[q * ldS + j] = acc[q][j];
  }
}

// Scores of `rows` queries against the panels in [p0, p1): S [rows × nItems]. For serving, where a batch holds a
// few queries: a GEMM would repack the whole catalog for every call (at 60 k × 100, 10 queries: 4.3 ms through
// OpenBLAS on 2 threads, 1.9 ms here on one).
void PanelScores(const float* Q, int64_t rows, const float* panels, int64_t nItems, int64_t dim, int64_t p0, int64_t p1,
                 float* S) {
  for (int64_t p = p0; p < p1; ++p) {
    const float* panel = panels + p * dim * kPanelRows;
    const int64_t first = p * kPanelRows, valid = std::min(kPanelRows, nItems - first);
    int64_t q = 0;
    for (; q + 4 <= rows; q += 4) PanelBlock<4>(Q + q * dim, dim, panel, valid, S + q * nItems + first, nItems);
    for (; q + 2 <= rows; q += 2) PanelBlock<2>(Q + q * dim, dim, panel, valid, S + q * nItems + first, nItems);
    for (; q < rows; ++q) PanelBlock<1>(Q + q * dim, dim, panel, valid, S + q * nItems + first, nItems);
  }
}

// One top-k job: nq query rows Q [nq × dim] against V [nItems × dim] (row-major, or panels: see PanelScores). Query q skips the rows in
// indices[indptr[csr(q)] .. indptr[csr(q)+1]) (csr(q) = csrRow[q], or q when csrRow is null) and, when allow
// is given, every row i with allow[i] == 0. Writes rows of k (best first, padded with −1/−Infinity).
struct TopKJob {
  const float* Q;
  int64_t nq;
  const float* V;
  bool panels;
  int64_t nItems, dim, k;
  const uint8_t* allow;
  const int32_t* indptr;
  const int32_t* indices;
  const int32_t* csrRow;
  int32_t* items;
  float* scores;
};

void RunTopK(const TopKJob& job) {
  const int64_t n = job.nItems, k = job.k;
  if (job.nq == 0 || k == 0) return;
  if (n == 0) {
    std::fill(job.items, job.items + job.nq * k, -1);
    std::fill(job.scores, job.scores + job.nq * k, -std::numeric_limits<float>::infinity());
    return;
  }
  const int64_t B = BlockRows(n);
  // A serving process calls this for every batch of queries: reusing the score buffer spares the page faults
  // and zeroing of a fresh multi-MB allocation per call (a third of a small batch's time at 60 k products).
  // Buffers past kKeptScores floats are not kept, so a rare huge batch does not pin its memory.
  thread_local std::vector<float> kept;
  std::vector<float> temporary;
  const size_t need = static_cast<size_t>(std::min(B, job.nq) * n);
  std::vector<float>& S = need <= kKeptScores ? kept : temporary;
  if (S.size() < need) S.resize(need);
  const int parts = std::min(std::max(1, openblas_get_num_threads()), ThreadPool::Get().Size());
  for (int64_t j0 = 0; j0 < job.nq; j0 += B) {
    const int64_t rows = std::min(B, job.nq - j0);
    if (job.panels) {
      const int64_t nPanels = (n + kPanelRows - 1) / kPanelRows;
      PoolFor(nPanels, ThreadPool::Get().Size(), [&](int64_t p0, int64_t p1, int) {
        PanelScores(job.Q + j0 * job.dim, rows, job.V, n, job.dim, p0, p1, S.data());
      });
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(n),
                  static_cast<int>(job.dim), 1.0f, job.Q + j0 * job.dim, static_cast<int>(job.dim), job.V,
                  static_cast<int>(job.dim), 0.0f, S.data(), static_cast<int>(n));
    }
    PoolFor(rows, parts, [&](int64_t r0, int64_t r1, int) {
      std::vector<Cand> heap;
      heap.reserve(static_cast<size_t>(std::min(k, n)));
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t csr = job.csrRow ? job.csrRow[j0 + r] : j0 + r;
        RowTopK(S.data() + r * n, n, k, job.indices + job.indptr[csr], job.indices + job.indptr[csr + 1], job.allow, heap,
                job.items + (j0 + r) * k, job.scores + (j0 + r) * k);
      }
    });
  }
}

// {items, scores} of nq rows × k, the result object of both top-k exports.
Napi::Object TopKResult(Napi::Env env, int64_t nq, int64_t k, TopKJob& job) {
  RequireRange(env, static_cast<double>(nq) * static_cast<double>(k) < 2147483647.0, "queries · k is too large");
  auto outItems = Napi::Int32Array::New(env, static_cast<size_t>(nq * k));
  auto outScores = Napi::Float32Array::New(env, static_cast<size_t>(nq * k));
  job.items = outItems.Data();
  job.scores = outScores.Data();
  Napi::Object result = Napi::Object::New(env);
  result.Set("items", outItems);
  result.Set("scores", outScores);
  return result;
}

Napi::Value TopK(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto U = TypedArg<float>(info, 0, "U");
  auto V = TypedArg<float>(info, 1, "V");
  const int64_t dim = IntArg(info, 2, "dim");
  auto users = TypedArg<int32_t>(info, 3, "users");
  const int64_t k = IntArg(info, 4, "k");
  auto indptr = TypedArg<int32_t>(info, 5, "excludeIndptr");
  auto indices = TypedArg<int32_t>(info, 6, "excludeIndices");
  Tables t = CheckTables(env, U, V, dim, users, "users", indptr, indices);
  RequireRange(env, k >= 0, "k must be >= 0");
  const int64_t nq = static_cast<int64_t>(users.length);
  std::vector<float> Q(static_cast<size_t>(nq * dim));
  for (int64_t j = 0; j < nq; ++j) {
    std::memcpy(Q.data() + j * dim, t.U + static_cast<int64_t>(users.data[j]) * dim, dim * sizeof(float));
  }
  TopKJob job{Q.data(), nq, t.V, false, t.nItems, dim, k, nullptr, indptr.data, indices.data, users.data, nullptr, nullptr};
  Napi::Object result = TopKResult(env, nq, k, job);
  RunTopK(job);
  return result;
}

class TopKWorker : public PromiseWorker {
 public:
  TopKWorker(Napi::Env env, const TopKJob& job, Napi::Object result)
      : PromiseWorker(env, "vasg.searchTopK"), job_(job), result_(Napi::Persistent(result)) {}

 protected:
  void Execute() override { RunTopK(job_); }
  Napi::Value Result(Napi::Env) override { return result_.Value(); }

 private:
  TopKJob job_;
  Napi::ObjectReference result_;
};

Napi::Value SearchTopK(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto Q = TypedArg<float>(info, 0, "queries");
  auto V = TypedArg<float>(info, 1, "panels");
  const int64_t dim = IntArg(info, 2, "dim");
  const int64_t n = IntArg(info, 3, "rows");
  const int64_t k = IntArg(info, 4, "k");
  auto allow = TypedValue<uint8_t>(env, info[5], "allow", true);
  auto indptr = TypedArg<int32_t>(info, 6, "excludeIndptr");
  auto indices = TypedArg<int32_t>(info, 7, "excludeIndices");
  RequireRange(env, dim >= 1, "dim must be >= 1");
  RequireRange(env, k >= 0, "k must be >= 0");
  RequireRange(env, n >= 0 && n <= INT32_MAX, "rows must be in [0, 2^31 - 1]");
  RequireRange(env, Q.length % dim == 0, "queries.length must be a multiple of dim");
  RequireRange(env, static_cast<double>(V.length) >= static_cast<double>((n + kPanelRows - 1) / kPanelRows) * kPanelRows * dim,
               "panels hold fewer than ceil(rows / " + std::to_string(kPanelRows) + ") panels of " +
                   std::to_string(kPanelRows) + " × dim floats");
  const int64_t nq = static_cast<int64_t>(Q.length) / dim;
  RequireRange(env, !allow.data || static_cast<int64_t>(allow.length) == n,
               "allow has " + std::to_string(allow.length) + " entries, V has " + std::to_string(n) + " rows");
  RequireRange(env, static_cast<int64_t>(indptr.length) == nq + 1, "excludeIndptr must have queries + 1 elements");
  View<int32_t> none{nullptr, 0};
  // CheckTables validates the exclusion CSR against the rows (V stands in at the rows' length only).
  CheckTables(env, Q, View<float>{V.data, static_cast<size_t>(n * dim)}, dim, none, "queries", indptr, indices);
  TopKJob job{Q.data, nq, V.data, true, n, dim, k, allow.data, indptr.data, indices.data, nullptr, nullptr, nullptr};
  Napi::Object result = TopKResult(env, nq, k, job);
  auto* worker = new TopKWorker(env, job, result);
  for (size_t i = 0; i < 8; ++i) worker->Keep(info[i]);
  return worker->Start();
}

}  // namespace

void InitScore(Napi::Env env, Napi::Object exports) {
  exports.Set("rankTestPairs", Napi::Function::New(env, RankTestPairs, "rankTestPairs"));
  exports.Set("topK", Napi::Function::New(env, TopK, "topK"));
  exports.Set("searchTopK", Napi::Function::New(env, SearchTopK, "searchTopK"));
}

}  // namespace vasg
