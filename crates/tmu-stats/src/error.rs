//! The errors of tmu-stats: inputs no statistic can be computed from. (A statistic that is
//! merely undefined for the data, such as the AUC of a single class, is `None` instead.)

/// An input a statistic refuses.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("{what} of an empty sample")]
    Empty { what: &'static str },
    #[error("{what}: the sample contains NaN")]
    NotANumber { what: &'static str },
    #[error("quantile level {q} is outside [0, 1]")]
    LevelOutOfRange { q: f64 },
    #[error("quantile of values that are not sorted in ascending order")]
    NotSorted,
    #[error("{what}: {left} values against {right}")]
    LengthMismatch { what: &'static str, left: usize, right: usize },
    #[error("{what}: invalid parameter {value}")]
    InvalidParameter { what: &'static str, value: f64 },
}
