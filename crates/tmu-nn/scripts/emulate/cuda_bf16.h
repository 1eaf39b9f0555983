// Host emulation of the CUDA features tmu-nn's kernels use (see emulate_kernels.sh): stands in
// for <cuda_bf16.h> and declares the execution model (grid, block, barriers, warp shuffles), so
// that the kernel sources compile with g++ and run on CPU threads, one block at a time.
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};
inline Dim3 gridDim, blockDim;
inline thread_local Dim3 blockIdx, threadIdx;
inline std::unique_ptr<std::barrier<>> g_block;
inline std::vector<std::unique_ptr<std::barrier<>>> g_warps;
inline std::vector<double> g_lanes;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static

inline void __syncthreads() { g_block->arrive_and_wait(); }

// Lane `lane + off` of the warp's value (own value past the warp's end), like the hardware.
template <typename T>
T __shfl_down_sync(unsigned, T v, int off) {
  const unsigned t = threadIdx.x, lane = t & 31, warp = t >> 5;
  g_lanes[t] = (double)v;
  g_warps[warp]->arrive_and_wait();
  const T r = (lane + off < 32 && t + off < blockDim.x) ? (T)g_lanes[t + off] : v;
  g_warps[warp]->arrive_and_wait();
  return r;
}

inline uint64_t min(uint64_t a, uint64_t b) { return a < b ? a : b; }

struct __nv_bfloat16 {
  uint16_t bits;
};
inline float __bfloat162float(__nv_bfloat16 v) {
  uint32_t u = (uint32_t)v.bits << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even (finite values)
  return __nv_bfloat16{(uint16_t)(u >> 16)};
}

// Runs `kernel` on every thread of every block of `grid` (blocks one after another).
template <typename F>
void launch(Dim3 grid, Dim3 block, F kernel) {
  gridDim = grid;
  blockDim = block;
  const unsigned n = block.x;
  g_lanes.assign(n, 0.0);
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        g_block = std::make_unique<std::barrier<>>(n);
        g_warps.clear();
        for (unsigned w = 0; w < (n + 31) / 32; ++w) g_warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, n - 32 * w)));
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < n; ++t)
          ts.emplace_back([=] {
            blockIdx = Dim3{x, y, z};
            threadIdx = Dim3{t, 0, 0};
            kernel();
          });
        for (auto& t : ts) t.join();
      }
}
