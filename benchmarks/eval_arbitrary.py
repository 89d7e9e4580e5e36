"""Quality of the arbitrary-style decoder on paintings it never saw, against the per-style nets.

    python benchmarks/eval_arbitrary.py [--decoder weights/arbitrary/adain.safetensors] [--count 5] [--size 384x256]

For each held-out painting of ../shared/data/styles (those with a shipped per-style net) and
``--count`` photos of ../shared/data/content, it stylizes with AdaIN and with WCT (whitening and
colouring of the relu3_1 features, Li et al. 2017) through the same decoder, and with the shipped
per-style net, and prints per method: style loss (relative Gram error against the painting, VGG16
relu1_2..relu4_3, the per-style nets' training loss) and content loss (relative relu2_2 error
against the photo), averaged over the photos. A last line gives the decoder's reconstruction
(strength 0) PSNR against the photos.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _style_loss import StyleLoss

from _results import write_result
from vidstyle.models import arbitrary as A
from vidstyle.models.styles import load_style
from vidstyle.training import losses as L
from vidstyle.training.data import to_tensor

# ../shared/data beside the checkout, or beside a folder above it.
DATA = next((p / "shared" / "data" for p in Path(__file__).resolve().parents if (p / "shared" / "data").is_dir()),
            Path("../shared/data"))
SHARED_STYLES, CONTENT = DATA / "styles", DATA / "content"
HELD_OUT = {"van_gogh_starry_night": "starry_night", "munch_the_scream": "the_scream",
            "kandinsky_composition_vii": "composition_vii", "hokusai_great_wave": "great_wave"}


def photos(count: int, size: tuple[int, int]) -> list[torch.Tensor]:
    files = sorted(p for p in CONTENT.glob("*.jpg"))
    picked = files[len(files) // (2 * count):: max(1, len(files) // count)][:count]
    return [to_tensor(cv2.cvtColor(cv2.resize(cv2.imread(str(f)), size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
            for f in picked]


def wct(fc: torch.Tensor, fs: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Whiten ``fc`` ``[1,C,H,W]`` and colour it with ``fs``'s covariance and mean."""
    def centred(f):
        x = f[0].reshape(f.shape[1], -1).double()
        m = x.mean(1, keepdim=True)
        return x - m, m

    xc, _ = centred(fc)
    xs, ms = centred(fs)
    eye = torch.eye(xc.shape[0], dtype=torch.float64)
    dc, ec = torch.linalg.eigh(xc @ xc.T / (xc.shape[1] - 1) + eps * eye)
    ds, es = torch.linalg.eigh(xs @ xs.T / (xs.shape[1] - 1) + eps * eye)
    white = ec @ torch.diag(dc.clamp_min(eps).rsqrt()) @ ec.T @ xc
    out = es @ torch.diag(ds.clamp_min(0).sqrt()) @ es.T @ white + ms
    return out.reshape(fc.shape).to(fc.dtype)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--decoder", default=None, help="decoder .safetensors (default: the shipped one)")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--size", default="384x256", help="WxH of the photos")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    w, h = (int(v) for v in args.size.lower().split("x"))
    enc = A.load_encoder()
    dec, meta = A.load_decoder(args.decoder)
    print(f"decoder: {meta.get('training', {}).get('steps_done', '?')} steps; {args.count} photos at {w}x{h}")
    imgs = photos(args.count, (w, h))
    print(f"{'painting':<28} {'method':<20} {'style loss':>10} {'content loss':>12}")
    rows = []
    with torch.inference_mode():
        content_feats = [enc(x)[A.BOTTLENECK] for x in imgs]
        for stem, shipped in HELD_OUT.items():
            painting = SHARED_STYLES / f"{stem}.jpg"
            if not painting.exists():
                continue
            loss = StyleLoss(painting)
            style_img = A.read_style_image(painting)
            fs = enc(style_img)[A.BOTTLENECK]
            stats = A.style_stats(enc, style_img)
            net_adain = A.ArbitraryStyleNet(enc, dec, stats)
            per_style, _ = load_style(shipped)
            methods = {
                "adain": lambda x, fc: net_adain(x),
                "wct": lambda x, fc: dec(wct(fc, fs)).clamp(0, 1),
                f"net {shipped}": lambda x, fc: per_style(x).clamp(0, 1),
            }
            for name, run in methods.items():
                s_l, c_l = [], []
                for x, fc in zip(imgs, content_feats):
                    y = run(x, fc)
                    s_l.append(loss(y))
                    f_in = loss.vgg(x, layers=("relu2_2",))["relu2_2"]
                    c_l.append(float(L.content_loss(loss.vgg(y, layers=("relu2_2",))["relu2_2"], f_in)))
                print(f"{stem:<28} {name:<20} {np.mean(s_l):10.3f} {np.mean(c_l):12.3f}")
                rows.append({"painting": stem, "method": name, "style_loss": round(float(np.mean(s_l)), 3),
                             "content_loss": round(float(np.mean(c_l)), 3)})
        recon = [float(10 * torch.log10(1 / (dec(fc).clamp(0, 1) - x).pow(2).mean())) for x, fc in zip(imgs, content_feats)]
    print(f"reconstruction (strength 0): PSNR {np.mean(recon):.2f} dB")
    write_result("arbitrary_quality", {"decoder_steps": meta.get("training", {}).get("steps_done"),
                                       "photos": args.count, "size": [w, h], "rows": rows,
                                       "reconstruction_psnr_db": round(float(np.mean(recon)), 2)})


if __name__ == "__main__":
    main()
