#!/usr/bin/env bash
# The checks and measurements that need a GPU, in one command: run it from the repository root on
# a machine with an NVIDIA GPU, CuPy, PyTorch, pytest and pytest-benchmark. Nothing is installed:
# it runs from the source tree.
#
#   bash benchmarks/gpu_session.sh OUT_DIR [STEP ...]
#
# Steps, in this order when none is named:
#   machine       nvidia-smi, versions, deepnet info, and the CUDA backend itself (our kernels
#                 compiled, cuBLAS loaded): it fails where the GPU is not usable, which the other
#                 steps would pass over (the GPU tests skip, bench measures the CPU alone)
#   gpu-tests     pytest -m gpu (kernels against their NumPy twins, training CPU vs GPU, ...)
#   tests         the rest of the test suite, on this machine
#   sanitizer     compute-sanitizer memcheck, initcheck, racecheck and synccheck over
#                 benchmarks/sanitizer_workload.py (initcheck with CuPy's own reduction kernels
#                 instead of CUB's, whose decoupled look-back initcheck reports as uninitialised
#                 reads: NVIDIA/cccl#1889, #2104); each tool stops after $SANITIZER_LIMIT_S
#                 seconds (140 unless set), so the four fit in a 10-minute call. The workload
#                 runs once without the sanitizer first (both ways), so that the kernel cache
#                 holds every kernel and no tool spends its time compiling
#   first-step    benchmarks/first_step.py twice on an empty kernel cache: compiling, then loading
#   bench         deepnet bench --device all: bench.json, bench.md, bench.png
#   breakdown     python -m deepnet_gpu.bench_breakdown: each network's step, call by call, on the
#                 GPU: breakdown.json, breakdown.md
#   pytest-bench  pytest benchmarks/: pytest-benchmark.json
# OUT_DIR receives session.log (each step's command, output and exit status) and the files the
# steps write; the script exits 1 if any step failed.
set -u

out=${1:?usage: bash benchmarks/gpu_session.sh OUT_DIR [STEP ...]}
shift
all_steps="machine gpu-tests tests sanitizer first-step bench breakdown pytest-bench"
steps=${*:-$all_steps}
for name in $steps; do
    case " $all_steps " in
        *" $name "*) ;;
        *) echo "unknown step '$name'; the steps are: $all_steps" >&2
           exit 2 ;;
    esac
done
mkdir -p "$out"
log="$out/session.log"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
command -v compute-sanitizer >/dev/null || PATH="$PATH:/usr/local/cuda/bin"
failed=0
sanitizer_limit=${SANITIZER_LIMIT_S:-140}

step() {
    local name=$1
    shift
    echo "=== $name: $* ($(date -u +%Y-%m-%dT%H:%M:%SZ))" >>"$log"
    local started=$SECONDS
    "$@" >>"$log" 2>&1
    local rc=$?
    echo "=== $name: exit $rc after $((SECONDS - started)) s" >>"$log"
    echo "$name: exit $rc after $((SECONDS - started)) s"
    [ "$rc" -eq 0 ] || failed=1
}

machine() {
    nvidia-smi &&
        python3 -c 'import sys, numpy, cupy; print(sys.version); print("numpy", numpy.__version__, "cupy", cupy.__version__)' &&
        python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' &&
        python3 -m deepnet_gpu info &&
        python3 -c 'from deepnet_gpu.backend import get_backend; print("CUDA backend:", get_backend("cuda").device)'
}

warm_kernel_cache() {
    python3 benchmarks/sanitizer_workload.py && CUPY_ACCELERATORS= python3 benchmarks/sanitizer_workload.py
}

first_step() {
    local cache
    cache=$(mktemp -d)
    CUPY_CACHE_DIR=$cache python3 benchmarks/first_step.py && CUPY_CACHE_DIR=$cache python3 benchmarks/first_step.py
}

for name in $steps; do
    case $name in
        machine) step machine machine ;;
        gpu-tests) step gpu-tests python3 -m pytest -m gpu -q -rs -p no:cacheprovider ;;
        tests) step tests python3 -m pytest -m "not gpu" -q -p no:cacheprovider ;;
        sanitizer)
            step sanitizer-warm-up warm_kernel_cache
            for tool in memcheck initcheck racecheck synccheck; do
                settings=""
                [ "$tool" = initcheck ] && settings="CUPY_ACCELERATORS="
                step "$tool" env ${settings:+"$settings"} timeout "$sanitizer_limit" \
                    compute-sanitizer --tool "$tool" --error-exitcode 1 python3 benchmarks/sanitizer_workload.py
            done
            ;;
        first-step) step first-step first_step ;;
        bench) step bench python3 -m deepnet_gpu bench --device all \
            --json "$out/bench.json" --markdown "$out/bench.md" --plot "$out/bench.png" ;;
        breakdown) step breakdown python3 -m deepnet_gpu.bench_breakdown --device cuda \
            --json "$out/breakdown.json" --markdown "$out/breakdown.md" ;;
        pytest-bench) step pytest-bench python3 -m pytest benchmarks -q -p no:cacheprovider \
            --benchmark-json "$out/pytest-benchmark.json" ;;
    esac
done
exit "$failed"
