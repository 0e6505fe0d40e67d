// Output-layer kernels: softmax, the output gradient and the per-example loss. Matrices are
// (rows, m) in C order, one column per example: column j's elements sit at j, j + m, j + 2m, ...
//
// The column kernels (bias_softmax, loss_terms) run on column tiles (block_reduce.cuh): a block
// covers blockDim.x neighbouring columns, so neighbouring threads read neighbouring addresses, and
// splits each column's rows among blockDim.y lanes, whose partial maxima and sums it combines in
// shared memory. A wide output layer (thousands of rows) so gets blockDim.y threads per column
// instead of one. The tiles follow each other by the grid stride; every thread of a block takes
// part in every tile, columns beyond m included, since the reductions hold barriers.
#include "activations.cuh"
#include "block_reduce.cuh"
#include "common.cuh"
#include "elementwise.cuh"

namespace deepnet {

// The first column of this block's first tile, and the distance from one of its tiles to the next.
__device__ inline long long first_tile() { return static_cast<long long>(blockIdx.x) * blockDim.x; }
__device__ inline long long tile_stride() { return static_cast<long long>(gridDim.x) * blockDim.x; }

// The lanes that have a row of a `rows`-row column to visit.
__device__ inline long long used_lanes(long long rows) {
    return rows < blockDim.y ? rows : static_cast<long long>(blockDim.y);
}

}  // namespace deepnet

// Z += b (b is (rows, 1)), then A[:, j] = exp(Z[:, j] - max Z[:, j]) / Σ_i exp(Z[i, j] - max Z[:, j]).
// A may be Z. rows >= 1.
template <typename T>
__device__ void bias_softmax(T* Z, const T* b, T* A, long long rows, long long m) {
    const long long used = deepnet::used_lanes(rows);
    for (long long tile = deepnet::first_tile(); tile < m; tile += deepnet::tile_stride()) {
        const long long j = tile + threadIdx.x;
        const long long first_row = j < m ? threadIdx.y : rows;
        T peak = T(0);
        if (first_row < rows) {
            peak = Z[first_row * m + j] + b[first_row];
        }
        for (long long i = first_row; i < rows; i += blockDim.y) {
            const T z = Z[i * m + j] + b[i];
            Z[i * m + j] = z;
            peak = deepnet::math::maximum(peak, z);
        }
        peak = deepnet::across_lanes(peak, used, deepnet::Max());
        T sum = T(0);
        for (long long i = first_row; i < rows; i += blockDim.y) {
            const T e = deepnet::math::exp(Z[i * m + j] - peak);
            A[i * m + j] = e;
            sum += e;
        }
        sum = deepnet::across_lanes(sum, used, deepnet::Sum());
        for (long long i = first_row; i < rows; i += blockDim.y) {
            A[i * m + j] = A[i * m + j] / sum;
        }
    }
}

// dZ[L] = A[L] - Y, elementwise over n values in 16-byte packs (elementwise.cuh): the output
// layer's gradient for each loss paired with its activation (cross-entropy with sigmoid or softmax,
// squared error with linear).
template <typename T>
__device__ void output_gradient(const T* A, const T* Y, T* dZ, long long n) {
    deepnet::map(dZ, n, [](T a, T y) { return a - y; }, A, Y);
}

// out[j] = the loss of example j, from the scores S (rows, m) and labels Y (rows, m):
//   binary cross-entropy, S = logits Z: Σ_i log(1 + e^-|z|) + max(z, 0) - z·y;
//   categorical cross-entropy, S = logits Z: Σ_i y_i (log Σ_k e^(z_k - max z) - (z_i - max z));
//   squared error, S = outputs A: Σ_i ((a - y)²)·½.
// rows >= 1.
template <typename T>
__device__ void loss_terms(const T* S, const T* Y, T* out, long long rows, long long m, int loss) {
    const long long used = deepnet::used_lanes(rows);
    for (long long tile = deepnet::first_tile(); tile < m; tile += deepnet::tile_stride()) {
        const long long j = tile + threadIdx.x;
        const long long first_row = j < m ? threadIdx.y : rows;
        T total = T(0);
        if (loss == deepnet::BINARY_CROSS_ENTROPY) {
            for (long long i = first_row; i < rows; i += blockDim.y) {
                const T z = S[i * m + j];
                T term = deepnet::math::log1p(deepnet::math::exp(-deepnet::math::abs(z)));
                term = term + deepnet::math::maximum(z, T(0));
                term = term - z * Y[i * m + j];
                total += term;
            }
        } else if (loss == deepnet::CATEGORICAL_CROSS_ENTROPY) {
            T peak = first_row < rows ? S[first_row * m + j] : T(0);
            for (long long i = first_row; i < rows; i += blockDim.y) {
                peak = deepnet::math::maximum(peak, S[i * m + j]);
            }
            peak = deepnet::across_lanes(peak, used, deepnet::Max());
            T sum = T(0);
            for (long long i = first_row; i < rows; i += blockDim.y) {
                sum += deepnet::math::exp(S[i * m + j] - peak);
            }
            const T log_sum = deepnet::math::log(deepnet::across_lanes(sum, used, deepnet::Sum()));
            for (long long i = first_row; i < rows; i += blockDim.y) {
                total += Y[i * m + j] * (log_sum - (S[i * m + j] - peak));
            }
        } else {
            for (long long i = first_row; i < rows; i += blockDim.y) {
                const T difference = S[i * m + j] - Y[i * m + j];
                total += difference * difference * T(0.5);
            }
        }
        total = deepnet::across_lanes(total, used, deepnet::Sum());
        if (threadIdx.y == 0 && j < m) {
            out[j] = total;
        }
    }
}
