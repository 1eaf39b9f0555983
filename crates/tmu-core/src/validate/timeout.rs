//! A stage's `timeout`: a duration written as whole numbers with units, `90s`, `30m`, `2h`,
//! `1h30m`, `1d`.

use std::time::Duration;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::Spanned;

/// The duration of `90s`, `30m`, `2h`, `1h30m`, `1d`; `None` (and a diagnostic) otherwise.
pub(crate) fn parse_timeout(text: &Spanned<String>, ds: &mut Diagnostics) -> Option<Duration> {
    match duration(&text.value) {
        Some(d) if !d.is_zero() => Some(d),
        _ => {
            ds.push(
                Diagnostic::new(Code::InvalidTimeout, format!("invalid timeout `{}`", text.value))
                    .at(text.span, "expected a duration such as `90s`, `30m`, `2h` or `1h30m`")
                    .help("whole numbers, each followed by `d`, `h`, `m` or `s`, largest unit first"),
            );
            None
        }
    }
}

fn duration(text: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut last_unit = u64::MAX;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        if number.is_empty() || unit >= last_unit {
            return None;
        }
        total = total.checked_add(number.parse::<u64>().ok()?.checked_mul(unit)?)?;
        number.clear();
        last_unit = unit;
    }
    (number.is_empty() && last_unit != u64::MAX).then(|| Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_read_largest_unit_first() {
        assert_eq!(duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(duration("2d"), Some(Duration::from_secs(172_800)));
        for bad in ["", "90", "m", "30m1h", "1h1h", "1.5h", "10 m", "-5s", "99999999999999999999d"] {
            assert_eq!(duration(bad), None, "{bad:?}");
        }
    }
}
