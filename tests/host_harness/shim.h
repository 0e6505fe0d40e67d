// Lets g++ compile the CUDA kernel sources in kernels/ for the host: the CUDA qualifiers become
// plain C++, the built-in thread coordinates become globals, and launch() runs a kernel's body once
// for every (block, thread) of a deliberately small grid, one after another. That is exact for our
// kernels, which use no shared memory, barriers or atomics: each thread's work is independent.
#pragma once

#include <cmath>

using std::isfinite;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline

struct dim3_like {
    unsigned int x, y, z;
};

inline dim3_like threadIdx, blockIdx, blockDim, gridDim;

// 3 blocks of 4 threads: 12 threads, so a grid-stride loop over a 20×209 matrix runs ~350 rounds.
constexpr unsigned int HARNESS_GRID = 3;
constexpr unsigned int HARNESS_BLOCK = 4;

template <typename Body>
void launch(Body body) {
    gridDim = {HARNESS_GRID, 1, 1};
    blockDim = {HARNESS_BLOCK, 1, 1};
    for (unsigned int block = 0; block < HARNESS_GRID; ++block) {
        for (unsigned int thread = 0; thread < HARNESS_BLOCK; ++thread) {
            blockIdx = {block, 0, 0};
            threadIdx = {thread, 0, 0};
            body();
        }
    }
}
