//! Accuracy of the unlearned model on the forget set and its groups (predicted easy / hard),
//! written to metrics; the full evaluation (retain, test, MIA) is `eval.unlearning`'s.

use anyhow::Result;
use serde_json::{Map, Value, json};
use tmu_nn::{DeviceData, Network, predict};

/// Eval-mode accuracy of `net` on `forget` overall and on each named group (a flag per forget
/// sample); a group without samples gets `null`.
pub fn forget_accuracy(net: &Network, forget: &DeviceData, groups: &[(&str, &[bool])]) -> Result<Value> {
    let correct = predict(net, forget, 256, false)?.correct();
    let rate = |pick: &dyn Fn(usize) -> bool| {
        let (hit, n) = correct
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(*i))
            .fold((0, 0), |(h, n), (_, c)| (h + usize::from(*c), n + 1));
        if n == 0 { Value::Null } else { json!(hit as f64 / n as f64) }
    };
    let mut out = Map::new();
    out.insert("forget".into(), rate(&|_| true));
    for (name, flags) in groups {
        out.insert((*name).to_string(), rate(&|i| flags[i]));
    }
    Ok(Value::Object(out))
}
