//! Topological order of the stage graph (stable: file order among free stages) and its cycles.

use std::collections::{BTreeSet, VecDeque};

/// The stages in an order where each comes after every stage it depends on; among stages free
/// to go, the one with the smallest index (file order) goes first.
///
/// `deps[i]` lists the stages that stage `i` reads from. Fails with the cycles: one per
/// strongly connected component that has a cycle, each as the stages along one cycle starting
/// from the component's smallest index, in data-flow order (each feeds the next; the last
/// feeds the first). Stages that only depend on a cycle are not listed.
pub fn topological_order(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<Vec<usize>>> {
    let n = deps.len();
    let feeds = feeds(deps);
    let mut waiting: Vec<usize> = deps.iter().map(|d| d.iter().collect::<BTreeSet<_>>().len()).collect();
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &j in &feeds[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.insert(j);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    let stuck: BTreeSet<usize> = (0..n).filter(|&i| waiting[i] > 0).collect();
    Err(cycles(deps, &feeds, &stuck))
}

/// `feeds[j]`: the stages that read from `j` (deduplicated, ascending).
fn feeds(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut feeds = vec![BTreeSet::new(); deps.len()];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            feeds[j].insert(i);
        }
    }
    feeds.into_iter().map(|s| s.into_iter().collect()).collect()
}

/// One cycle per strongly connected component (among `stuck`) that holds a cycle.
fn cycles(deps: &[Vec<usize>], feeds: &[Vec<usize>], stuck: &BTreeSet<usize>) -> Vec<Vec<usize>> {
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for &s in stuck {
        if done.contains(&s) {
            continue;
        }
        // The component of `s`: stages reachable from `s` that also reach `s`.
        let down = reach(s, feeds, stuck);
        let up = reach(s, deps, stuck);
        let component: BTreeSet<usize> = down.intersection(&up).copied().collect();
        let on_cycle = component.len() > 1 || deps[s].contains(&s);
        done.extend(component.iter().copied());
        if on_cycle {
            out.push(shortest_cycle(s, feeds, &component));
        }
    }
    out
}

fn reach(from: usize, edges: &[Vec<usize>], within: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut seen = BTreeSet::from([from]);
    let mut todo = vec![from];
    while let Some(i) = todo.pop() {
        for &j in &edges[i] {
            if within.contains(&j) && seen.insert(j) {
                todo.push(j);
            }
        }
    }
    seen
}

/// The shortest path from `s` back to `s` along `feeds` inside `component` (breadth first,
/// smallest index first, so the answer is deterministic).
fn shortest_cycle(s: usize, feeds: &[Vec<usize>], component: &BTreeSet<usize>) -> Vec<usize> {
    let mut parent: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    let mut queue = VecDeque::from([s]);
    while let Some(i) = queue.pop_front() {
        for &j in &feeds[i] {
            if j == s {
                let mut path = vec![i];
                let mut k = i;
                while k != s {
                    k = parent[&k];
                    path.push(k);
                }
                path.reverse();
                return path;
            }
            if component.contains(&j) && !parent.contains_key(&j) {
                parent.insert(j, i);
                queue.push_back(j);
            }
        }
    }
    vec![s]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_stages_keep_file_order() {
        assert_eq!(topological_order(&[vec![], vec![], vec![]]), Ok(vec![0, 1, 2]));
        // 0 reads 2, 1 reads nothing: 1 and 2 are free; 1 comes first by file order.
        assert_eq!(topological_order(&[vec![2], vec![], vec![]]), Ok(vec![1, 2, 0]));
    }

    #[test]
    fn dependencies_come_first() {
        // A diamond written backwards: 0 reads 1 and 2, both read 3.
        let deps = vec![vec![1, 2], vec![3], vec![3], vec![]];
        assert_eq!(topological_order(&deps), Ok(vec![3, 1, 2, 0]));
        // Reading the same stage twice is one dependency.
        assert_eq!(topological_order(&[vec![], vec![0, 0]]), Ok(vec![0, 1]));
        assert_eq!(topological_order(&[]), Ok(vec![]));
    }

    #[test]
    fn cycles_are_named_in_data_flow_order() {
        // 0 -> 1 -> 2 -> 0 (1 reads 0, 2 reads 1, 0 reads 2); 3 reads 2 (downstream of the cycle).
        let deps = vec![vec![2], vec![0], vec![1], vec![2]];
        assert_eq!(topological_order(&deps), Err(vec![vec![0, 1, 2]]));
    }

    #[test]
    fn each_cycle_is_reported_once() {
        // Two separate cycles (0 <-> 2, 1 -> 1) and a stage 3 that is fine.
        let deps = vec![vec![2], vec![1], vec![0], vec![]];
        assert_eq!(topological_order(&deps), Err(vec![vec![0, 2], vec![1]]));
    }

    #[test]
    fn the_shortest_cycle_of_a_component_is_named() {
        // 0 -> 1 -> 0 and 0 -> 2 -> 3 -> 0: one component, the short cycle is reported.
        let deps = vec![vec![1, 3], vec![0], vec![0], vec![2]];
        assert_eq!(topological_order(&deps), Err(vec![vec![0, 1]]));
    }
}
