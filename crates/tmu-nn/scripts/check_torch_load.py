"""Loads tmu model artifacts into the equivalent PyTorch modules with
`load_state_dict(strict=True)` and compares their eval-mode logits and features with the values
the Rust side computed.

    cargo run -p tmu-nn --example export_models -- /tmp/tmu-models
    python3 crates/tmu-nn/scripts/check_torch_load.py /tmp/tmu-models

Needs torch and numpy. Exits non-zero if a file does not load or an output differs by more than
1e-4 (max abs).
"""

import glob
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import st  # noqa: E402
import torch_models  # noqa: E402

TOL = 1e-4


def check(model_path, probe_path):
    tensors, meta = st.load(model_path)
    assert meta["tmu.kind"] == "model", f"{model_path}: not a model artifact"
    arch = json.loads(meta["tmu.arch_config"])
    shape = json.loads(meta["tmu.input_shape"])
    classes = json.loads(meta["tmu.classes"])
    module = torch_models.build(arch, shape, len(classes))
    state = {k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}
    module.load_state_dict(state, strict=True)
    module.eval()
    probe, _ = st.load(probe_path)
    with torch.no_grad():
        features, logits = module.forward_features(torch.from_numpy(np.array(probe["x"])))
    errors = {
        "logits": float(np.abs(logits.numpy() - probe["logits"]).max()),
        "features": float(np.abs(features.numpy() - probe["features"]).max()),
    }
    ok = all(e <= TOL for e in errors.values())
    print(f"{os.path.basename(model_path)}: {meta['tmu.arch']}, {len(tensors)} tensors loaded strictly, "
          f"max abs error logits {errors['logits']:.2e}, features {errors['features']:.2e}"
          f" {'ok' if ok else 'MISMATCH'}")
    return ok


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "."
    models = sorted(p for p in glob.glob(os.path.join(folder, "*.safetensors")) if not p.endswith(".probe.safetensors"))
    if not models:
        sys.exit(f"no model files in {folder}")
    ok = all([check(m, m[: -len(".safetensors")] + ".probe.safetensors") for m in models])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
