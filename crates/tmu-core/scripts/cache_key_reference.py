"""Independent reconstruction of tmu-core's cache key layout (src/cache.rs) for the pinned test.

Run by hand: `pip install blake3 && python3 crates/tmu-core/scripts/cache_key_reference.py`.
It prints the key of the `base()` ingredients in cache.rs's tests; `cache_key_is_pinned`
holds that value.
"""
import struct

import blake3


def field(h, tag: str, data: bytes) -> None:
    for part in (tag.encode(), data):
        h.update(struct.pack("<Q", len(part)))
        h.update(part)


def key(kind, plugin, config_canonical, seed, inputs, device):
    h = blake3.blake3()
    field(h, "domain", b"tmu.cache-key.v1")
    field(h, "kind", kind.encode())
    field(h, "plugin.name", plugin[0].encode())
    field(h, "plugin.version", plugin[1].encode())
    field(h, "plugin.binary_hash", plugin[2].encode())
    field(h, "config", config_canonical.encode())
    field(h, "seed", struct.pack("<Q", seed))
    field(h, "inputs", struct.pack("<Q", len(inputs)))
    for port, arity, items in inputs:
        field(h, "port", port.encode())
        field(h, "arity", arity.encode())
        field(h, "count", struct.pack("<Q", len(items)))
        for name, digest in items:
            if name is not None:
                field(h, "name", name.encode())
            field(h, "hash", digest.encode())
    field(h, "device", device.encode())
    return h.hexdigest()


print(key(
    "eval.unlearning",
    ("tmu-eval", "0.1.0", "abc"),
    '{"epochs":3,"lr":0.1}',
    7,
    [("models", "map", [("tmu", "h1"), ("ft", "h2")]), ("data", "one", [(None, "h3")])],
    "cpu",
))
