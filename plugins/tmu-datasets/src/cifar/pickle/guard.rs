//! Limits that keep a hostile pickle from exhausting memory or the stack.

use super::value::Value;

/// Objects larger than this are not copied into the memo (nothing re-reads them in CIFAR files).
pub const MEMO_COPY_LIMIT: usize = 1 << 16;
/// Deepest nesting of containers accepted (a CIFAR batch nests 3 deep); deeper values could
/// overflow the stack when dropped.
pub const MAX_DEPTH: usize = 32;
/// Most value nodes that memo and DUP copies may create in all: Python shares memoised objects
/// where this reader copies them, so a pickle that re-reads its memo in a loop would otherwise
/// grow exponentially (a "billion laughs").
pub const MAX_COPIED_NODES: usize = 1 << 18;

/// Calls `f` on each value directly inside `v`.
pub fn for_children<'v>(v: &'v Value, mut f: impl FnMut(&'v Value)) {
    match v {
        Value::List(items) | Value::Tuple(items) => items.iter().for_each(f),
        Value::Dict(pairs) => pairs.iter().for_each(|(k, v)| {
            f(k);
            f(v);
        }),
        _ => {}
    }
}

/// The number of values in `v` (itself included), counted up to `limit + 1`; iterative.
pub fn count_nodes(v: &Value, limit: usize) -> usize {
    let (mut n, mut todo) = (0, vec![v]);
    while let Some(x) = todo.pop() {
        n += 1;
        if n > limit {
            break;
        }
        for_children(x, |c| todo.push(c));
    }
    n
}

/// Whether `v` nests containers more than `max` levels deep; iterative, stops early.
pub fn too_deep(v: &Value, max: usize) -> bool {
    let mut todo = vec![(v, 0usize)];
    while let Some((x, depth)) = todo.pop() {
        if depth > max {
            return true;
        }
        for_children(x, |c| todo.push((c, depth + 1)));
    }
    false
}
