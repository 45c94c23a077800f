{
  "targets": [
    {
      "target_name": "dendritic_kernels",
      "sources": ["native/kernels.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-fno-strict-aliasing"],
      "cflags_cc!": ["-O2"]
    }
  ]
}
