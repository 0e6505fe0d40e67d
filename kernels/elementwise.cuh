// Elementwise maps with 16-byte memory accesses.
//
// A thread moves whole packs of 16 bytes (4 floats, 2 doubles) per load and per store, as a GPU's
// memory system serves best: four (float) or two (double) times the bytes in flight of
// single-value accesses from the same threads. A pack access needs its address on a 16-byte
// boundary, so packs are used only when every array of the call starts on one (every CuPy
// allocation does; a view into the middle of one may not); the values past the last whole pack,
// and every value of a call with an array off the boundary, are visited one at a time. The
// element type and the order of the operations on each value are the same either way, so the
// results are too.
//
// The grid-stride loops run over packs: a launch needs one thread per pack, not per value.
#pragma once

#include "common.cuh"

namespace deepnet {

constexpr int PACK_BYTES = 16;

// PACK_BYTES of consecutive values of T, loaded and stored as one access.
template <typename T>
struct alignas(PACK_BYTES) Pack {
    static constexpr int size = PACK_BYTES / sizeof(T);
    T v[size];
};

__device__ inline bool on_pack_boundary(const void* p) {
    return reinterpret_cast<unsigned long long>(p) % PACK_BYTES == 0;
}

// *out = (f(in.v[0]...), f(in.v[1]...), ...): the inputs arrive loaded, by value.
template <typename T, typename F, typename... Packs>
__device__ inline void map_pack(F f, Pack<T>* out, Packs... in) {
    Pack<T> result;
    for (int k = 0; k < Pack<T>::size; ++k) {
        result.v[k] = f(in.v[k]...);
    }
    *out = result;
}

// out[i] = f(in[i]...) for i < n, by packs where every array allows and singly for the rest.
// out may be one of the inputs: each value is read before it is written, by the same thread.
template <typename T, typename F, typename... Inputs>
__device__ void map(T* out, long long n, F f, const Inputs*... in) {
    long long first_single = 0;
    if ((on_pack_boundary(out) && ... && on_pack_boundary(in))) {
        const long long packs = n / Pack<T>::size;
        Pack<T>* out_packs = reinterpret_cast<Pack<T>*>(out);
        for (long long j = grid_start(); j < packs; j += grid_stride()) {
            map_pack(f, out_packs + j, reinterpret_cast<const Pack<Inputs>*>(in)[j]...);
        }
        first_single = packs * Pack<T>::size;
    }
    for (long long i = first_single + grid_start(); i < n; i += grid_stride()) {
        out[i] = f(in[i]...);
    }
}

}  // namespace deepnet
