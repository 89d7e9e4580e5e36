#!/usr/bin/env bash
# Packs what gpu_check needs beyond a GPU image that has PyTorch but no package index, as
# .gpu_wheels/site.tar.xz, for gpu_check.sh to unpack there (it does when the file is present).
#
#   bash benchmarks/gpu_check_pack.sh          # here, where pip reaches PyPI; a few minutes (xz)
#   then on the GPU machine, with .gpu_wheels carried along:  bash benchmarks/gpu_check.sh
#
# Holds PyAV (a manylinux wheel for CPython >= 3.11, unpacked: vidstyle reads and writes video
# with it) and the Oxford VGG16 layers up to relu3_1 that the --style-image net encodes with,
# taken from the full conversion (vidstyle[train]) in this cache, as a cache file under the name
# vidstyle looks for. xz at its strongest keeps the checkout and the pack within the 64 MiB a
# device call carries. OpenVINO is left out: it runs nets on CPUs only.
set -eu -o pipefail
cd "$(dirname "$0")/.."
PACK=.gpu_wheels
rm -rf "$PACK" && mkdir -p "$PACK/site" "$PACK/cache"
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$PACK" "av>=12,<19"
(cd "$PACK/site" && for w in ../*.whl; do python3 -m zipfile -e "$w" .; done)
python3 - "$PACK/cache" <<'EOF'
import sys
from pathlib import Path

from safetensors.torch import save_file

from vidstyle.models.arbitrary import ENCODER_LAYERS
from vidstyle.models.vgg import load_oxford_vgg16_state

last = max(ENCODER_LAYERS.values())
state = {k: v.contiguous() for k, v in load_oxford_vgg16_state().items() if int(k.split(".")[0]) <= last}
save_file(state, str(Path(sys.argv[1]) / "vgg16_features_oxford_onnx.safetensors"))
print(f"VGG16 layers 0..{last}: {sum(v.numel() for v in state.values())} weights")
EOF
tar cf - -C "$PACK" site cache | xz -9e -T2 > "$PACK/site.tar.xz"
rm -rf "$PACK/site" "$PACK/cache" "$PACK"/*.whl
size=$(stat -c %s "$PACK/site.tar.xz")
tree=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s}')
echo "$PACK/site.tar.xz: $((size / 1048576)) MiB; with the checkout $(((size + tree) / 1048576)) MiB (a device call carries 64)"
