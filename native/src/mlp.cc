#include "mlp.h"
#include "half.h"
#include <type_traits>
#include <cblas.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include "rng.h"
#include "worker.h"

namespace vasg {
namespace {

constexpr int64_t kGrain = 16384;  // elements per part of an elementwise pass

// Parts for an elementwise pass over n elements: bounded by the BLAS thread setting and the pool.
int PartsFor(int64_t n) {
  const int64_t cap = std::min<int64_t>(std::max(1, openblas_get_num_threads()), ThreadPool::Get().Size());
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(cap, n / kGrain)));
}

// Adam's constants for one step: bias corrections folded into a step size and a scale of √v.
struct AdamStepSize {
  float stepSize, invSqrtBc2, b1, b2, cb1, cb2, eps;
  AdamStepSize(double lr, double beta1, double beta2, double eps, int64_t step)
      : stepSize(static_cast<float>(lr / (1.0 - std::pow(beta1, static_cast<double>(step))))),
        invSqrtBc2(static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step))))),
        b1(static_cast<float>(beta1)), b2(static_cast<float>(beta2)), cb1(static_cast<float>(1.0 - beta1)),
        cb2(static_cast<float>(1.0 - beta2)), eps(static_cast<float>(eps)) {}
};

// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= lr·m̂ / (√v̂ + ε) over n elements (g = 0 when grad is null).
void AdamUpdate(float* params, const float* grad, float* m, float* v, int64_t n, const AdamStepSize& a) {
  PoolFor(n, PartsFor(n / 4), [&](int64_t i0, int64_t i1, int) {
    float* __restrict pp = params;
    const float* __restrict gg = grad;
    float* __restrict mm = m;
    float* __restrict vv = v;
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) {
      const float gi = gg ? gg[i] : 0.0f;
      const float mi = a.b1 * mm[i] + a.cb1 * gi;
      const float vi = a.b2 * vv[i] + a.cb2 * gi * gi;
      mm[i] = mi;
      vv[i] = vi;
      pp[i] -= a.stepSize * mi / (std::sqrt(vi) * a.invSqrtBc2 + a.eps);
    }
  });
}

void Gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(M),
              static_cast<int>(N), static_cast<int>(K), 1.0f, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta,
              C, static_cast<int>(ldc));
}

// out[r,c] = act(out[r,c] + b[c]): a layer's epilogue without dropout.
void AddBias(float* out, int64_t rows, int64_t cols, const float* b, bool relu) {
  PoolFor(rows, PartsFor(rows * cols), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      float* __restrict z = out + r * cols;
      if (relu) {
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) z[c] = std::max(z[c] + b[c], 0.0f);
      } else {
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) z[c] += b[c];
      }
    }
  });
}

using Weights = std::vector<std::vector<float>>;

// Inference (no dropout, no noise): x [rows × sizes[0]] → result [rows × sizes.back()].
void Infer(const std::vector<int>& sizes, const Weights& W, const Weights& b, bool outputRelu, const float* x,
           int64_t rows, float* result) {
  const int L = static_cast<int>(sizes.size()) - 1;
  const int64_t width = *std::max_element(sizes.begin(), sizes.end());
  std::vector<float> bufA(L > 1 ? rows * width : 0), bufB(L > 2 ? rows * width : 0);
  const float* in = x;
  for (int l = 0; l < L; ++l) {
    const int64_t nIn = sizes[l], nOut = sizes[l + 1];
    const bool last = l == L - 1;
    float* out = last ? result : (l % 2 == 0 ? bufA.data() : bufB.data());
    Gemm(false, false, rows, nOut, nIn, in, nIn, W[l].data(), nOut, 0.0f, out, nOut);
    AddBias(out, rows, nOut, b[l].data(), !last || outputRelu);
    in = out;
  }
}

// forwardAsync: inference on a libuv thread over a copy of the weights (so the network may change meanwhile).
class InferWorker : public PromiseWorker {
 public:
  InferWorker(Napi::Env env, const std::vector<int>& sizes, const Weights& W, const Weights& b, bool outputRelu,
              const float* x, int64_t rows, Napi::Float32Array result)
      : PromiseWorker(env, "vasg.Mlp.forwardAsync"), sizes_(sizes), W_(W), b_(b), outputRelu_(outputRelu), x_(x),
        rows_(rows), out_(result.Data()), result_(Napi::Persistent(result)) {}

