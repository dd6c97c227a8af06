// Shared plumbing for the async exports (no JS exports of its own):
//  - PromiseWorker: an AsyncWorker that settles a Promise and keeps its JS buffers alive while it runs;
//  - value-based typed-array accessors (for option objects and nullable arguments);
//  - ParallelFor: contiguous ranges over freshly started std::threads (async workers: long jobs);
//  - PoolFor: the same over a persistent pool (short synchronous passes, e.g. the MLP's elementwise work).
#pragma once
#include <napi.h>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include "napi_util.h"

namespace vasg {

template <typename T>
struct TypedTraits;
template <> struct TypedTraits<float> { static constexpr napi_typedarray_type type = napi_float32_array; static constexpr const char* name = "Float32Array"; };
template <> struct TypedTraits<int32_t> { static constexpr napi_typedarray_type type = napi_int32_array; static constexpr const char* name = "Int32Array"; };
template <> struct TypedTraits<uint8_t> { static constexpr napi_typedarray_type type = napi_uint8_array; static constexpr const char* name = "Uint8Array"; };
template <> struct TypedTraits<uint16_t> { static constexpr napi_typedarray_type type = napi_uint16_array; static constexpr const char* name = "Uint16Array"; };
template <> struct TypedTraits<double> { static constexpr napi_typedarray_type type = napi_float64_array; static constexpr const char* name = "Float64Array"; };

// A typed array of element type T in `v`, or (nullable only) null/undefined → {nullptr, 0}. Throws TypeError.
template <typename T>
View<T> TypedValue(Napi::Env env, Napi::Value v, const char* name, bool nullable = false) {
  if (nullable && (v.IsNull() || v.IsUndefined())) return View<T>{nullptr, 0};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != TypedTraits<T>::type) {
    ThrowType(env, std::string(name) + " must be a " + TypedTraits<T>::name + (nullable ? " or null" : ""));
  }
  auto a = v.As<Napi::TypedArrayOf<T>>();
  return View<T>{a.Data(), a.ElementLength()};
}

inline double NumValue(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsNumber()) ThrowType(env, std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline int64_t IntValue(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsNumber()) ThrowType(env, std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == static_cast<double>(static_cast<int64_t>(d)))) {
    throw Napi::RangeError::New(env, std::string(name) + " must be an integer");
  }
  return static_cast<int64_t>(d);
}

inline void RequireRange(Napi::Env env, bool ok, const std::string& msg) {
  if (!ok) throw Napi::RangeError::New(env, msg);
}

// Settles a Promise: Result() on the main thread after Execute(), or rejects with the SetError message.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}
  // Keeps a JS object (typed array, result buffer) alive until the worker is destroyed (main thread).
  void Keep(Napi::Value v) {
    if (v.IsObject()) refs_.emplace_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  Napi::Promise Start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  virtual Napi::Value Result(Napi::Env env) = 0;
  void OnOK() override { deferred_.Resolve(Result(Env())); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
};

// Runs fn(begin, end, part) over `parts` contiguous chunks of [0, n); part 0 on the calling thread.
template <typename Fn>
void ParallelFor(int64_t n, int parts, Fn&& fn) {
  if (n <= 0) return;
  parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(parts, n)));
  if (parts == 1) {
    fn(int64_t{0}, n, 0);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(parts - 1);
  for (int p = 1; p < parts; ++p) {
    pool.emplace_back([&, p] { fn(n * p / parts, n * (p + 1) / parts, p); });
  }
  fn(int64_t{0}, n / parts, 0);
  for (auto& t : pool) t.join();
}

// A persistent pool of hardware_concurrency − 1 threads; one Run at a time (a concurrent caller runs inline).
class ThreadPool {
 public:
  static ThreadPool& Get() {
    static ThreadPool* pool = new ThreadPool(std::max(1u, std::thread::hardware_concurrency()) - 1);  // never freed
    return *pool;
  }
  int Size() const { return static_cast<int>(workers_) + 1; }

  // Runs job(i) for i in [0, parts), the caller taking part too; returns when all are done.
  void Run(int parts, const std::function<void(int)>& job) {
    std::unique_lock<std::mutex> run(runMu_, std::try_to_lock);
    if (parts <= 1 || workers_ == 0 || !run.owns_lock()) {
      for (int i = 0; i < parts; ++i) job(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &job;
      parts_ = parts;
      next_.store(0);
      active_ = static_cast<int>(workers_);
      ++generation_;
    }
    cv_.notify_all();
    Drain(job, parts);
    std::unique_lock<std::mutex> lk(mu_);
    doneCv_.wait(lk, [&] { return active_ == 0; });
    job_ = nullptr;
  }

 private:
  explicit ThreadPool(unsigned workers) : workers_(workers) {
    for (unsigned i = 0; i < workers_; ++i) std::thread([this] { Loop(); }).detach();
  }
  void Drain(const std::function<void(int)>& job, int parts) {
    for (int i = next_.fetch_add(1); i < parts; i = next_.fetch_add(1)) job(i);
  }
  void Loop() {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      int parts;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return generation_ != seen; });
        seen = generation_;
        job = job_;
        parts = parts_;
      }
      Drain(*job, parts);
      std::lock_guard<std::mutex> lk(mu_);
      if (--active_ == 0) doneCv_.notify_one();
    }
  }

  unsigned workers_;
  std::mutex runMu_, mu_;
  std::condition_variable cv_, doneCv_;
  const std::function<void(int)>* job_ = nullptr;
  int parts_ = 0;
  int active_ = 0;
  uint64_t generation_ = 0;
  std::atomic<int> next_{0};
};

// fn(begin, end, part) over `parts` contiguous chunks of [0, n), on the persistent pool.
template <typename Fn>
void PoolFor(int64_t n, int parts, Fn&& fn) {
  if (n <= 0) return;
  parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(parts, n)));
  if (parts == 1) {
    fn(int64_t{0}, n, 0);
    return;
  }
  std::function<void(int)> job = [&](int p) { fn(n * p / parts, n * (p + 1) / parts, p); };
  ThreadPool::Get().Run(parts, job);
}

}  // namespace vasg
