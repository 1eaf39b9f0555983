//! The k-nearest-neighbour distance behind DF: for each query embedding, the mean Euclidean
//! distance to its `k` nearest reference embeddings (of its own class, or of any class), a
//! reference sample with the query's own id never counting as its neighbour.
//!
//! Candidates come from matrix products on the device (`|q|² + |r|² - 2 q·r`, f32, in blocks of
//! query rows); the `k + CANDIDATE_MARGIN` closest candidates of each query are then measured
//! exactly in f64 on the host and the `k` nearest kept. So the result is the exact f64 distance
//! of the true neighbours unless f32 rounding reorders candidates beyond the margin, which can
//! only swap neighbours whose distances agree to f32 precision.

use std::collections::HashMap;

use anyhow::Context as _;
use tmu_nn::candle::{Device, Tensor};

/// Candidates measured exactly beyond the `k` that are kept.
const CANDIDATE_MARGIN: usize = 8;
/// Dot products per device block (f32): 16 MiB.
pub const DEFAULT_BLOCK_ELEMS: usize = 4 << 20;
/// `F.normalize`'s floor on the norm.
const NORM_EPS: f64 = 1e-12;

/// Embeddings of a set of samples: row-major `[N, dim]` with a label and an id per row.
#[derive(Clone, Copy, Debug)]
pub struct Embedding<'a> {
    pub rows: &'a [f32],
    pub dim: usize,
    pub labels: &'a [u32],
    pub ids: &'a [u64],
}

impl Embedding<'_> {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.rows[i * self.dim..(i + 1) * self.dim]
    }
}

/// Which reference samples may be a query's neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    /// Only those of the query's own class (the method).
    SameClass,
    /// All of them.
    AnyClass,
}

/// How DF is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnnOptions {
    pub k: usize,
    /// L2-normalise every embedding first (`x / max(|x|, 1e-12)`, PyTorch's `F.normalize`).
    pub normalise: bool,
    pub pool: Pool,
    /// Query-reference dot products computed per device block (at least one query row).
    pub block_elems: usize,
}

impl KnnOptions {
    /// Options with the default block size.
    pub fn new(k: usize, normalise: bool, pool: Pool) -> Self {
        KnnOptions { k, normalise, pool, block_elems: DEFAULT_BLOCK_ELEMS }
    }
}

/// Mean neighbour distances and how they were obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct KnnOutcome {
    /// Per query: mean distance to its nearest reference samples.
    pub mean_distance: Vec<f64>,
    /// Per query: how many neighbours were averaged (`k`, or fewer where the pool is smaller).
    pub neighbours: Vec<usize>,
    /// Queries whose own id was in their pool and was left out.
    pub excluded_self: usize,
    /// Pools ("class `name`", or "the reference set") holding fewer than `k` usable neighbours
    /// for some query, with their reference count.
    pub short_pools: Vec<(String, usize)>,
}

/// One pool: its name in messages, query positions, reference positions.
struct Group {
    name: String,
    queries: Vec<usize>,
    references: Vec<usize>,
}

fn groups(query: &Embedding, reference: &Embedding, pool: Pool, class_names: &[String]) -> Vec<Group> {
    match pool {
        Pool::AnyClass => vec![Group {
            name: "the reference set".to_string(),
            queries: (0..query.len()).collect(),
            references: (0..reference.len()).collect(),
        }],
        Pool::SameClass => {
            let classes = query.labels.iter().chain(reference.labels).map(|&l| l as usize + 1).max().unwrap_or(0);
            let mut out: Vec<Group> = (0..classes.max(class_names.len()))
                .map(|c| Group {
                    name: format!("class `{}`", class_names.get(c).cloned().unwrap_or_else(|| c.to_string())),
                    queries: Vec::new(),
                    references: Vec::new(),
                })
                .collect();
            for (i, &l) in query.labels.iter().enumerate() {
                out[l as usize].queries.push(i);
            }
            for (j, &l) in reference.labels.iter().enumerate() {
                out[l as usize].references.push(j);
            }
            out.retain(|g| !g.queries.is_empty());
            out
        }
    }
}

/// Per-row scale: `1 / max(|x|, eps)` when normalising, else 1.
fn scales(e: &Embedding, normalise: bool) -> Vec<f64> {
    (0..e.len())
        .map(|i| {
            if normalise {
                let n = e.row(i).iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
                1.0 / n.max(NORM_EPS)
            } else {
                1.0
            }
        })
        .collect()
}

/// The scaled rows at `positions` as f32 `[len, dim]`, and their squared norms in f64.
fn gather(e: &Embedding, scale: &[f64], positions: &[usize]) -> (Vec<f32>, Vec<f64>) {
    let mut rows = Vec::with_capacity(positions.len() * e.dim);
    let mut norms = Vec::with_capacity(positions.len());
    for &i in positions {
        let start = rows.len();
        rows.extend(e.row(i).iter().map(|&v| (f64::from(v) * scale[i]) as f32));
        norms.push(rows[start..].iter().map(|&v| f64::from(v) * f64::from(v)).sum());
    }
    (rows, norms)
}