 protected:
  void Execute() override {
    if (rows_ > 0) Infer(sizes_, W_, b_, outputRelu_, x_, rows_, out_);
  }
  Napi::Value Result(Napi::Env) override { return result_.Value(); }

 private:
  std::vector<int> sizes_;
  Weights W_, b_;
  bool outputRelu_;
  const float* x_;
  int64_t rows_;
  float* out_;
  Napi::Reference<Napi::Float32Array> result_;
};

class MlpWrap : public Napi::ObjectWrap<MlpWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Mlp",
                       {InstanceMethod<&MlpWrap::Forward>("forward"),
                        InstanceMethod<&MlpWrap::ForwardAsync>("forwardAsync"),
                        InstanceMethod<&MlpWrap::Backward>("backward"),
                        InstanceMethod<&MlpWrap::BackwardParams>("backwardParams"),
                        InstanceMethod<&MlpWrap::AdamStep>("adamStep"), InstanceMethod<&MlpWrap::ZeroGrad>("zeroGrad"),
                        InstanceMethod<&MlpWrap::GetParams>("getParams"),
                        InstanceMethod<&MlpWrap::SetParams>("setParams"),
                        InstanceAccessor<&MlpWrap::Sizes>("sizes")});
  }

  explicit MlpWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MlpWrap>(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) ThrowType(env, "Mlp must be called with new");
    if (info.Length() < 1 || !info[0].IsArray()) ThrowType(env, "sizes must be an array of numbers");
    Napi::Array arr = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      const int64_t s = IntValue(env, arr.Get(i), "sizes[i]");
      RequireRange(env, s >= 1 && s <= (1 << 24), "sizes[" + std::to_string(i) + "] must be in [1, 2^24]");
      sizes_.push_back(static_cast<int>(s));
    }
    RequireRange(env, sizes_.size() >= 2, "sizes must have at least 2 entries (input and output width)");
    if (info.Length() < 2 || !info[1].IsObject()) ThrowType(env, "options must be an object");
    Napi::Object o = info[1].As<Napi::Object>();
    const double dropout = NumValue(env, o.Get("dropout"), "options.dropout");
    RequireRange(env, dropout >= 0 && dropout < 1, "options.dropout must be in [0, 1)");
    if (!o.Get("outputRelu").IsBoolean()) ThrowType(env, "options.outputRelu must be a boolean");
    outputRelu_ = o.Get("outputRelu").As<Napi::Boolean>().Value();
    seed_ = static_cast<uint64_t>(static_cast<int64_t>(NumValue(env, o.Get("seed"), "options.seed")));
    dropout_ = static_cast<float>(dropout);
    if (!o.Get("inputNoise").IsUndefined()) {
      const double noise = NumValue(env, o.Get("inputNoise"), "options.inputNoise");
      RequireRange(env, noise >= 0 && std::isfinite(noise), "options.inputNoise must be a finite number >= 0");
      inputNoise_ = static_cast<float>(noise);
    }

    const int L = Layers();
    W_.resize(L);
    b_.resize(L);
    gW_.resize(L);
    gb_.resize(L);
    mW_.resize(L);
    vW_.resize(L);
    mb_.resize(L);
    vb_.resize(L);
    for (int l = 0; l < L; ++l) {
      const int64_t in = sizes_[l], out = sizes_[l + 1];
      W_[l].resize(in * out);
      b_[l].assign(out, 0.0f);
      gW_[l].assign(in * out, 0.0f);
      gb_[l].assign(out, 0.0f);
      mW_[l].assign(in * out, 0.0f);
      vW_[l].assign(in * out, 0.0f);
      mb_[l].assign(out, 0.0f);
      vb_[l].assign(out, 0.0f);
      Rng rng(StreamSeed(seed_, 0x494e4954ULL, static_cast<uint64_t>(l)));
      const double limit = std::sqrt(6.0 / static_cast<double>(in));
      for (auto& w : W_[l]) w = static_cast<float>((2.0 * rng.Uniform() - 1.0) * limit);
    }
    acts_.resize(L + 1);
  }

 private:
  int Layers() const { return static_cast<int>(sizes_.size()) - 1; }
  int MaxWidth() const { return *std::max_element(sizes_.begin(), sizes_.end()); }

  static void Grow(std::vector<float>& v, size_t n) {
    if (v.size() < n) v.resize(n);
  }

  // out[r,c] = act(out[r,c] + b[c]) (· dropout mask·scale for hidden layers in training), in one pass.
  void Epilogue(float* out, int64_t rows, int64_t cols, const float* b, bool relu, bool drop, int layer) {
    const float p = dropout_;
    const float scale = 1.0f / (1.0f - p);
    const uint32_t threshold = static_cast<uint32_t>(std::min(4294967295.0, std::ldexp(static_cast<double>(p), 32)));
    if (!drop) return AddBias(out, rows, cols, b, relu);
    const uint64_t fwd = trainForwards_;
    PoolFor(rows, PartsFor(rows * cols), [&](int64_t r0, int64_t r1, int) {
      std::vector<float> mask(cols + 1);
      for (int64_t r = r0; r < r1; ++r) {
        float* __restrict z = out + r * cols;
        Rng rng(StreamSeed(seed_, fwd, static_cast<uint64_t>(layer), static_cast<uint64_t>(r)));
        for (int64_t c = 0; c < cols; c += 2) {
          const uint64_t x = rng.Next();
          mask[c] = static_cast<uint32_t>(x) >= threshold ? scale : 0.0f;
          mask[c + 1] = static_cast<uint32_t>(x >> 32) >= threshold ? scale : 0.0f;
        }
        const float* __restrict m = mask.data();
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) z[c] = std::max(z[c] + b[c], 0.0f) * m[c];
      }
    });
  }

  // x[r,c] += N(0, inputNoise²), one stream per (train forward, row) like the dropout masks.
  void AddInputNoise(float* x, int64_t rows, int64_t cols) {
    const uint64_t fwd = trainForwards_;
    const float sd = inputNoise_;
    PoolFor(rows, PartsFor(rows * cols), [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        Rng rng(StreamSeed(seed_, fwd, kNoiseStream, static_cast<uint64_t>(r)));
        float* z = x + r * cols;
        for (int64_t c = 0; c < cols; c += 2) {  // Box–Muller: two normals per pair of uniforms
          const double u = 1.0 - rng.Uniform(), t = 6.283185307179586 * rng.Uniform();
          const double radius = sd * std::sqrt(-2.0 * std::log(u));
          z[c] += static_cast<float>(radius * std::cos(t));
          if (c + 1 < cols) z[c + 1] += static_cast<float>(radius * std::sin(t));
        }
      }
    });
  }

  // dz = g ⊙ (a > 0 ? scale : 0) (or dz = g when !relu, dz may equal g), and db (+)= Σ_r dz, in one pass.
  void GradEpilogue(const float* g, const float* a, float* dz, int64_t rows, int64_t cols, bool relu, float scale,
                    float* db, bool accumulate) {
    const int64_t blocks = (cols + 15) / 16;
    const int parts = static_cast<int>(std::min<int64_t>(PartsFor(rows * cols), std::max<int64_t>(1, cols / 64)));
    PoolFor(blocks, parts, [&](int64_t k0, int64_t k1, int) {
      const int64_t c0 = k0 * 16, c1 = std::min(cols, k1 * 16), w = c1 - c0;
      std::vector<float> acc(w, 0.0f);
      float* __restrict s = acc.data();
      for (int64_t r = 0; r < rows; ++r) {
        const float* gr = g + r * cols + c0;
        float* dr = dz + r * cols + c0;
        if (relu) {
          const float* __restrict ar = a + r * cols + c0;
#pragma omp simd
          for (int64_t c = 0; c < w; ++c) {
            const float v = ar[c] > 0.0f ? gr[c] * scale : 0.0f;
            dr[c] = v;
            s[c] += v;
          }
        } else {
          if (dr != gr) std::memcpy(dr, gr, w * sizeof(float));
#pragma omp simd
          for (int64_t c = 0; c < w; ++c) s[c] += gr[c];
        }
      }
      if (accumulate) {
        for (int64_t c = 0; c < w; ++c) db[c0 + c] += s[c];
      } else {
        std::memcpy(db + c0, s, w * sizeof(float));
      }
    });
  }

  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto x = TypedArg<float>(info, 0, "x");
    const int64_t rows = IntArg(info, 1, "rows");
    const bool train = BoolArg(info, 2, "train");
    RequireRange(env, rows >= 0, "rows must be >= 0");
    const int L = Layers();
    const int64_t in0 = sizes_[0], outL = sizes_[L];
    CheckLength(env, x.length, static_cast<size_t>(rows * in0), "x");
    auto result = Napi::Float32Array::New(env, static_cast<size_t>(rows * outL));
    if (train) {
      trainRows_ = -1;
      ++trainForwards_;
    }
    if (rows == 0) {
      if (train) trainRows_ = 0;
      return result;
    }
    if (!train) {
      Infer(sizes_, W_, b_, outputRelu_, x.data, rows, result.Data());
      return result;
    }
    Grow(acts_[0], rows * in0);
    std::memcpy(acts_[0].data(), x.data, rows * in0 * sizeof(float));
    if (inputNoise_ > 0) AddInputNoise(acts_[0].data(), rows, in0);
    const float* in = acts_[0].data();
    for (int l = 0; l < L; ++l) {
      const int64_t nIn = sizes_[l], nOut = sizes_[l + 1];
      const bool last = l == L - 1;
      float* out;
      if (last && !outputRelu_) {
        out = result.Data();  // not needed by backward: write straight into the result
      } else {
        Grow(acts_[l + 1], rows * nOut);
        out = acts_[l + 1].data();
      }
      Gemm(false, false, rows, nOut, nIn, in, nIn, W_[l].data(), nOut, 0.0f, out, nOut);
      Epilogue(out, rows, nOut, b_[l].data(), !last || outputRelu_, !last && dropout_ > 0, l);
      in = out;
    }
    if (in != result.Data()) std::memcpy(result.Data(), in, rows * outL * sizeof(float));
    trainRows_ = rows;
    trainScale_ = dropout_ > 0 ? 1.0f / (1.0f - dropout_) : 1.0f;
    return result;
  }

  // Inference as forward(x, rows, false), on a libuv thread: resolves to the output. x must stay unchanged until then.
  Napi::Value ForwardAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto x = TypedArg<float>(info, 0, "x");
    const int64_t rows = IntArg(info, 1, "rows");
    RequireRange(env, rows >= 0, "rows must be >= 0");
    CheckLength(env, x.length, static_cast<size_t>(rows * sizes_[0]), "x");
    auto result = Napi::Float32Array::New(env, static_cast<size_t>(rows * sizes_.back()));
    auto* worker = new InferWorker(env, sizes_, W_, b_, outputRelu_, x.data, rows, result);
    worker->Keep(info[0]);
    return worker->Start();
  }

  Napi::Value Backward(const Napi::CallbackInfo& info) { return RunBackward(info, true); }

  // Parameter gradients only: skips d loss / d input, the widest GEMM of a network fed with image features.
  void BackwardParams(const Napi::CallbackInfo& info) { RunBackward(info, false); }

  Napi::Value RunBackward(const Napi::CallbackInfo& info, bool inputGradient) {
    Napi::Env env = info.Env();
    auto gradOut = TypedArg<float>(info, 0, "gradOut");
    const int64_t rows = IntArg(info, 1, "rows");
    if (trainRows_ < 0) throw Napi::Error::New(env, "backward needs a forward(x, rows, true) first");
    RequireRange(env, rows == trainRows_,
                 "rows (" + std::to_string(rows) + ") differs from the last train forward's (" +
                     std::to_string(trainRows_) + ")");
    const int L = Layers();
    const int64_t in0 = sizes_[0], outL = sizes_[L];
    CheckLength(env, gradOut.length, static_cast<size_t>(rows * outL), "gradOut");
    auto result = Napi::Float32Array::New(env, inputGradient ? static_cast<size_t>(rows * in0) : 0);
    if (rows == 0) return result;
    const bool accumulate = !gradsZero_;
    const float beta = accumulate ? 1.0f : 0.0f;
    Grow(bufA_, rows * MaxWidth());
    Grow(bufB_, rows * MaxWidth());

    // dZ of the last layer.
    const float* dz;
    if (outputRelu_) {
      GradEpilogue(gradOut.data, acts_[L].data(), bufA_.data(), rows, outL, true, 1.0f, gb_[L - 1].data(), accumulate);
      dz = bufA_.data();
    } else {
      GradEpilogue(gradOut.data, nullptr, const_cast<float*>(gradOut.data), rows, outL, false, 1.0f,
                   gb_[L - 1].data(), accumulate);
      dz = gradOut.data;
    }
    for (int l = L - 1; l >= 0; --l) {
      const int64_t nIn = sizes_[l], nOut = sizes_[l + 1];
      // dW_l (+)= A_l^T · dZ_l
      Gemm(true, false, nIn, nOut, rows, acts_[l].data(), nIn, dz, nOut, beta, gW_[l].data(), nOut);
      if (l == 0 && !inputGradient) break;
      // dA_l = dZ_l · W_l^T
      float* da = l == 0 ? result.Data() : (dz == bufA_.data() ? bufB_.data() : bufA_.data());
      Gemm(false, true, rows, nIn, nOut, dz, nOut, W_[l].data(), nOut, 0.0f, da, nIn);
      if (l > 0) {
        // dZ_{l-1} = dA_l ⊙ ∂a/∂z (ReLU and dropout of hidden layer l−1), db_{l−1} (+)= Σ_r dZ_{l−1}
        GradEpilogue(da, acts_[l].data(), da, rows, nIn, true, trainScale_, gb_[l - 1].data(), accumulate);
        dz = da;
      }
    }
    gradsZero_ = false;
    return result;
  }

  void AdamStep(const Napi::CallbackInfo& info) {
    const AdamStepSize a(NumArg(info, 0, "lr"), NumArg(info, 1, "beta1"), NumArg(info, 2, "beta2"), NumArg(info, 3, "eps"), ++step_);
    const bool zero = gradsZero_;
    auto update = [&](std::vector<float>& p, std::vector<float>& g, std::vector<float>& m, std::vector<float>& v) {
      AdamUpdate(p.data(), zero ? nullptr : g.data(), m.data(), v.data(), static_cast<int64_t>(p.size()), a);
    };
    for (int l = 0; l < Layers(); ++l) {
      update(W_[l], gW_[l], mW_[l], vW_[l]);
      update(b_[l], gb_[l], mb_[l], vb_[l]);
    }
    gradsZero_ = true;  // the next backward overwrites instead of accumulating
  }

  void ZeroGrad(const Napi::CallbackInfo&) { gradsZero_ = true; }

  Napi::Value GetParams(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 2 * Layers());
    for (int l = 0; l < Layers(); ++l) {
      auto w = Napi::Float32Array::New(env, W_[l].size());
      std::memcpy(w.Data(), W_[l].data(), W_[l].size() * sizeof(float));
      auto b = Napi::Float32Array::New(env, b_[l].size());
      std::memcpy(b.Data(), b_[l].data(), b_[l].size() * sizeof(float));
      out.Set(2 * l, w);
      out.Set(2 * l + 1, b);
    }
    return out;
  }

  void SetParams(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) ThrowType(env, "params must be an array of Float32Array");
    Napi::Array arr = info[0].As<Napi::Array>();
    const int L = Layers();
    RequireRange(env, arr.Length() == static_cast<uint32_t>(2 * L),
                 "params must have " + std::to_string(2 * L) + " entries [W0, b0, ...]");
    std::vector<View<float>> views;
    for (int i = 0; i < 2 * L; ++i) {
      const std::string name = "params[" + std::to_string(i) + "]";
      auto v = TypedValue<float>(env, arr.Get(i), name.c_str());
      const size_t need = (i % 2 == 0) ? W_[i / 2].size() : b_[i / 2].size();
      RequireRange(env, v.length == need, name + " must have " + std::to_string(need) + " elements");
      views.push_back(v);
    }
    for (int l = 0; l < L; ++l) {
      std::memcpy(W_[l].data(), views[2 * l].data, W_[l].size() * sizeof(float));
      std::memcpy(b_[l].data(), views[2 * l + 1].data, b_[l].size() * sizeof(float));
    }
  }

  Napi::Value Sizes(const Napi::CallbackInfo& info) {
    Napi::Array out = Napi::Array::New(info.Env(), sizes_.size());
    for (size_t i = 0; i < sizes_.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), sizes_[i]));
    return out;
  }

  std::vector<int> sizes_;
  float dropout_ = 0;
  float inputNoise_ = 0;
  static constexpr uint64_t kNoiseStream = 0x4e4f495345ULL;  // keeps noise streams apart from layers' dropout
  bool outputRelu_ = false;
  uint64_t seed_ = 0;
  Weights W_, b_, gW_, gb_, mW_, vW_, mb_, vb_;
  bool gradsZero_ = true;
  int64_t step_ = 0;
  uint64_t trainForwards_ = 0;
  int64_t trainRows_ = -1;
  float trainScale_ = 1.0f;
  std::vector<std::vector<float>> acts_;  // acts_[0] = input copy, acts_[l] = output of layer l−1 (train)
  std::vector<float> bufA_, bufB_;
};

