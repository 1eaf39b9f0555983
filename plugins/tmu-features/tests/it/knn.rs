//! The neighbour search against brute force: exhaustive f64 distances between normalised rows,
//! sorted, the k smallest averaged (computed here in the test, independently of the blocked
//! device search), for many blocks and for one.

use tmu_features::knn::{Embedding, KnnOptions, Pool, knn_mean_distance};
use tmu_nn::candle::Device;

/// Seeded values in [-1, 1) (a 64-bit LCG; enough for test data).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn brute_force(q: &Embedding, r: &Embedding, k: usize, normalise: bool, pool: Pool) -> Vec<f64> {
    let norm = |row: &[f32]| -> Vec<f64> {
        let v: Vec<f64> = row.iter().map(|&x| f64::from(x)).collect();
        let n = if normalise { v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12) } else { 1.0 };
        v.iter().map(|x| x / n).collect()
    };
    (0..q.len())
        .map(|i| {
            let a = norm(&q.rows[i * q.dim..(i + 1) * q.dim]);
            let mut d: Vec<f64> = (0..r.len())
                .filter(|&j| (pool == Pool::AnyClass || r.labels[j] == q.labels[i]) && r.ids[j] != q.ids[i])
                .map(|j| {
                    let b = norm(&r.rows[j * r.dim..(j + 1) * r.dim]);
                    a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
                })
                .collect();
            d.sort_by(f64::total_cmp);
            let used = k.min(d.len());
            d[..used].iter().sum::<f64>() / used as f64
        })
        .collect()
}

#[test]
fn blocked_search_matches_brute_force() {
    let dim = 16;
    let (nq, nr) = (50, 300);
    let q_rows = values(nq * dim, 1);
    let r_rows = values(nr * dim, 2);
    let q_labels: Vec<u32> = (0..nq as u32).map(|i| i % 3).collect();
    let r_labels: Vec<u32> = (0..nr as u32).map(|i| (i * 7) % 3).collect();
    let q_ids: Vec<u64> = (0..nq as u64).map(|i| 10_000 + i).collect();
    // Query 0 and 1 are also reference rows 0 and 1 (same id, label and features).
    let mut r_ids: Vec<u64> = (0..nr as u64).collect();
    let mut r_rows = r_rows;
    let mut r_labels = r_labels;
    for i in 0..2 {
        r_ids[i] = q_ids[i];
        r_labels[i] = q_labels[i];
        r_rows[i * dim..(i + 1) * dim].copy_from_slice(&q_rows[i * dim..(i + 1) * dim]);
    }
    let q = Embedding { rows: &q_rows, dim, labels: &q_labels, ids: &q_ids };
    let r = Embedding { rows: &r_rows, dim, labels: &r_labels, ids: &r_ids };
    let names: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
    for (k, normalise, pool) in [(5, true, Pool::SameClass), (1, false, Pool::SameClass), (20, true, Pool::AnyClass)] {
        let want = brute_force(&q, &r, k, normalise, pool);
        for block_elems in [1, 1000, tmu_features::knn::DEFAULT_BLOCK_ELEMS] {
            let options = KnnOptions { block_elems, ..KnnOptions::new(k, normalise, pool) };
            let got = knn_mean_distance(&q, &r, options, &names, &Device::Cpu, |_, _| Ok(())).unwrap();
            assert_eq!(got.excluded_self, 2);
            assert!(got.short_pools.is_empty());
            assert!(got.neighbours.iter().all(|&n| n == k));
            for (g, w) in got.mean_distance.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-12 * w.max(1.0), "k {k} block {block_elems}: {g} vs {w}");
            }
        }
    }
}

#[test]
fn progress_can_stop_the_search() {
    let rows = values(12 * 4, 3);
    let labels = [0u32, 1, 2].repeat(4);
    let ids: Vec<u64> = (0..12).collect();
    let e = Embedding { rows: &rows, dim: 4, labels: &labels, ids: &ids };
    let mut calls = Vec::new();
    let result = knn_mean_distance(&e, &e, KnnOptions::new(2, true, Pool::SameClass), &[], &Device::Cpu, |d, t| {
        calls.push((d, t));
        if d == 2 { anyhow::bail!("stop") } else { Ok(()) }
    });
    assert_eq!(result.unwrap_err().to_string(), "stop");
    assert_eq!(calls, [(1, 3), (2, 3)]);
}
