// Reductions across the threads of a block, through shared memory, for the kernels that sum or
// take the maximum of more values than one thread should visit alone.
//
// Every thread of the block must call them, the same number of times: they hold barriers. A block
// has at most MAX_BLOCK_THREADS threads (deepnet_gpu/kernels.py launches that many at most).
#pragma once

#include "activations.cuh"

namespace deepnet {

constexpr unsigned int MAX_BLOCK_THREADS = 256;

struct Sum {
    template <typename T>
    __device__ T operator()(T a, T b) const {
        return a + b;
    }
};

struct Max {
    template <typename T>
    __device__ T operator()(T a, T b) const {
        return math::maximum(a, b);
    }
};

// Column tiles: a block of blockDim.x columns × blockDim.y lanes. Lane y of a column visits rows
// y, y + blockDim.y, y + 2·blockDim.y, ... of it; this combines the value of each of the first
// `used` lanes of the caller's column (the lanes that had a row to visit), in lane order, and
// returns the result to every lane of the column.
template <typename T, typename Combine>
__device__ T across_lanes(T value, long long used, Combine combine) {
    __shared__ T partial[MAX_BLOCK_THREADS];
    const unsigned int width = blockDim.x;
    partial[threadIdx.y * width + threadIdx.x] = value;
    __syncthreads();
    T total = partial[threadIdx.x];
    for (long long lane = 1; lane < used; ++lane) {
        total = combine(total, partial[lane * width + threadIdx.x]);
    }
    __syncthreads();
    return total;
}

// The sum of `value` over every thread of the block, returned to thread (0, 0) (the others get a
// partial sum): a tree in shared memory, which halves the number of live values at each barrier.
// Thread (0, 0) reads the others' values up to its return, so a kernel that would call it again
// must pass a barrier first.
template <typename T>
__device__ T block_sum(T value) {
    __shared__ T partial[MAX_BLOCK_THREADS];
    const unsigned int threads = blockDim.x * blockDim.y;
    const unsigned int t = threadIdx.y * blockDim.x + threadIdx.x;
    partial[t] = value;
    unsigned int span = 1;
    while (span < threads) {
        span *= 2;
    }
    for (span /= 2; span > 0; span /= 2) {
        __syncthreads();
        if (t < span && t + span < threads) {
            partial[t] += partial[t + span];
        }
    }
    return partial[t];
}

}  // namespace deepnet