Napi::Value Mse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pred = TypedArg<float>(info, 0, "pred");
  auto target = TypedArg<float>(info, 1, "target");
  auto weights = TypedValue<float>(env, info[2], "rowWeights", true);
  const int64_t rows = IntArg(info, 3, "rows"), cols = IntArg(info, 4, "cols");
  auto grad = TypedArg<float>(info, 5, "grad");
  RequireRange(env, rows >= 0 && cols >= 1, "rows must be >= 0 and cols >= 1");
  const size_t n = static_cast<size_t>(rows * cols);
  CheckLength(env, pred.length, n, "pred");
  CheckLength(env, target.length, n, "target");
  CheckLength(env, grad.length, n, "grad");
  if (weights.data != nullptr) CheckLength(env, weights.length, static_cast<size_t>(rows), "rowWeights");
  const int parts = PartsFor(rows * cols);
  std::vector<double> partial(parts, 0.0);
  const float invCols = 1.0f / static_cast<float>(cols);
  PoolFor(rows, parts, [&](int64_t r0, int64_t r1, int part) {
    double loss = 0;
    for (int64_t r = r0; r < r1; ++r) {
      const float w = weights.data ? weights.data[r] : 1.0f;
      const float* __restrict p = pred.data + r * cols;
      const float* __restrict t = target.data + r * cols;
      float* __restrict g = grad.data + r * cols;
      const float gs = 2.0f * w * invCols;
      float sq = 0;
#pragma omp simd reduction(+ : sq)
      for (int64_t c = 0; c < cols; ++c) {
        const float d = p[c] - t[c];
        sq += d * d;
        g[c] = gs * d;
      }
      loss += static_cast<double>(w) * sq / static_cast<double>(cols);
    }
    partial[part] = loss;
  });
  double loss = 0;
  for (double v : partial) loss += v;
  return Napi::Number::New(env, loss);
}

