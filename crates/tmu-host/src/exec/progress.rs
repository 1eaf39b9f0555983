//! A sweep's progress while it runs: which points are done or failed, and the time left.

use std::collections::HashMap;

use tmu_core::Plan;

use super::types::PointsProgress;

/// How one stage instance stands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Settled {
    /// Waiting or running.
    Open,
    /// Ran or was cached; the wall time when it ran in this run.
    Finished(Option<f64>),
    /// Failed, cancelled, or skipped because something it needs failed.
    Stopped,
}

/// The points of a sweep and the instances each holds.
pub(super) struct Points {
    /// For each point, the needed per-point instances it holds.
    members: Vec<Vec<usize>>,
    jobs: usize,
}

impl Points {
    /// `None` for a plan without a sweep.
    pub fn new(plan: &Plan, needed: &[bool], jobs: usize) -> Option<Points> {
        let sweep = plan.sweep.as_ref()?;
        let mut members = vec![Vec::new(); sweep.points.len()];
        for (i, _) in plan.stages.iter().enumerate().filter(|(i, _)| needed[*i]) {
            for p in plan.points_of(i) {
                members[p].push(i);
            }
        }
        Some(Points { members, jobs: jobs.max(1) })
    }

    /// Points done and failed, and the time left, given how every instance stands.
    pub fn progress(&self, plan: &Plan, settled: &[Settled], needed: &[bool]) -> PointsProgress {
        let mut done = 0;
        let mut failed = 0;
        for members in &self.members {
            if members.iter().any(|&i| settled[i] == Settled::Stopped) {
                failed += 1;
            } else if members.iter().all(|&i| matches!(settled[i], Settled::Finished(_))) {
                done += 1;
            }
        }
        let ran = settled.iter().enumerate().filter_map(|(i, s)| match s {
            Settled::Finished(Some(wall)) => Some((plan.stages[i].base.as_str(), *wall)),
            _ => None,
        });
        let open = (0..settled.len())
            .filter(|&i| needed[i] && settled[i] == Settled::Open)
            .map(|i| plan.stages[i].base.as_str());
        PointsProgress { total: self.members.len(), done, failed, eta_s: eta(open, ran, self.jobs) }
    }
}

/// Seconds left: each open instance costs the mean wall time of the instances of its stage
/// that ran (else the mean of all that ran), shared by `jobs` parallel slots. `None` before
/// anything ran; `Some(0)` when nothing is open.
pub(super) fn eta<'a>(
    open: impl Iterator<Item = &'a str>,
    ran: impl Iterator<Item = (&'a str, f64)>,
    jobs: usize,
) -> Option<f64> {
    let mut by_base: HashMap<&str, (f64, usize)> = HashMap::new();
    let (mut total, mut count) = (0.0, 0usize);
    for (base, wall) in ran {
        let e = by_base.entry(base).or_default();
        e.0 += wall;
        e.1 += 1;
        total += wall;
        count += 1;
    }
    let open: Vec<&str> = open.collect();
    if open.is_empty() {
        return Some(0.0);
    }
    if count == 0 {
        return None;
    }
    let overall = total / count as f64;
    let work: f64 = open.iter().map(|b| by_base.get(b).map_or(overall, |(t, n)| t / *n as f64)).sum();
    Some(work / jobs.clamp(1, open.len()) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_uses_each_stages_mean_then_the_overall_mean() {
        let ran = [("train", 10.0), ("train", 20.0), ("eval", 1.0)];
        // Two trains (15 s each) and an unknown stage (the overall mean, 31 / 3 s).
        let left = eta(["train", "train", "report"].into_iter(), ran.into_iter(), 1).unwrap();
        assert!((left - (30.0 + 31.0 / 3.0)).abs() < 1e-9, "{left}");
        // Two jobs halve it; more jobs than open stages do not help further.
        let two = eta(["train", "train"].into_iter(), ran.into_iter(), 2).unwrap();
        assert!((two - 15.0).abs() < 1e-9, "{two}");
        let many = eta(["train", "train"].into_iter(), ran.into_iter(), 8).unwrap();
        assert!((many - 15.0).abs() < 1e-9, "{many}");
        assert_eq!(eta(["train"].into_iter(), std::iter::empty(), 1), None);
        assert_eq!(eta(std::iter::empty(), std::iter::empty(), 1), Some(0.0));
    }
}
