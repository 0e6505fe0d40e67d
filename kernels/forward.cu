// Forward activation kernels over a layer's (rows, m) matrices, stored C-order as n = rows·m values.
#include "activations.cuh"
#include "common.cuh"

// A = g(Z), elementwise over n values. A may be Z.
template <typename T>
__device__ void activation_forward(const T* Z, T* A, long long n, int activation, T alpha) {
    for (long long i = deepnet::grid_start(); i < n; i += deepnet::grid_stride()) {
        A[i] = deepnet::activate(activation, Z[i], alpha);
    }
}

// Z += b, then A = g(Z): Z is (rows, m), b is (rows, 1), so element i adds b[i / m], the row
// walked to rather than divided for. A may be Z.
template <typename T>
__device__ void bias_activation_forward(T* Z, const T* b, T* A, long long rows, long long m,
                                        int activation, T alpha) {
    if (m < 1) {
        return;
    }
    const long long n = rows * m;
    for (deepnet::RowWalk at(m); at.i < n; at.next()) {
        const T z = Z[at.i] + b[at.row];
        Z[at.i] = z;
        A[at.i] = deepnet::activate(activation, z, alpha);
    }
}
