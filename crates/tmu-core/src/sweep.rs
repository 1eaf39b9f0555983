//! Sweeps: the axes of a `[sweep]` table, the points they span, and the labels that name points.
//!
//! `check` validates the axes and their bindings, `bind` sets axis values into configs,
//! `expand` turns the stages into one instance per point they depend on (all three run inside
//! [`crate::validate`]), and [`label`] writes and reads the point labels that name run folders
//! and map keys.

pub(crate) mod bind;
pub(crate) mod bound_config;
pub(crate) mod check;
pub(crate) mod expand;
pub mod label;

/// The axis that binds the pipeline seed of each point.
pub const SEED_AXIS: &str = "seed";

/// A validated `[sweep]`: its axes and every point they span.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// In file order.
    pub axes: Vec<Axis>,
    /// Every point: the cartesian product of the axes' values, the last axis varying fastest.
    pub points: Vec<Point>,
}

/// One axis of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub name: String,
    /// Scalars (string, integer, float or boolean), in file order, no two equal.
    pub values: Vec<serde_json::Value>,
    /// The config fields it sets.
    pub bind: Vec<Binding>,
    /// The `seed` axis: each value is the pipeline seed of the points that have it.
    pub seed: bool,
}

/// A config field an axis sets: to the axis value, or to the value at the same position of its
/// own list (`bind = { "<stage>.config.<path>" = [...] }`).
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub field: FieldRef,
    /// The field's value at each of the axis's values; `None`: the axis value itself.
    pub values: Option<Vec<serde_json::Value>>,
}

impl std::fmt::Display for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.values {
            None => write!(f, "{}", self.field),
            Some(values) => {
                let texts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                write!(f, "{} = [{}]", self.field, texts.join(", "))
            }
        }
    }
}

/// A config field of a stage: `<stage>.config.<path>` (`path` dotted into nested tables).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRef {
    pub stage: String,
    pub path: Vec<String>,
}

impl std::fmt::Display for FieldRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.config.{}", self.stage, self.path.join("."))
    }
}

/// A point, or the part of one that a stage instance depends on: axis values in axis order.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// `seed=0,forget_class=3` ([`label::encode`]): names run folders and gathered map entries.
    pub label: String,
    /// `(axis, value)` in axis order.
    pub values: Vec<(String, serde_json::Value)>,
}

impl Point {
    pub fn new(values: Vec<(String, serde_json::Value)>) -> Point {
        Point { label: label::encode(&values), values }
    }

    /// The value of an axis, when the point has it.
    pub fn get(&self, axis: &str) -> Option<&serde_json::Value> {
        self.values.iter().find(|(a, _)| a == axis).map(|(_, v)| v)
    }

    /// Whether the two agree on every axis both have.
    pub fn agrees_with(&self, other: &Point) -> bool {
        self.values.iter().all(|(a, v)| other.get(a).is_none_or(|w| w == v))
    }
}

/// Every combination of one index per axis of the given sizes, the last axis varying fastest
/// (one empty combination for no axes).
pub(crate) fn grid(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &n in sizes {
        out = out.into_iter().flat_map(|prefix| (0..n).map(move |i| [prefix.clone(), vec![i]].concat())).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn grids_vary_the_last_axis_fastest() {
        assert_eq!(grid(&[]), vec![Vec::<usize>::new()]);
        assert_eq!(grid(&[2, 3]), vec![vec![0, 0], vec![0, 1], vec![0, 2], vec![1, 0], vec![1, 1], vec![1, 2]]);
        assert!(grid(&[2, 0]).is_empty());
    }

    #[test]
    fn points_agree_on_shared_axes() {
        let p = Point::new(vec![("seed".into(), json!(0)), ("class".into(), json!(3))]);
        assert_eq!(p.label, "seed=0,class=3");
        assert!(p.agrees_with(&Point::new(vec![("seed".into(), json!(0))])));
        assert!(!p.agrees_with(&Point::new(vec![("seed".into(), json!(1))])));
        assert!(p.agrees_with(&Point::new(vec![])));
        assert_eq!(p.get("class"), Some(&json!(3)));
        assert_eq!(p.get("fraction"), None);
    }
}
