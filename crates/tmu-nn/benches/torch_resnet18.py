"""Reference throughput of a CIFAR-style ResNet-18 training step in PyTorch.

Prints one line per mode: images/s for forward+backward+SGD step on random
3x32x32 inputs.  Used as the anchor that the project's candle training step is
compared against, on the same machine in the same run (see compare_train_step.py).

Copied from the project's shared bench script; changes: the printed line gives one
decimal and the number of threads PyTorch used, and a 4th argument N
sets torch.set_num_threads(N) (default: PyTorch's own default, the number of
physical cores).
"""
import sys, time, torch, torch.nn as nn, torch.nn.functional as F

class Block(nn.Module):
    def __init__(s, i, o, stride):
        super().__init__()
        s.c1 = nn.Conv2d(i, o, 3, stride, 1, bias=False); s.b1 = nn.BatchNorm2d(o)
        s.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(o)
        s.sc = nn.Sequential()
        if stride != 1 or i != o:
            s.sc = nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), nn.BatchNorm2d(o))
    def forward(s, x):
        y = F.relu(s.b1(s.c1(x))); y = s.b2(s.c2(y)); return F.relu(y + s.sc(x))

class ResNet18(nn.Module):
    def __init__(s, n=10):
        super().__init__()
        s.c = nn.Conv2d(3, 64, 3, 1, 1, bias=False); s.b = nn.BatchNorm2d(64)
        L, i = [], 64
        for o, st in [(64,1),(64,1),(128,2),(128,1),(256,2),(256,1),(512,2),(512,1)]:
            L.append(Block(i, o, st)); i = o
        s.layers = nn.Sequential(*L); s.fc = nn.Linear(512, n)
    def forward(s, x):
        x = F.relu(s.b(s.c(x))); x = s.layers(x)
        return s.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

def bench(dev, batch, steps, mode):
    torch.backends.cuda.matmul.allow_tf32 = mode != "fp32"
    torch.backends.cudnn.allow_tf32 = mode != "fp32"
    m = ResNet18().to(dev)
    x = torch.randn(batch, 3, 32, 32, device=dev); y = torch.randint(0, 10, (batch,), device=dev)
    if mode == "bf16-cl":
        m = m.to(memory_format=torch.channels_last); x = x.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=(mode == "bf16-cl")):
            loss = F.cross_entropy(m(x), y)
        loss.backward(); opt.step()
    for _ in range(3): step()
    if dev == "cuda": torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps): step()
    if dev == "cuda": torch.cuda.synchronize()
    dt = time.perf_counter() - t
    print(f"torch {dev} {mode} batch={batch} threads={torch.get_num_threads()} {batch*steps/dt:.1f} img/s ({dt/steps*1e3:.1f} ms/step)", flush=True)

if __name__ == "__main__":
    dev = sys.argv[1] if len(sys.argv) > 1 else ("cuda" if torch.cuda.is_available() else "cpu")
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    modes = ["fp32"] if dev == "cpu" else ["fp32", "tf32", "bf16-cl"]
    torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else torch.get_num_threads())
    for mode in modes: bench(dev, batch, steps, mode)
