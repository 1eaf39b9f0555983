"""The reference side of `cargo xtask bench data`: the same work as tmu's data-set stages, done
the way a Python user would do it, on the files the Rust bench just generated, in the same run.

    python3 plugins/tmu-datasets/examples/bench_reference.py <scratch folder> <cifar|faces> [runs]

- cifar: NumPy reads the six CIFAR-10 binary files (`np.fromfile`), splits labels and CHW
  images, concatenates train and test and writes them to one `.npy` file (tmu writes its data-set
  artifact too);
- faces: Pillow decodes the 1,000 JPEGs, crops each to its bounding box, centre-crops the square
  and resizes to 112x112 (bilinear), as `dataset.vggface2` does, in a process pool with one
  worker per core (tmu decodes in parallel with rayon).

Prints one `<what>: <seconds> s` line per run; the Rust bench parses them.
"""

import csv
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def cifar(root):
    d = os.path.join(root, "cifar-10-batches-bin")
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    recs = [np.fromfile(os.path.join(d, n), dtype=np.uint8).reshape(-1, 3073) for n in names]
    labels = np.concatenate([r[:, 0] for r in recs])
    images = np.concatenate([r[:, 1:].reshape(-1, 3, 32, 32) for r in recs])
    assert labels.max() < 10
    with tempfile.NamedTemporaryFile(dir=root, suffix=".npy") as f:
        np.save(f, images)
        f.flush()
        os.fsync(f.fileno())
    return images.shape[0]


def face(job):
    from PIL import Image

    path, (x, y, w, h) = job
    with Image.open(path) as img:
        img = img.convert("RGB").crop((x, y, x + w, y + h))
        side = min(img.width, img.height)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        img = img.crop((left, top, left + side, top + side)).resize((112, 112), Image.BILINEAR)
        return np.asarray(img).transpose(2, 0, 1).copy()


def faces(root, pool):
    base = os.path.join(root, "vggface2")
    jobs = []
    with open(os.path.join(base, "bb_landmark", "loose_bb_train.csv")) as f:
        for row in csv.DictReader(f):
            box = tuple(int(row[k]) for k in ("X", "Y", "W", "H"))
            jobs.append((os.path.join(base, "train", row["NAME_ID"] + ".jpg"), box))
    out = np.stack(list(pool.map(face, jobs, chunksize=16)))
    return out.shape[0]


def main():
    root, which = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        for r in range(1, runs + 1):
            start = time.perf_counter()
            n = cifar(root) if which == "cifar" else faces(root, pool)
            print(f"{which} run {r} ({n} images): {time.perf_counter() - start:.3f} s", flush=True)


if __name__ == "__main__":
    main()