/// Exact Euclidean distance in f64 between scaled rows.
fn exact_distance(a: &[f32], sa: f64, b: &[f32], sb: f64) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) * sa - f64::from(y) * sb;
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

fn preview(ids: impl Iterator<Item = u64>) -> String {
    let ids: Vec<u64> = ids.collect();
    let shown: Vec<String> = ids.iter().take(5).map(u64::to_string).collect();
    if ids.len() > 5 { format!("{}, ...", shown.join(", ")) } else { shown.join(", ") }
}

/// DF of every query. `class_names` name the labels in messages; `progress(done, total)` is
/// called after each pool (and may stop the work by returning an error).
pub fn knn_mean_distance(
    query: &Embedding,
    reference: &Embedding,
    options: KnnOptions,
    class_names: &[String],
    device: &Device,
    mut progress: impl FnMut(usize, usize) -> anyhow::Result<()>,
) -> anyhow::Result<KnnOutcome> {
    if options.k == 0 {
        anyhow::bail!("k must be at least 1");
    }
    if query.dim != reference.dim {
        anyhow::bail!("query embeddings have {} dimensions, reference embeddings {}", query.dim, reference.dim);
    }
    let (qs, rs) = (scales(query, options.normalise), scales(reference, options.normalise));
    let ref_by_id: HashMap<u64, usize> = reference.ids.iter().enumerate().map(|(j, &id)| (id, j)).collect();
    let mut out = KnnOutcome {
        mean_distance: vec![f64::NAN; query.len()],
        neighbours: vec![0; query.len()],
        excluded_self: 0,
        short_pools: Vec::new(),
    };
    let groups = groups(query, reference, options.pool, class_names);
    for (done, g) in groups.iter().enumerate() {
        if g.references.is_empty() {
            let ids = preview(g.queries.iter().map(|&i| query.ids[i]));
            match options.pool {
                Pool::SameClass => anyhow::bail!(
                    "{} has no reference samples, but {} query samples (ids {ids}) need neighbours of their class",
                    g.name,
                    g.queries.len()
                ),
                Pool::AnyClass => anyhow::bail!("the reference set is empty"),
            }
        }
        search_group(query, reference, &qs, &rs, &ref_by_id, g, &options, device, &mut out)
            .with_context(|| format!("nearest neighbours in {}", g.name))?;
        progress(done + 1, groups.len())?;
    }
    Ok(out)
}

/// Fills `out` for the queries of one pool.
#[allow(clippy::too_many_arguments)]
fn search_group(
    query: &Embedding,
    reference: &Embedding,
    qs: &[f64],
    rs: &[f64],
    ref_by_id: &HashMap<u64, usize>,
    g: &Group,
    options: &KnnOptions,
    device: &Device,
    out: &mut KnnOutcome,
) -> anyhow::Result<()> {
    let (r, k) = (g.references.len(), options.k);
    let col_of: HashMap<usize, u32> = g.references.iter().enumerate().map(|(c, &j)| (j, c as u32)).collect();
    let (ref_rows, ref_norms) = gather(reference, rs, &g.references);
    let ref_t = Tensor::from_vec(ref_rows, (r, reference.dim), device)?.t()?.contiguous()?;
    let block = (options.block_elems / r).clamp(1, g.queries.len());
    let mut short = false;
    let mut candidates: Vec<(f32, u32)> = Vec::with_capacity(r);
    let mut exact: Vec<(f64, u32)> = Vec::new();
    for chunk in g.queries.chunks(block) {
        let (q_rows, q_norms) = gather(query, qs, chunk);
        let q = Tensor::from_vec(q_rows, (chunk.len(), query.dim), device)?;
        let dots = q.matmul(&ref_t)?.flatten_all()?.to_vec1::<f32>()?;
        for (row, &i) in chunk.iter().enumerate() {
            let own = ref_by_id.get(&query.ids[i]).and_then(|j| col_of.get(j)).copied();
            candidates.clear();
            for (c, &dot) in dots[row * r..(row + 1) * r].iter().enumerate() {
                if own != Some(c as u32) {
                    candidates.push(((q_norms[row] + ref_norms[c] - 2.0 * f64::from(dot)) as f32, c as u32));
                }
            }
            if own.is_some() {
                out.excluded_self += 1;
            }
            if candidates.is_empty() {
                anyhow::bail!(
                    "sample id {} is the only reference sample of its pool: once it is excluded as its own \
                     neighbour, none is left",
                    query.ids[i]
                );
            }
            let m = (k + CANDIDATE_MARGIN).min(candidates.len());
            let by_approx = |a: &(f32, u32), b: &(f32, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
            if m < candidates.len() {
                candidates.select_nth_unstable_by(m - 1, by_approx);
            }
            exact.clear();
            exact.extend(candidates[..m].iter().map(|&(_, c)| {
                let j = g.references[c as usize];
                (exact_distance(query.row(i), qs[i], reference.row(j), rs[j]), c)
            }));
            exact.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let used = k.min(exact.len());
            short |= used < k;
            out.mean_distance[i] = exact[..used].iter().map(|e| e.0).sum::<f64>() / used as f64;
            out.neighbours[i] = used;
        }
    }
    if short {
        out.short_pools.push((g.name.clone(), r));
    }
    Ok(())
}
