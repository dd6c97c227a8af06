{
  "targets": [
    {
      "target_name": "vasg_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/blas.cc",
        "native/src/half.cc",
        "native/src/linalg.cc",
        "native/src/walks.cc",
        "native/src/skipgram.cc",
        "native/src/mlp.cc",
        "native/src/score.cc",
        "native/src/lock.cc",
        "native/src/memory.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-fexceptions", "-fopenmp-simd"],
      "libraries": ["-lopenblas", "-lpthread"]
    }
  ]
}
