// Launch geometry shared by the kernels: every kernel walks its index space with a grid-stride
// loop, so any grid covers any n (the host harness runs them with a deliberately tiny grid).
//
// A kernel is a `template <typename T> __device__ void` function of a .cu file; the GPU enters it
// through `extern "C" __global__` entry points (sgd_update_float, sgd_update_double, ...) that
// deepnet_gpu/kernel_entry_points.py generates from its signature table and appends to the file.
#pragma once

namespace deepnet {

// The first index this thread handles.
__device__ inline long long grid_start() {
    return static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
}

// The distance from one of this thread's indices to its next: the number of threads in the grid.
__device__ inline long long grid_stride() {
    return static_cast<long long>(blockDim.x) * gridDim.x;
}

// A walk over the indices first, first + stride, first + 2·stride, ... of a C-order (rows, m)
// matrix, keeping the row and column of each index without dividing in the loop: one stride moves
// stride / m rows and stride % m columns, plus one row more when the columns wrap. Built only for
// m >= 1.
struct RowWalk {
    long long i, row, column;
    long long stride, row_step, column_step, m;

    __device__ RowWalk(long long m_, long long first, long long stride_) : stride(stride_), m(m_) {
        i = first;
        row = i / m;
        column = i % m;
        row_step = stride / m;
        column_step = stride % m;
    }

    __device__ void next() {
        i += stride;
        row += row_step;
        column += column_step;
        if (column >= m) {
            column -= m;
            ++row;
        }
    }
};

}  // namespace deepnet
