// Lets g++ compile the CUDA kernel sources in kernels/ for the host: the CUDA qualifiers become
// plain C++, the built-in thread coordinates become globals, and launch() runs a kernel's body for
// every (block, thread) of a deliberately small grid.
//
// The blocks run one after another. Within a block every thread is a fiber (ucontext) on this one
// OS thread, so what a GPU block shares is shared here too, exactly and deterministically:
// * __shared__ variables become static locals: one copy for the kernel, which the block running
//   now has to itself;
// * __syncthreads() switches to the next thread of the block. Threads run in index order until
//   each has reached the barrier or finished, and only then does any go past it. So a value read
//   after a barrier is the one written before it, and a read that lacks its barrier sees the
//   value some other thread has not yet written (a missing __syncthreads fails the tests rather
//   than passing by luck);
// * a block whose threads do not all reach the same barrier (a barrier inside a branch that some
//   threads skip: undefined on a GPU) is stopped and reported through harness_error().
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include <ucontext.h>

using std::isfinite;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct dim3_like {
    unsigned int x, y, z;
};

inline dim3_like threadIdx, blockIdx, blockDim, gridDim;

namespace harness {

constexpr size_t STACK_BYTES = 64 * 1024;

struct Fiber {
    ucontext_t context;
    std::unique_ptr<char[]> stack{new char[STACK_BYTES]};
    bool at_barrier = false;
    bool finished = false;
};

inline ucontext_t scheduler;
inline Fiber* running = nullptr;
inline const std::function<void()>* body = nullptr;
inline std::vector<std::unique_ptr<Fiber>> fibers;
inline char error[256] = "";

inline void run_thread() {
    (*body)();
    running->finished = true;
}

// Run one block: start every thread, then let them all past each barrier in turn.
inline bool run_block(unsigned int threads) {
    while (fibers.size() < threads) {
        fibers.push_back(std::make_unique<Fiber>());
    }
    for (unsigned int t = 0; t < threads; ++t) {
        Fiber& fiber = *fibers[t];
        fiber.at_barrier = false;
        fiber.finished = false;
        getcontext(&fiber.context);
        fiber.context.uc_stack.ss_sp = fiber.stack.get();
        fiber.context.uc_stack.ss_size = STACK_BYTES;
        fiber.context.uc_link = &scheduler;
        makecontext(&fiber.context, run_thread, 0);
    }
    for (unsigned int barrier = 0;; ++barrier) {
        unsigned int waiting = 0;
        for (unsigned int t = 0; t < threads; ++t) {
            Fiber& fiber = *fibers[t];
            if (fiber.finished) {
                continue;
            }
            threadIdx = {t % blockDim.x, t / blockDim.x, 0};
            fiber.at_barrier = false;
            running = &fiber;
            swapcontext(&scheduler, &fiber.context);
            waiting += fiber.at_barrier;
        }
        if (waiting == 0) {
            return true;
        }
        if (waiting != threads) {
            std::snprintf(error, sizeof error,
                          "block %u: %u of its %u threads wait at barrier %u while the others have finished",
                          blockIdx.x, waiting, threads, barrier);
            return false;
        }
    }
}

}  // namespace harness

inline void __syncthreads() {
    harness::running->at_barrier = true;
    swapcontext(&harness::running->context, &harness::scheduler);
}

// Run body() as every thread of a grid of `grid` blocks of block.x × block.y threads.
inline void launch(unsigned int grid, dim3_like block, const std::function<void()>& body) {
    gridDim = {grid, 1, 1};
    blockDim = block;
    harness::body = &body;
    harness::error[0] = '\0';
    for (unsigned int b = 0; b < grid; ++b) {
        blockIdx = {b, 0, 0};
        if (!harness::run_block(block.x * block.y)) {
            return;
        }
    }
}

// The message of the last launch's failure, or "" when it ran to the end.
extern "C" const char* harness_error() { return harness::error; }
