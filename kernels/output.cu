// Output-layer kernels: softmax, the output gradient and the per-example loss. Matrices are
// (rows, m) in C order, one column per example; the column kernels give each thread whole columns
// (column j's elements sit at j, j + m, j + 2m, ..., so neighbouring threads read neighbouring
// addresses), and sum down a column in row order, as NumPy's reductions over axis 0 do.
#include "activations.cuh"
#include "common.cuh"

// Z += b (b is (rows, 1)), then A[:, j] = exp(Z[:, j] - max Z[:, j]) / Σ_i exp(Z[i, j] - max Z[:, j]).
// A may be Z. rows >= 1.
template <typename T>
__device__ void bias_softmax(T* Z, const T* b, T* A, long long rows, long long m) {
    for (long long j = deepnet::grid_start(); j < m; j += deepnet::grid_stride()) {
        T peak = Z[j] + b[0];
        Z[j] = peak;
        for (long long i = 1; i < rows; ++i) {
            const T z = Z[i * m + j] + b[i];
            Z[i * m + j] = z;
            peak = deepnet::math::maximum(peak, z);
        }
        T sum = T(0);
        for (long long i = 0; i < rows; ++i) {
            const T e = deepnet::math::exp(Z[i * m + j] - peak);
            A[i * m + j] = e;
            sum += e;
        }
        for (long long i = 0; i < rows; ++i) {
            A[i * m + j] = A[i * m + j] / sum;
        }
    }
}

// dZ[L] = A[L] - Y, elementwise over n values: the output layer's gradient for each loss paired
// with its activation (cross-entropy with sigmoid or softmax, squared error with linear).
template <typename T>
__device__ void output_gradient(const T* A, const T* Y, T* dZ, long long n) {
    for (long long i = deepnet::grid_start(); i < n; i += deepnet::grid_stride()) {
        dZ[i] = A[i] - Y[i];
    }
}

// out[j] = the loss of example j, from the scores S (rows, m) and labels Y (rows, m):
//   binary cross-entropy, S = logits Z: Σ_i log(1 + e^-|z|) + max(z, 0) - z·y;
//   categorical cross-entropy, S = logits Z: Σ_i y_i (log Σ_k e^(z_k - max z) - (z_i - max z));
//   squared error, S = outputs A: Σ_i ((a - y)²)·½.
// rows >= 1.
template <typename T>
__device__ void loss_terms(const T* S, const T* Y, T* out, long long rows, long long m, int loss) {
    for (long long j = deepnet::grid_start(); j < m; j += deepnet::grid_stride()) {
        T total = T(0);
        if (loss == deepnet::BINARY_CROSS_ENTROPY) {
            for (long long i = 0; i < rows; ++i) {
                const T z = S[i * m + j];
                T term = deepnet::math::log1p(deepnet::math::exp(-deepnet::math::abs(z)));
                term = term + deepnet::math::maximum(z, T(0));
                term = term - z * Y[i * m + j];
                total += term;
            }
        } else if (loss == deepnet::CATEGORICAL_CROSS_ENTROPY) {
            T peak = S[j];
            for (long long i = 1; i < rows; ++i) {
                peak = deepnet::math::maximum(peak, S[i * m + j]);
            }
            T sum = T(0);
            for (long long i = 0; i < rows; ++i) {
                sum += deepnet::math::exp(S[i * m + j] - peak);
            }
            const T log_sum = deepnet::math::log(sum);
            for (long long i = 0; i < rows; ++i) {
                total += Y[i * m + j] * (log_sum - (S[i * m + j] - peak));
            }
        } else {
            for (long long i = 0; i < rows; ++i) {
                const T difference = S[i * m + j] - Y[i * m + j];
                total += difference * difference * T(0.5);
            }
        }
        out[j] = total;
    }
}
