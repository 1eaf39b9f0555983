//! Choosing members, hold-out, forget set and twin forget set: indices into the input.

use anyhow::bail;
use tmu_plugin::artifact::Dataset;

use super::config::{Amount, Strategy};
use crate::rng::Rng;
use crate::split::{draw_count, sample, stratified};

/// Indices into the input data set, each list ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForgetPlan {
    /// D_train: what the original model is trained on (= retain + forget).
    pub members: Vec<usize>,
    /// D_r = members minus forget.
    pub retain: Vec<usize>,
    /// D_f.
    pub forget: Vec<usize>,
    /// D_test: hold-out samples i.i.d. with D_f.
    pub twin_forget: Vec<usize>,
    /// The whole hold-out: non-members.
    pub population: Vec<usize>,
}

fn class_name(data: &Dataset, class: u32) -> String {
    format!("class {class} ({})", data.meta.classes[class as usize])
}

/// The selector of a class-based strategy: its column, value and name for messages.
fn target<'a>(data: &'a Dataset, strategy: &Strategy) -> Option<(&'a [u32], u32, String)> {
    match strategy {
        Strategy::ClassFraction { class, .. }
        | Strategy::ClassCount { class, .. }
        | Strategy::Class { class }
        | Strategy::Identity { class, .. } => Some((&data.labels, *class, class_name(data, *class))),
        Strategy::SubClass { column, value, .. } => {
            let name = &data.meta.extra_label_classes[column][*value as usize];
            Some((&data.extra_labels[column], *value, format!("`{column}` value {value} ({name})")))
        }
        Strategy::Random { .. } | Strategy::Listed { .. } => None,
    }
}

/// Splits `data` by `strategy`: hold-out from `split_seed`, forget set from `forget_seed`.
pub fn plan(
    data: &Dataset,
    strategy: &Strategy,
    holdout: f64,
    split_seed: u64,
    forget_seed: u64,
) -> anyhow::Result<ForgetPlan> {
    // Stratify the hold-out by whatever defines the forget set, so that it holds its share.
    let strata: &[u32] = match strategy {
        Strategy::SubClass { column, .. } => &data.extra_labels[column],
        _ => &data.labels,
    };
    let (members, population) = stratified(strata, holdout, &mut Rng::new(split_seed));
    let mut rng = Rng::new(forget_seed);
    let (forget, twin_forget) = match target(data, strategy) {
        Some((column, value, name)) => {
            let pool: Vec<usize> = members.iter().copied().filter(|&i| column[i] == value).collect();
            let in_data = column.iter().filter(|&&v| v == value).count();
            if pool.is_empty() {
                bail!("{name} has no member samples ({in_data} in the data): nothing to forget");
            }
            let k = match strategy {
                Strategy::ClassFraction { fraction, .. }
                | Strategy::SubClass { fraction, .. }
                | Strategy::Identity { fraction, .. } => draw_count(pool.len(), *fraction),
                Strategy::ClassCount { count, .. } => {
                    if *count > pool.len() {
                        bail!("`count` = {count}, but {name} has only {} member samples", pool.len());
                    }
                    *count
                }
                _ => pool.len(),
            };
            if k == 0 {
                bail!(
                    "the forget set would be empty: the fraction of the {} member samples of {name} rounds to 0",
                    pool.len()
                );
            }
            let twin: Vec<usize> = population.iter().copied().filter(|&i| column[i] == value).collect();
            if twin.is_empty() {
                return Err(tmu_plugin::with_help(
                    format!(
                        "the hold-out has no samples of {name} ({in_data} in the data), so there is no twin forget set"
                    ),
                    "raise `holdout`, or forget a class with more samples",
                ));
            }
            (sample(&pool, k, &mut rng), twin)
        }
        None => {
            let Strategy::Random { amount } = strategy else {
                bail!("lists are planned by plan_listed");
            };
            let k = match *amount {
                Amount::Count(c) => c,
                Amount::Fraction(f) => draw_count(members.len(), f),
            };
            if k == 0 {
                bail!(
                    "the forget set would be empty: the fraction of the {} member samples rounds to 0",
                    members.len()
                );
            }
            if k > members.len() {
                bail!("`count` = {k}, but there are only {} member samples", members.len());
            }
            let forget = sample(&members, k, &mut rng);
            (forget.clone(), matched_twin(data, &forget, data, &population, &mut rng)?)
        }
    };
    let retain = members.iter().copied().filter(|i| forget.binary_search(i).is_err()).collect();
    Ok(ForgetPlan { members, retain, forget, twin_forget, population })
}

/// For `random` and lists: as many samples of each class from `population` (indices into
/// `pool_data`) as the forget set (indices into `data`) has of it.
fn matched_twin(
    data: &Dataset,
    forget: &[usize],
    pool_data: &Dataset,
    population: &[usize],
    rng: &mut Rng,
) -> anyhow::Result<Vec<usize>> {
    let mut twin = Vec::with_capacity(forget.len());
    for class in 0..data.num_classes() as u32 {
        let wanted = forget.iter().filter(|&&i| data.labels[i] == class).count();
        if wanted == 0 {
            continue;
        }
        let pool: Vec<usize> = population.iter().copied().filter(|&i| pool_data.labels[i] == class).collect();
        if pool.len() < wanted {
            return Err(tmu_plugin::with_help(
                format!(
                    "the hold-out has {} samples of {}, the forget set {wanted}: no class-matched twin forget set",
                    pool.len(),
                    class_name(data, class)
                ),
                "raise `holdout`, supply a larger `holdout` data set, or forget fewer samples",
            ));
        }
        twin.extend(sample(&pool, wanted, rng));
    }
    twin.sort_unstable();
    Ok(twin)
}

/// For `ids` and `files`: the listed `forget` samples are members. Without `holdout_data` the
/// hold-out is carved (stratified by class) from the samples the list does not name; with it,
/// every sample of `data` is a member and the hold-out is `holdout_data` (the indices of
/// `twin_forget` and `population` then point into it). The twin forget set is class-matched.
pub fn plan_listed(
    data: &Dataset,
    forget: Vec<usize>,
    holdout_data: Option<&Dataset>,
    holdout: f64,
    split_seed: u64,
    forget_seed: u64,
) -> anyhow::Result<ForgetPlan> {
    let (members, population, pool_data) = match holdout_data {
        Some(h) => ((0..data.len()).collect::<Vec<_>>(), (0..h.len()).collect::<Vec<_>>(), h),
        None => {
            let rest: Vec<usize> = (0..data.len()).filter(|i| forget.binary_search(i).is_err()).collect();
            let strata: Vec<u32> = rest.iter().map(|&i| data.labels[i]).collect();
            let (kept, drawn) = stratified(&strata, holdout, &mut Rng::new(split_seed));
            let mut members: Vec<usize> = kept.iter().map(|&k| rest[k]).chain(forget.iter().copied()).collect();
            members.sort_unstable();
            (members, drawn.iter().map(|&k| rest[k]).collect(), data)
        }
    };
    let twin_forget = matched_twin(data, &forget, pool_data, &population, &mut Rng::new(forget_seed))?;
    let retain = members.iter().copied().filter(|i| forget.binary_search(i).is_err()).collect();
    Ok(ForgetPlan { members, retain, forget, twin_forget, population })
}
