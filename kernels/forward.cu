// Forward activation kernels over a layer's (rows, m) matrices, stored C-order as n = rows·m values,
// moved in 16-byte packs (elementwise.cuh).
#include "activations.cuh"
#include "common.cuh"
#include "elementwise.cuh"

// A = g(Z), elementwise over n values. A may be Z.
template <typename T>
__device__ void activation_forward(const T* Z, T* A, long long n, int activation, T alpha) {
    deepnet::map(A, n, [=](T z) { return deepnet::activate(activation, z, alpha); }, Z);
}

namespace deepnet {

// Z[i] += b[row], A[i] = g(Z[i]) for the `count` values from index i on, which start at (row, column).
template <typename T>
__device__ inline void bias_activate(T* Z, const T* b, T* A, long long row, long long column, long long m,
                                     int activation, T alpha, int count) {
    for (int k = 0; k < count; ++k) {
        const T z = Z[k] + b[row];
        Z[k] = z;
        A[k] = activate(activation, z, alpha);
        if (++column == m) {
            column = 0;
            ++row;
        }
    }
}

}  // namespace deepnet

// Z += b, then A = g(Z): Z is (rows, m), b is (rows, 1), so element i adds b[i / m], the row
// walked to rather than divided for (a pack may span rows). A may be Z.
template <typename T>
__device__ void bias_activation_forward(T* Z, const T* b, T* A, long long rows, long long m,
                                        int activation, T alpha) {
    if (m < 1) {
        return;
    }
    using Pack = deepnet::Pack<T>;
    const long long n = rows * m;
    long long first_single = 0;
    if (deepnet::on_pack_boundary(Z) && deepnet::on_pack_boundary(A)) {
        const long long packed = n / Pack::size * Pack::size;
        Pack* Z_packs = reinterpret_cast<Pack*>(Z);
        Pack* A_packs = reinterpret_cast<Pack*>(A);
        const long long first = deepnet::grid_start() * Pack::size;
        for (deepnet::RowWalk at(m, first, deepnet::grid_stride() * Pack::size); at.i < packed; at.next()) {
            Pack z = Z_packs[at.i / Pack::size];
            Pack a;
            deepnet::bias_activate(z.v, b, a.v, at.row, at.column, m, activation, alpha, Pack::size);
            Z_packs[at.i / Pack::size] = z;
            A_packs[at.i / Pack::size] = a;
        }
        first_single = packed;
    }
    const long long first = first_single + deepnet::grid_start();
    for (deepnet::RowWalk at(m, first, deepnet::grid_stride()); at.i < n; at.next()) {
        deepnet::bias_activate(Z + at.i, b, A + at.i, at.row, at.column, m, activation, alpha, 1);
    }
}
