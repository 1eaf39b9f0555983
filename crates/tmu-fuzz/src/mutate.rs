//! A deterministic mutator for the bounded fuzzing run in CI: stacked byte-level mutations of a
//! seed (bit flips, interesting values, inserted, deleted, duplicated and spliced ranges,
//! truncation, tokens of the format's vocabulary, long numbers), driven by a seeded ChaCha8.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Byte values that often sit on a reader's boundaries.
const INTERESTING: [u8; 9] = [0, 1, 0x7f, 0x80, 0xfe, 0xff, b'0', b'9', b'\n'];

/// Mutates seeds of one target; the sequence of inputs depends only on the seed value.
pub struct Mutator {
    rng: ChaCha8Rng,
    dictionary: &'static [&'static str],
    /// Inputs are kept under this many bytes.
    max_len: usize,
}

impl Mutator {
    pub fn new(seed: u64, dictionary: &'static [&'static str], max_len: usize) -> Mutator {
        Mutator { rng: ChaCha8Rng::seed_from_u64(seed), dictionary, max_len }
    }

    /// A new input: `base` with 1 to 8 mutations stacked, `other` a splice partner.
    pub fn mutate(&mut self, base: &[u8], other: &[u8]) -> Vec<u8> {
        let mut data = base.to_vec();
        let n = self.rng.random_range(1..=8);
        for _ in 0..n {
            self.once(&mut data, other);
        }
        data.truncate(self.max_len);
        data
    }

    fn pos(&mut self, len: usize) -> usize {
        if len == 0 { 0 } else { self.rng.random_range(0..len) }
    }

    fn once(&mut self, data: &mut Vec<u8>, other: &[u8]) {
        let len = data.len();
        match self.rng.random_range(0..10) {
            0 if len > 0 => {
                let i = self.pos(len);
                data[i] ^= 1 << self.rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = self.pos(len);
                data[i] = INTERESTING[self.rng.random_range(0..INTERESTING.len())];
            }
            2 => {
                let i = self.pos(len + 1);
                let k = self.rng.random_range(1..=16);
                let bytes: Vec<u8> = (0..k).map(|_| self.rng.random()).collect();
                data.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = self.pos(len);
                let k = self.rng.random_range(1..=(len - i).min(64));
                data.drain(i..i + k);
            }
            4 if len > 0 => {
                let i = self.pos(len);
                let k = self.rng.random_range(1..=(len - i).min(256));
                let copy = data[i..i + k].to_vec();
                let at = self.pos(len + 1);
                data.splice(at..at, copy);
            }
            5 if !other.is_empty() => {
                let i = self.pos(other.len());
                let k = self.rng.random_range(1..=(other.len() - i).min(512));
                let at = self.pos(len + 1);
                let cut = self.rng.random_range(0..=(len - at).min(512));
                data.splice(at..at + cut, other[i..i + k].iter().copied());
            }
            6 if len > 0 => {
                let keep = self.pos(len);
                data.truncate(keep);
            }
            7 if !self.dictionary.is_empty() => {
                let token = self.dictionary[self.rng.random_range(0..self.dictionary.len())];
                let at = self.pos(len + 1);
                data.splice(at..at, token.bytes());
            }
            8 => {
                let number = ["4294967296", "-1", "99999999999999999999", "1e308", "0.0000001", "65535"]
                    [self.rng.random_range(0..6)];
                let at = self.pos(len + 1);
                data.splice(at..at, number.bytes());
            }
            _ if len >= 8 => {
                // A little-endian length field, as in safetensors' header.
                let i = self.pos(len - 7);
                let v: u64 =
                    [0, 1, u64::MAX, 1 << 40, len as u64, (len as u64).saturating_sub(9)][self.rng.random_range(0..6)];
                data[i..i + 8].copy_from_slice(&v.to_le_bytes());
            }
            _ => data.push(self.rng.random()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let run = |seed| {
            let mut m = Mutator::new(seed, &["tok"], 100);
            (0..50).map(|_| m.mutate(b"hello world, a seed", b"other bytes")).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        assert!(run(3).iter().all(|d| d.len() <= 100));
    }
}
