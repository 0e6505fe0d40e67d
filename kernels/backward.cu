// Backward activation kernels: dZ = dA * g'(Z), elementwise over n values.
#include "activations.cuh"
#include "common.cuh"

// dZ = dA * g'(Z) with g' written through the layer's output A = g(Z). dZ may be dA.
template <typename T>
__device__ void activation_backward_from_a(const T* dA, const T* A, T* dZ, long long n,
                                           int activation, T alpha) {
    for (long long i = deepnet::grid_start(); i < n; i += deepnet::grid_stride()) {
        dZ[i] = dA[i] * deepnet::slope_from_output(activation, A[i], alpha);
    }
}

// dZ = dA * g'(Z) from the pre-activation Z (the course's caches keep Z). dZ may be dA.
template <typename T>
__device__ void activation_backward_from_z(const T* dA, const T* Z, T* dZ, long long n,
                                           int activation, T alpha) {
    for (long long i = deepnet::grid_start(); i < n; i += deepnet::grid_stride()) {
        dZ[i] = dA[i] * deepnet::slope_from_input(activation, Z[i], alpha);
    }
}
