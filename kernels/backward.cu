// Backward activation kernels: dZ = dA * g'(Z), elementwise over n values, moved in 16-byte packs
// (elementwise.cuh).
#include "activations.cuh"
#include "common.cuh"
#include "elementwise.cuh"

// dZ = dA * g'(Z) with g' written through the layer's output A = g(Z). dZ may be dA.
template <typename T>
__device__ void activation_backward_from_a(const T* dA, const T* A, T* dZ, long long n,
                                           int activation, T alpha) {
    const auto dz = [=](T da, T a) { return da * deepnet::slope_from_output(activation, a, alpha); };
    deepnet::map(dZ, n, dz, dA, A);
}

// dZ = dA * g'(Z) from the pre-activation Z (the course's caches keep Z). dZ may be dA.
template <typename T>
__device__ void activation_backward_from_z(const T* dA, const T* Z, T* dZ, long long n,
                                           int activation, T alpha) {
    const auto dz = [=](T da, T z) { return da * deepnet::slope_from_input(activation, z, alpha); };
    deepnet::map(dZ, n, dz, dA, Z);
}
