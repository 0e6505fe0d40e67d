"""The C signature of every ``__global__`` kernel in ``kernels/``, with ``T`` for the element type.

The host harness generates its ``extern "C"`` wrappers and ctypes prototypes from this table, and
the nvcc test its explicit template instantiations; a test checks that the table names exactly the
kernels the ``.cu`` files define, with the parameter types they declare.
"""

from __future__ import annotations

KERNEL_SIGNATURES: dict[str, tuple[str, ...]] = {
    "activation_forward": ("const T*", "T*", "long long", "int", "T"),
    "bias_activation_forward": ("T*", "const T*", "T*", "long long", "long long", "int", "T"),
    "activation_backward_from_a": ("const T*", "const T*", "T*", "long long", "int", "T"),
    "activation_backward_from_z": ("const T*", "const T*", "T*", "long long", "int", "T"),
    "bias_softmax": ("T*", "const T*", "T*", "long long", "long long"),
    "output_gradient": ("const T*", "const T*", "T*", "long long"),
    "loss_terms": ("const T*", "const T*", "T*", "long long", "long long", "int"),
    "accumulate_cost": ("const T*", "T", "T*", "T*"),
    "sgd_update": ("T*", "const T*", "T", "const T*", "long long"),
}

ELEMENT_TYPES = ("float", "double")


def parameter_types(kernel: str, element_type: str) -> list[str]:
    """The kernel's parameter types with ``T`` replaced by ``element_type``."""
    return [parameter.replace("T", element_type) for parameter in KERNEL_SIGNATURES[kernel]]


def explicit_instantiation(kernel: str, element_type: str) -> str:
    """``template __global__ void kernel<float>(const float*, ...);`` for nvcc to compile."""
    parameters = ", ".join(parameter_types(kernel, element_type))
    return f"template __global__ void {kernel}<{element_type}>({parameters});"
