// Kernels that close a step: the cost, kept on the device with the guard that stops the updates, and
// the SGD update.
#include "activations.cuh"
#include "block_reduce.cuh"
#include "common.cuh"
#include "elementwise.cuh"

// epoch_cost += Σ scale·terms, where terms holds the n losses of a batch and scale is 1/m of the
// epoch's m examples: each term is scaled before it is added, so the sum overflows only where the
// mean cost itself does. Then, if epoch_cost is not finite, guard = epoch_cost: the guard (zero to
// begin with) keeps the first non-finite cost for good, and sgd_update skips every step from it on.
// Block 0 does it all: its threads sum strided slices of terms, block_sum combines them and
// thread (0, 0) adds, so any launch configuration adds exactly once.
template <typename T>
__device__ void accumulate_cost(const T* terms, long long n, T scale, T* epoch_cost, T* guard) {
    if (blockIdx.x != 0) {
        return;
    }
    const long long threads = static_cast<long long>(blockDim.x) * blockDim.y;
    T sum = T(0);
    for (long long i = threadIdx.y * blockDim.x + threadIdx.x; i < n; i += threads) {
        sum += scale * terms[i];
    }
    sum = deepnet::block_sum(sum);
    if (threadIdx.x == 0 && threadIdx.y == 0) {
        *epoch_cost += sum;
        if (!deepnet::math::isfinite(*epoch_cost)) {
            *guard = *epoch_cost;
        }
    }
}

// params -= learning_rate·grads over n values of the flat parameter buffer (in 16-byte packs,
// elementwise.cuh), unless the single value *guard (the cost) is not finite, in which case the
// parameters are left as they are.
template <typename T>
__device__ void sgd_update(T* params, const T* grads, T learning_rate, const T* guard, long long n) {
    if (!deepnet::math::isfinite(*guard)) {
        return;
    }
    deepnet::map(params, n, [=](T p, T g) { return p - learning_rate * g; }, params, grads);
}
