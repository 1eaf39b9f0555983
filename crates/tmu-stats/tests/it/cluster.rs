//! Clustered comparisons against NumPy and SciPy: cluster means, the tests over cluster means,
//! and the cluster bootstrap interval of the mean difference (enumerated exactly for few
//! clusters, fed the reference's own draws for many, and compared with SciPy's bootstrap of the
//! cluster means). The reference values were computed by `tests/reference/cluster_reference.py`
//! (NumPy 2.4, SciPy 1.17.1) into `tests/reference/cluster_reference.json`.

use tmu_stats::{
    ClusterCompare, Resampling, Unit, cluster_bootstrap, cluster_bootstrap_with_draws, cluster_ids, cluster_means,
    compare_clustered,
};

fn reference() -> serde_json::Value {
    serde_json::from_str(include_str!("../reference/cluster_reference.json")).expect("json")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().expect("a number")
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!((got - want).abs() <= rel * want.abs().max(1e-12), "{what}: got {got}, the reference says {want}");
}

fn how(unit: Unit) -> ClusterCompare {
    ClusterCompare { unit, tie: 0.0, level: 0.95, resamples: 10_000, seed: 0 }
}

/// The case's points: keys, ids (checked against the reference's), a, b.
fn points(c: &serde_json::Value) -> (Vec<usize>, usize, Vec<f64>, Vec<f64>) {
    let keys: Vec<&str> = c["clusters"].as_array().expect("keys").iter().map(|k| k.as_str().expect("a key")).collect();
    let (ids, g) = cluster_ids(&keys);
    let want: Vec<usize> =
        c["cluster_ids"].as_array().expect("ids").iter().map(|i| i.as_u64().expect("id") as usize).collect();
    assert_eq!(ids, want, "{}: cluster ids", c["name"]);
    assert_eq!(g, c["cluster_count"].as_u64().expect("count") as usize);
    (ids, g, floats(&c["a"]), floats(&c["b"]))
}

fn check_tests(name: &str, got: &tmu_stats::Paired, want: &serde_json::Value) {
    assert_eq!(got.n, want["n"].as_u64().expect("n") as usize, "{name} units");
    assert_eq!(got.wins, want["wins"].as_u64().expect("wins") as usize, "{name} wins");
    assert_eq!(got.losses, want["losses"].as_u64().expect("losses") as usize, "{name} losses");
    close(&format!("{name} mean diff"), got.mean_diff.expect("a mean"), f(&want["mean_diff"]), 1e-12);
    close(&format!("{name} sign p"), got.sign_p.expect("p"), f(&want["sign_p"]), 1e-12);
    close(&format!("{name} t"), got.t.expect("t"), f(&want["t"]), 1e-10);
    close(&format!("{name} t p"), got.t_p.expect("p"), f(&want["t_p"]), 1e-9);
    close(&format!("{name} W"), got.wilcoxon_w.expect("w"), f(&want["wilcoxon_w"]), 1e-12);
    close(&format!("{name} W p"), got.wilcoxon_p.expect("p"), f(&want["wilcoxon_p"]), 1e-9);
}

#[test]
fn cluster_means_and_tests_match_numpy_and_scipy() {
    let r = reference();
    let cases = r["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 5);
    for c in cases {
        let name = c["name"].as_str().expect("a name");
        let (ids, _, a, b) = points(c);
        let means = cluster_means(&a, &ids).expect("means");
        for (got, want) in means.iter().zip(floats(&c["cluster_mean_a"])) {
            close(&format!("{name} cluster mean"), *got, want, 1e-14);
        }
        let point = compare_clustered(&a, &b, &ids, how(Unit::Point)).expect("a comparison");
        check_tests(&format!("{name} (points)"), &point.paired, &c["point_tests"]);
        let cluster = compare_clustered(&a, &b, &ids, how(Unit::Cluster)).expect("a comparison");
        check_tests(&format!("{name} (clusters)"), &cluster.paired, &c["cluster_tests"]);
        assert_eq!((cluster.points, cluster.clusters), (a.len(), means.len()));
    }
}

#[test]
fn exact_bootstrap_matches_the_enumeration() {
    let r = reference();
    let exact: Vec<&serde_json::Value> =
        r["cases"].as_array().expect("cases").iter().filter(|c| c["resampling"] == "exact").collect();
    assert_eq!(exact.len(), 4, "three seeds, unequal sizes, five seeds of one point, two seeds");
    for c in exact {
        let name = c["name"].as_str().expect("a name");
        let (ids, g, a, b) = points(c);
        let got = compare_clustered(&a, &b, &ids, how(Unit::Cluster)).expect("ok").bootstrap.expect("an interval");
        assert_eq!(got.resampling, Resampling::Exact { draws: g.pow(g as u32) }, "{name}");
        assert_eq!(got.clusters, g);
        close(&format!("{name} low"), got.interval.low, f(&c["bootstrap_low"]), 1e-12);
        close(&format!("{name} high"), got.interval.high, f(&c["bootstrap_high"]), 1e-12);
        // Exact enumeration needs no generator: another seed gives the same interval.
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
        assert_eq!(cluster_bootstrap(&d, &ids, 0.95, 10_000, 99).expect("ok").expect("some"), got);
    }
}

#[test]
fn sampled_bootstrap_matches_numpy_on_its_draws_and_scipy_in_distribution() {
    let r = reference();
    let c = r["cases"].as_array().expect("cases").iter().find(|c| c["name"] == "eight_seeds_sampled").expect("case");
    let (ids, g, a, b) = points(c);
    let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let draws: Vec<Vec<usize>> = c["draws"]
        .as_array()
        .expect("draws")
        .iter()
        .map(|dr| dr.as_array().expect("a draw").iter().map(|i| i.as_u64().expect("id") as usize).collect())
        .collect();
    assert_eq!(draws.len(), 4000);
    let on_draws = cluster_bootstrap_with_draws(&d, &ids, 0.95, &draws).expect("an interval");
    close("low on NumPy's draws", on_draws.low, f(&c["bootstrap_low"]), 1e-12);
    close("high on NumPy's draws", on_draws.high, f(&c["bootstrap_high"]), 1e-12);

    // Our own draws, many of them: the same distribution as SciPy's bootstrap of the cluster
    // means (equal cluster sizes), up to Monte Carlo error (~0.01 here, the interval is ~1.4 wide).
    let ours = cluster_bootstrap(&d, &ids, 0.95, 100_000, 5).expect("ok").expect("some");
    assert_eq!(ours.resampling, Resampling::Sampled { draws: 100_000 });
    assert_eq!(ours.clusters, g);
    let (scipy_low, scipy_high) = (f(&c["scipy_cluster_low"]), f(&c["scipy_cluster_high"]));
    assert!((ours.interval.low - scipy_low).abs() < 0.03, "low {} vs SciPy {scipy_low}", ours.interval.low);
    assert!((ours.interval.high - scipy_high).abs() < 0.03, "high {} vs SciPy {scipy_high}", ours.interval.high);
    // Resampling points instead of clusters gives a much narrower interval: the check above
    // would catch that mistake.
    let (point_low, point_high) = (f(&c["scipy_point_low"]), f(&c["scipy_point_high"]));
    assert!((ours.interval.low - point_low).abs() > 0.2 && (ours.interval.high - point_high).abs() > 0.2);
}
