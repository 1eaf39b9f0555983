"""Writes the PyTorch state_dicts that `model.import` is checked against (tests/it/import.rs).

    pip install torch safetensors numpy
    python3 plugins/tmu-train/tests/reference/make_import.py

A ResNet-18 in torchvision's layout (the CIFAR variant: 3x3 stem, no max-pool; `fc` replaced by
a 3-class head), width 4 so the files stay a few hundred KiB, built by the independent PyTorch
twins in crates/tmu-nn/tests/reference/torch_models.py, its batch-norm running statistics moved
off their defaults by three training-mode passes, then saved as PyTorch users save it:
- resnet18_w4.safetensors: `safetensors.torch.save_file(model.state_dict())`
- resnet18_w4.pt: `torch.save(model.state_dict())` (a zip of pickles)
- resnet18_w4_module.pt: the same under DataParallel's `module.` prefix
- resnet18_w4_f16.safetensors / resnet18_w4_bf16.safetensors: the floats halved
- resnet18_w4.probe.safetensors: a normalised batch `x` [4, 3, 8, 8] and the eval-mode `logits`
  PyTorch computes for it with the f32 weights.
"""

import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "crates", "tmu-nn", "tests", "reference"))
import torch_models  # noqa: E402

torch.manual_seed(14)
model = torch_models.build({"arch": "resnet18", "stem": "cifar", "width": 4}, [3, 8, 8], 3)
model.train()
with torch.no_grad():
    for _ in range(3):
        model.forward_features(torch.randn(8, 3, 8, 8))
model.eval()
state = {k: v.contiguous() for k, v in model.state_dict().items()}

save_file(state, os.path.join(HERE, "resnet18_w4.safetensors"))
torch.save(model.state_dict(), os.path.join(HERE, "resnet18_w4.pt"))
torch.save({"module." + k: v for k, v in model.state_dict().items()}, os.path.join(HERE, "resnet18_w4_module.pt"))
for name, dtype in [("f16", torch.float16), ("bf16", torch.bfloat16)]:
    half = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()}
    save_file(half, os.path.join(HERE, f"resnet18_w4_{name}.safetensors"))

x = torch.randn(4, 3, 8, 8)
with torch.no_grad():
    _, logits = model.forward_features(x)
save_file({"x": x, "logits": logits}, os.path.join(HERE, "resnet18_w4.probe.safetensors"))
print(f"{len(state)} tensors; logits[0] = {logits[0].tolist()}")
