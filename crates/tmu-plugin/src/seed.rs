//! Seed derivation shared by host and plugins: one pipeline seed, independent named streams.

/// Mixes a 64-bit state (splitmix64's finaliser: a bijection with full avalanche).
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of stream `label` under `seed`: FNV-1a of the label, mixed with the parent seed.
///
/// Stable across platforms and releases: changing it changes every cached result.
pub fn derive_seed(seed: u64, label: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(mix64(seed ^ 0x9e37_79b9_7f4a_7c15) ^ h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_are_stable() {
        let a = derive_seed(0, "original");
        let b = derive_seed(0, "gold");
        let c = derive_seed(1, "original");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, derive_seed(0, "original"));
        // Pinned so that an accidental change (which would invalidate every cache) is caught.
        assert_eq!(derive_seed(0, ""), mix64(mix64(0x9e37_79b9_7f4a_7c15) ^ 0xcbf2_9ce4_8422_2325));
    }
}
