// The math of every kernel, once: activation functions g, their slopes g', and the codes that name
// activations and losses. Everything here is __host__ __device__ so the same text compiles for the
// GPU (NVRTC through CuPy, nvcc in the tests) and for the host harness (g++, tests/host_harness).
//
// Each formula is written exactly as its NumPy twin in deepnet_gpu/numpy_kernels.py computes it,
// operation by operation, so that with contraction into FMAs disabled (--fmad=false) the results
// differ only by the few ulp of the device's exp/log/tanh. float is computed in float, double in
// double.
#pragma once

namespace deepnet {

// Activation codes (numpy_kernels.py holds the same numbers).
constexpr int LINEAR = 0;
constexpr int RELU = 1;
constexpr int LEAKY_RELU = 2;
constexpr int SIGMOID = 3;
constexpr int TANH = 4;

// Loss codes (numpy_kernels.py holds the same numbers).
constexpr int BINARY_CROSS_ENTROPY = 0;
constexpr int CATEGORICAL_CROSS_ENTROPY = 1;
constexpr int SQUARED_ERROR = 2;

// Overloads that pick the float function for float and the double one for double.
namespace math {
__host__ __device__ inline float exp(float x) { return ::expf(x); }
__host__ __device__ inline double exp(double x) { return ::exp(x); }
__host__ __device__ inline float log(float x) { return ::logf(x); }
__host__ __device__ inline double log(double x) { return ::log(x); }
__host__ __device__ inline float log1p(float x) { return ::log1pf(x); }
__host__ __device__ inline double log1p(double x) { return ::log1p(x); }
__host__ __device__ inline float tanh(float x) { return ::tanhf(x); }
__host__ __device__ inline double tanh(double x) { return ::tanh(x); }
__host__ __device__ inline float abs(float x) { return ::fabsf(x); }
__host__ __device__ inline double abs(double x) { return ::fabs(x); }
__host__ __device__ inline bool isfinite(float x) { return ::isfinite(x); }
__host__ __device__ inline bool isfinite(double x) { return ::isfinite(x); }

// max(a, b) as np.maximum computes it: NaN if either is NaN.
template <typename T>
__host__ __device__ inline T maximum(T a, T b) {
    return (a > b || a != a) ? a : b;
}
}  // namespace math

// σ(z) = 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) for z < 0, both as (z >= 0 ? 1 : e) / (1 + e)
// with e = e^-|z|: e never overflows, so neither does σ, for any z.
template <typename T>
__host__ __device__ inline T sigmoid(T z) {
    const T e = math::exp(-math::abs(z));
    return (z >= T(0) ? T(1) : e) / (e + T(1));
}

// a = g(z): linear z; relu max(z, 0); leaky_relu max(z, alpha·z); sigmoid σ(z); tanh tanh(z).
// The launchers reject unknown codes; anything else is linear here.
template <typename T>
__host__ __device__ inline T activate(int activation, T z, T alpha) {
    switch (activation) {
        case RELU: return math::maximum(z, T(0));
        case LEAKY_RELU: return math::maximum(z, z * alpha);
        case SIGMOID: return sigmoid(z);
        case TANH: return math::tanh(z);
        default: return z;
    }
}

// g'(z) written through the output a = g(z): relu [a > 0]; leaky_relu 1 if a > 0 else alpha;
// sigmoid (1 - a)·a; tanh 1 - a²; linear 1.
template <typename T>
__host__ __device__ inline T slope_from_output(int activation, T a, T alpha) {
    switch (activation) {
        case RELU: return a > T(0) ? T(1) : T(0);
        case LEAKY_RELU: return a > T(0) ? T(1) : alpha;
        case SIGMOID: return (T(1) - a) * a;
        case TANH: return T(1) - a * a;
        default: return T(1);
    }
}

// g'(z) from the pre-activation z: relu, leaky_relu and linear read the sign of z as that of a
// (alpha >= 0); sigmoid and tanh compute a = g(z) first.
template <typename T>
__host__ __device__ inline T slope_from_input(int activation, T z, T alpha) {
    const bool through_output = activation == SIGMOID || activation == TANH;
    return slope_from_output(activation, through_output ? activate(activation, z, alpha) : z, alpha);
}

}  // namespace deepnet
