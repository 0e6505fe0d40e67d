// Kernels that close a step: the running cost, kept on the device, and the SGD update.
#include "activations.cuh"
#include "common.cuh"

// epoch_cost += scale·batch_sum; running += scale·batch_sum. All four are single values; one thread
// of the grid does it, so any launch configuration adds exactly once.
template <typename T>
__device__ void accumulate_cost(const T* batch_sum, T scale, T* epoch_cost, T* running) {
    if (deepnet::grid_start() == 0) {
        const T contribution = *batch_sum * scale;
        *epoch_cost += contribution;
        *running += contribution;
    }
}

// params -= learning_rate·grads over n values of the flat parameter buffer, unless the single
// value *guard (the cost) is not finite, in which case the parameters are left as they are.
template <typename T>
__device__ void sgd_update(T* params, const T* grads, T learning_rate, const T* guard, long long n) {
    if (!deepnet::math::isfinite(*guard)) {
        return;
    }
    for (long long i = deepnet::grid_start(); i < n; i += deepnet::grid_stride()) {
        params[i] -= learning_rate * grads[i];
    }
}
