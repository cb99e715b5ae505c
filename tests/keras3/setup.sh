#!/usr/bin/env bash
# Virtual environments with the real Keras 3 for tests/keras3, one per backend set.
# Idempotent: a venv whose recorded requirements match is only checked, never reinstalled.
# TensorFlow stays out of the "jax" venv so that "runs without TensorFlow" means it; the
# "tensorflow" venv has jax and torch too, for programs that mix TF ops with the JAX or PyTorch
# backend (a Keras 2 program before its fix, run on the backend the rule is about).
set -euo pipefail
CACHE="${KERASFIX_TEST_CACHE:-$HOME/.cache/kerasfix-tests}"
VENVS="$CACHE/venvs"
mkdir -p "$VENVS"

# name|requirements (space separated)|requirements installed without their dependencies.
# Keep in sync with ENVS in tests/keras3/keras3_harness.py.
# tf-keras (Keras 2, which TensorFlow serves as `tf.keras` under TF_USE_LEGACY_KERAS=1) runs the
# migration corpus's programs as written: it asks for the `tensorflow` distribution, which is
# `tensorflow-cpu` here under another name, so it is installed without dependencies.
SPECS=(
    "jax|keras==3.15.1 jax==0.10.2 jaxlib==0.10.2 scikeras==0.13.0"
    "tensorflow|keras==3.15.1 tensorflow-cpu==2.21.0 jax==0.10.2 jaxlib==0.10.2 torch==2.13.0 scikeras==0.13.0|tf-keras==2.21.0"
    "torch|keras==3.15.1 torch==2.13.0 scikeras==0.13.0"
    "keras305|keras==3.0.5 jax==0.4.23 jaxlib==0.4.23 torch==2.13.0 numpy<2 scipy<1.13 ml-dtypes<0.3 packaging"
    "keras305tf|keras==3.0.5 tensorflow-cpu==2.16.2 numpy<2"
    "nnx|keras==3.15.1 jax==0.10.2 jaxlib==0.10.2 flax==0.12.8 orbax-checkpoint==0.12.4"
)

install() {
    local name="$1" reqs="$2" nodeps="$3" venv="$VENVS/$1"
    local stamp="$venv/.kerasfix-requirements" nodeps_stamp="$venv/.kerasfix-nodeps"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$reqs" ]; then
        echo "keras3 venv $name: up to date"
    else
        echo "keras3 venv $name: installing $reqs"
        rm -f "$VENVS/.hardlinked" "$nodeps_stamp"
        rm -rf "$venv"
        python3 -m venv "$venv"
        # shellcheck disable=SC2086 # one word per requirement
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $reqs
        "$venv/bin/python" -m pip check
        echo "$reqs" > "$stamp"
    fi
    if [ -n "$nodeps" ] && [ "$(cat "$nodeps_stamp" 2>/dev/null)" != "$nodeps" ]; then
        echo "keras3 venv $name: installing $nodeps without dependencies"
        rm -f "$VENVS/.hardlinked"
        # shellcheck disable=SC2086 # one word per requirement
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps $nodeps
        echo "$nodeps" > "$nodeps_stamp"
    fi
}

pids=()
logs=()
for spec in "${SPECS[@]}"; do
    IFS="|" read -r name reqs nodeps <<< "$spec"
    log="$VENVS/$name.log"
    install "$name" "$reqs" "$nodeps" > "$log" 2>&1 &
    pids+=("$!")
    logs+=("$log")
done
status=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then status=1; fi
    grep -v "is ignored: it is neither a file nor a directory" "${logs[$i]}" || true
done
# The venvs share wheels (the same torch in three, the same jax in three, keras, numpy...):
# one copy of each identical file, hard-linked into every venv, takes about 3 of their 8.6 GB
# off the disk. Mode and owner must match; install times may differ. Python writes its caches
# as new files and pip replaces files rather than editing them, so no venv changes another's.
# `hardlink` is util-linux's (Debian 12); without it the venvs simply stay as they are.
# Done again only after an install (a marker records it).
if [ "$status" -eq 0 ] && [ ! -e "$VENVS/.hardlinked" ] && command -v hardlink > /dev/null; then
    if hardlink --ignore-time --quiet "$VENVS"; then
        touch "$VENVS/.hardlinked"
    else
        echo "keras3 venvs: hardlink failed; the venvs work without it"
    fi
fi
exit "$status"