// adamStep(params, grad, m, v, step, lr, beta1, beta2, eps): one Adam step on a parameter array of the JS learners.
void AdamStepExport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto params = TypedArg<float>(info, 0, "params");
  auto grad = TypedArg<float>(info, 1, "grad");
  auto m = TypedArg<float>(info, 2, "m");
  auto v = TypedArg<float>(info, 3, "v");
  const int64_t step = IntArg(info, 4, "step");
  RequireRange(env, step >= 1, "step must be >= 1");
  const size_t n = params.length;
  CheckLength(env, grad.length, n, "grad");
  CheckLength(env, m.length, n, "m");
  CheckLength(env, v.length, n, "v");
  AdamUpdate(params.data, grad.data, m.data, v.data, static_cast<int64_t>(n),
             AdamStepSize(NumArg(info, 5, "lr"), NumArg(info, 6, "beta1"), NumArg(info, 7, "beta2"), NumArg(info, 8, "eps"), step));
}

// pairDifferences(first, second, count, a, aCols, b, bCols, bRows, bScale, bWeight, out): out row p = [a[f] − a[s] ;
// b'[f mod bRows] − b'[s mod bRows]] for f = first[p], s = second[p], where b' is b (float32, or float16 bit patterns in
// a Uint16Array) and, with bScale, each value x of b's row r is float32(bWeight · float32(x · bScale[r])) (rows scaled
// as they are read, so no scaled copy of b is ever held). a or b may be null (that part is left out). Rows are read
// where they are.
template <typename T>
void TailDifferences(const T* b, int64_t bCols, int64_t bRows, const double* scale, double weight, int64_t f, int64_t s,
                     float* __restrict o) {
  const T* __restrict x = b + (f % bRows) * bCols;
  const T* __restrict y = b + (s % bRows) * bCols;
  auto value = [](T v) -> float {
    if constexpr (std::is_same_v<T, uint16_t>) return HalfToFloat(v);
    else return v;
  };
  if (!scale) {
#pragma omp simd
    for (int64_t c = 0; c < bCols; ++c) o[c] = value(x[c]) - value(y[c]);
    return;
  }
  const double sx = scale[f % bRows];
  const double sy = scale[s % bRows];
#pragma omp simd
  for (int64_t c = 0; c < bCols; ++c) {
    const float u = static_cast<float>(weight * static_cast<float>(value(x[c]) * sx));
    const float v = static_cast<float>(weight * static_cast<float>(value(y[c]) * sy));
    o[c] = u - v;
  }
}

