"""The kernels' entry points: one C function per kernel and element type, made from one table.

Every kernel in ``kernels/*.cu`` is a ``template <typename T> __device__ void`` function. A GPU
launches it through an entry point with C linkage, generated from :data:`KERNEL_SIGNATURES` and
appended to the file's source before NVRTC compiles it::

    extern "C" __global__ void sgd_update_float(float* a0, const float* a1, float a2,
                                                const float* a3, long long a4) {
        sgd_update<float>(a0, a1, a2, a3, a4);
    }

Plain C names let CuPy's kernel disk cache work with every CuPy our extras allow (13 and later):
a new process loads the binaries an earlier one compiled instead of compiling again. CuPy 13
never reads a cached binary back for a module built with ``name_expressions`` (the way to reach a
template by its C++ name); 14.1 began to, but missed the cache for some spellings
(cupy/cupy#10173, fixed in 14.2 by cupy/cupy#10177). The host harness of the test suite
(``tests/host_harness``) wraps the same templates in host functions made from the same table, so
both run the very same kernel code.
"""

from __future__ import annotations

import numpy as np

KERNEL_FILES: dict[str, tuple[str, ...]] = {
    "forward.cu": ("activation_forward", "bias_activation_forward"),
    "backward.cu": ("activation_backward_from_a", "activation_backward_from_z"),
    "output.cu": ("bias_softmax", "output_gradient", "loss_terms"),
    "update.cu": ("accumulate_cost", "sgd_update"),
}

KERNEL_SIGNATURES: dict[str, tuple[str, ...]] = {
    "activation_forward": ("const T*", "T*", "long long", "int", "T"),
    "bias_activation_forward": ("T*", "const T*", "T*", "long long", "long long", "int", "T"),
    "activation_backward_from_a": ("const T*", "const T*", "T*", "long long", "int", "T"),
    "activation_backward_from_z": ("const T*", "const T*", "T*", "long long", "int", "T"),
    "bias_softmax": ("T*", "const T*", "T*", "long long", "long long"),
    "output_gradient": ("const T*", "const T*", "T*", "long long"),
    "loss_terms": ("const T*", "const T*", "T*", "long long", "long long", "int"),
    "accumulate_cost": ("const T*", "long long", "T", "T*", "T*"),
    "sgd_update": ("T*", "const T*", "T", "const T*", "long long"),
}
"""The parameter types of every kernel, ``T`` standing for the element type."""

ELEMENTS, COLUMNS, ONE_BLOCK = "elements", "columns", "one block"

KERNEL_LAUNCHES: dict[str, str] = {
    "activation_forward": ELEMENTS,
    "bias_activation_forward": ELEMENTS,
    "activation_backward_from_a": ELEMENTS,
    "activation_backward_from_z": ELEMENTS,
    "bias_softmax": COLUMNS,
    "output_gradient": ELEMENTS,
    "loss_terms": COLUMNS,
    "accumulate_cost": ONE_BLOCK,
    "sgd_update": ELEMENTS,
}
"""How each kernel spreads its work, which fixes the shape of its launch:

* ``ELEMENTS``: a grid-stride loop over single values; one-dimensional blocks;
* ``COLUMNS``: column tiles (``kernels/output.cu``); blocks of columns × lanes, any number of
  blocks;
* ``ONE_BLOCK``: a reduction that block 0 does alone (``kernels/update.cu``); one block suffices.
"""

ELEMENT_TYPES: dict[np.dtype, str] = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
"""The C element type ``T`` of the kernels for each NumPy dtype they run on."""

CUDA_ENTRY = 'extern "C" __global__'


def entry_name(kernel: str, element_type: str) -> str:
    """The C name of ``kernel<element_type>``'s entry point, e.g. ``sgd_update_float``."""
    return f"{kernel}_{element_type}"


def parameter_types(kernel: str, element_type: str) -> list[str]:
    """The kernel's parameter types with ``T`` replaced by ``element_type``."""
    return [parameter.replace("T", element_type) for parameter in KERNEL_SIGNATURES[kernel]]


def entry_point(
    kernel: str, element_type: str, qualifiers: str = CUDA_ENTRY, body: str = "{call};", leading: tuple[str, ...] = ()
) -> str:
    """The C++ source of one entry point: ``qualifiers void name(leading, parameters) { body }``,
    where ``{call}`` in ``body`` becomes the call of the kernel template with the entry's arguments
    (``leading`` declares parameters of the entry point's own, which the body may use)."""
    types = parameter_types(kernel, element_type)
    parameters = ", ".join([*leading, *(f"{ctype} a{index}" for index, ctype in enumerate(types))])
    arguments = ", ".join(f"a{index}" for index in range(len(types)))
    call = f"{kernel}<{element_type}>({arguments})"
    return (
        f"{qualifiers} void {entry_name(kernel, element_type)}({parameters}) {{\n"
        f"    {body.format(call=call)}\n"
        "}\n"
    )


def entry_points(filename: str) -> str:
    """The CUDA entry points of every kernel in ``filename`` (a key of :data:`KERNEL_FILES`), for
    float and double, to append to that file's source."""
    return "".join(
        entry_point(kernel, element_type)
        for kernel in KERNEL_FILES[filename]
        for element_type in ELEMENT_TYPES.values()
    )
