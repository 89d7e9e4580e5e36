#!/usr/bin/env bash
# Every GPU figure of vidstyle in one command, for a GPU machine available for a few minutes.
#
#   bash benchmarks/gpu_check.sh [gpu_check.py options]          # from anywhere in the checkout
#   VIDSTYLE_GPU_VENV=.venv bash benchmarks/gpu_check.sh --device cpu --quick   # an existing venv: no install
#   VIDSTYLE_COMMIT=<hash> bash benchmarks/gpu_check.sh           # names the commit where the copy has no .git
#
# Where pip reaches the package index: makes a venv (python3 -m venv, else virtualenv where
# ensurepip is missing; it sees the python's own packages, so a PyTorch already there is kept)
# and installs the checkout with pip install -e '.[test,train]' (the default Linux torch wheel
# carries CUDA; train brings the VGG16 that --style-image needs).
# Where it does not (a GPU image with PyTorch and no network): runs the machine's python3 with
# .gpu_wheels/site.tar.xz unpacked beside it, the pack that benchmarks/gpu_check_pack.sh makes
# on a machine with pip (PyAV and the VGG16 layers --style-image uses), carried along with the
# checkout. $VIDSTYLE_GPU_VENV names a venv to use as it is. Then runs benchmarks/gpu_check.py
# (its docstring lists the steps) with the time that is left. Each step runs under `timeout`
# and prints its duration, so a slow install shows; the whole run stays within
# $VIDSTYLE_GPU_CHECK_S seconds (default 450) plus a few seconds to write results.
#
# Results: benchmarks/results/gpu_check.json (--quick: gpu_check_quick.json), saved after every
# step. With $OUT set (the GPU tool fetches only files under it) the JSON is copied there and the
# log is written there as gpu_check.log.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
TOTAL=${VIDSTYLE_GPU_CHECK_S:-450}
START=$(date +%s)
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT" && LOG=$OUT/gpu_check.log
else
  LOG=${TMPDIR:-/tmp}/vidstyle-gpu_check.log
fi
exec > >(tee "$LOG") 2>&1
TEE=$!
SETUP=""

# seconds left of the budget less RESERVE, at least 30 (timeout 0 would mean no limit)
left() {
  local s=$((TOTAL - $(date +%s) + START - $1))
  echo $((s < 30 ? 30 : s))
}

# step NAME SECONDS CMD...: CMD under timeout; prints and records its duration and exit status
step() {
  local name=$1 limit=$2 t0 rc ms
  shift 2
  t0=$(date +%s%N)
  timeout -k 5 "$limit" "$@"
  rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  printf '[gpu_check.sh] %s: %d.%01d s (limit %d s), exit %d%s\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) \
    "$limit" "$rc" "$([ "$rc" = 124 ] || [ "$rc" = 137 ] && echo ' TIMED OUT')"
  SETUP="$SETUP$name $((ms / 1000)) s (exit $rc); "
  return "$rc"
}

finish() {
  local rc=$1 f
  if [ -n "${OUT:-}" ]; then
    for f in benchmarks/results/gpu_check.json benchmarks/results/gpu_check_quick.json; do
      if [ -f "$f" ] && [ "$(stat -c %Y "$f")" -ge "$START" ]; then cp "$f" "$OUT/"; fi
    done
  fi
  echo "[gpu_check.sh] done in $(($(date +%s) - START)) s, exit $rc"
  exec >&- 2>&-
  wait "$TEE" 2>/dev/null  # the log is complete before the command returns
  exit "$rc"
}

echo "[gpu_check.sh] $(date -u +%FT%TZ) in $REPO, budget $TOTAL s"
if command -v nvidia-smi >/dev/null; then
  timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi

# the first python >= 3.10 on the PATH ($VIDSTYLE_PYTHON first), with PyTorch when one has it
PY=""
for want in torch ""; do
  for p in ${VIDSTYLE_PYTHON:-} python3 python3.13 python3.12 python3.11 python3.10; do
    if command -v "$p" >/dev/null && "$p" -c "import sys; assert sys.version_info >= (3, 10); ${want:+import $want}" 2>/dev/null; then
      PY=$p
      break 2
    fi
  done
done
PACK=$REPO/.gpu_wheels/site.tar.xz
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off PIP_NO_INPUT=1
if [ -n "${VIDSTYLE_GPU_VENV:-}" ]; then
  PYBIN=$VIDSTYLE_GPU_VENV/bin/python
  echo "[gpu_check.sh] using $VIDSTYLE_GPU_VENV as it is (no install)"
elif [ -n "$PY" ] && [ -f "$PACK" ]; then
  # no package index: the machine's own python (PyTorch) plus the pack of gpu_check_pack.sh
  PYBIN=$(command -v "$PY")
  SITE=${TMPDIR:-/tmp}/vidstyle-gpu-site
  echo "[gpu_check.sh] $($PY --version) at $PYBIN with the packages of $PACK"
  rm -rf "$SITE"
  step unpack 120 "$PY" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$PACK" "$SITE" \
    || { echo "error: cannot unpack $PACK"; finish 1; }
  export PYTHONPATH="$SITE/site${PYTHONPATH:+:$PYTHONPATH}" VIDSTYLE_CACHE=$SITE/cache VIDSTYLE_GPU_OFFLINE=1
else
  [ -n "$PY" ] || { echo "error: no python 3.10 or newer found"; finish 1; }
  probe=$(mktemp -d)
  if ! step index-probe 45 "$PY" -m pip download -q --no-deps --timeout 10 --retries 0 -d "$probe" click; then
    # no package index and no pack: measure what the machine's python can run; steps that
    # need a missing package fail with its name
    PYBIN=$(command -v "$PY")
    echo "[gpu_check.sh] no package index and no $PACK (made by benchmarks/gpu_check_pack.sh): running $PYBIN as it is"
    export VIDSTYLE_GPU_OFFLINE=1
  else
    VENV=${VIDSTYLE_GPU_VENV_DIR:-${TMPDIR:-/tmp}/vidstyle-gpu-venv}
    PYBIN=$VENV/bin/python
    echo "[gpu_check.sh] $($PY --version) at $(command -v "$PY"), venv $VENV"
    if [ ! -x "$PYBIN" ]; then
      # the machine's own packages stay visible: a PyTorch it has is not downloaded again
      if ! step venv 60 "$PY" -m venv --system-site-packages "$VENV"; then
        rm -rf "$VENV"  # no ensurepip (Debian without python3-venv): virtualenv brings its own pip
        step virtualenv 120 sh -c "$PY -m pip install -q --user virtualenv || $PY -m pip install -q --user --break-system-packages virtualenv" \
          && step venv 60 "$PY" -m virtualenv -q --system-site-packages "$VENV" || { echo "error: cannot make a venv"; finish 1; }
      fi
    fi
    step pip-upgrade 60 "$PYBIN" -m pip install -q --upgrade pip  # an old pip cannot install -e from pyproject
    step install "$(left 150)" "$PYBIN" -m pip install -q -e ".[test,train]" \
      || { echo "error: pip install -e '.[test,train]' failed"; finish 1; }
  fi
  rm -rf "$probe"
fi

export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"  # the checkout's code, whatever the venv has installed
export VIDSTYLE_GPU_CHECK_SETUP="$SETUP"
LEFT=$(left 5)
step gpu_check $((LEFT + 20)) "$PYBIN" benchmarks/gpu_check.py --time-left "$LEFT" "$@"
finish $?