void PairDifferences(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto first = TypedArg<int32_t>(info, 0, "first");
  auto second = TypedArg<int32_t>(info, 1, "second");
  const int64_t count = IntArg(info, 2, "count");
  auto a = TypedValue<float>(env, info[3], "a", true);
  const int64_t aCols = a.data ? IntArg(info, 4, "aCols") : 0;
  const bool half = info[5].IsTypedArray() && info[5].As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
  auto b32 = half ? View<float>{nullptr, 0} : TypedValue<float>(env, info[5], "b", true);
  auto b16 = half ? TypedValue<uint16_t>(env, info[5], "b") : View<uint16_t>{nullptr, 0};
  const bool hasB = half || b32.data;
  const size_t bLength = half ? b16.length : b32.length;
  const int64_t bCols = hasB ? IntArg(info, 6, "bCols") : 0;
  const int64_t bRows = hasB ? IntArg(info, 7, "bRows") : 1;
  auto bScale = TypedValue<double>(env, info[8], "bScale", true);
  const double bWeight = NumArg(info, 9, "bWeight");
  auto out = TypedArg<float>(info, 10, "out");
  RequireRange(env, count >= 0 && aCols >= 0 && bCols >= 0 && bRows >= 1 && aCols + bCols >= 1, "count, aCols, bCols, bRows out of range");
  CheckLength(env, first.length, static_cast<size_t>(count), "first");
  CheckLength(env, second.length, static_cast<size_t>(count), "second");
  const int64_t cols = aCols + bCols;
  CheckLength(env, out.length, static_cast<size_t>(count * cols), "out");
  const int64_t rows = a.data ? static_cast<int64_t>(a.length) / aCols : bRows;
  for (int64_t p = 0; p < count; ++p) {
    RequireRange(env, first.data[p] >= 0 && first.data[p] < rows && second.data[p] >= 0 && second.data[p] < rows,
                 "pair " + std::to_string(p) + " names a row outside the " + std::to_string(rows));
  }
  if (hasB) CheckLength(env, bLength, static_cast<size_t>(bRows * bCols), "b");
  if (bScale.data) CheckLength(env, bScale.length, static_cast<size_t>(bRows), "bScale");
  PoolFor(count, PartsFor(count * cols), [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      float* __restrict o = out.data + p * cols;
      if (a.data) {
        const float* __restrict x = a.data + first.data[p] * aCols;
        const float* __restrict y = a.data + second.data[p] * aCols;
#pragma omp simd
        for (int64_t c = 0; c < aCols; ++c) o[c] = x[c] - y[c];
      }
      if (half) TailDifferences(b16.data, bCols, bRows, bScale.data, bWeight, first.data[p], second.data[p], o + aCols);
      else if (b32.data) TailDifferences(b32.data, bCols, bRows, bScale.data, bWeight, first.data[p], second.data[p], o + aCols);
    }
  });
}

}  // namespace

void InitMlp(Napi::Env env, Napi::Object exports) {
  exports.Set("Mlp", MlpWrap::Define(env));
  exports.Set("mse", Napi::Function::New(env, Mse, "mse"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStepExport, "adamStep"));
  exports.Set("pairDifferences", Napi::Function::New(env, PairDifferences, "pairDifferences"));
}

}  // namespace vasg
