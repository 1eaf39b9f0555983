//! An error that carries advice for the user (`help` on the wire).

use std::fmt;

/// An error with a hint for the user; anywhere in an `anyhow` chain it becomes the wire error's
/// `help`. Build it with [`with_help`] or [`ResultExt::help`].
#[derive(Debug)]
pub struct Help {
    pub message: String,
    pub help: String,
}

impl fmt::Display for Help {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Help {}

/// Advice as the source of a typed error: a library error that has advice for the user (say a
/// `thiserror` variant) names an `Advice` as its `#[source]`. Anywhere in a chain it becomes the
/// wire error's `help` and is left out of the causes, so the error converts with a plain `?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice(pub String);

impl Advice {
    pub fn new(advice: impl Into<String>) -> Self {
        Advice(advice.into())
    }
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Advice {}

/// An error `message` with advice `help`.
pub fn with_help(message: impl fmt::Display, help: impl fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Help { message: message.to_string(), help: help.to_string() })
}

/// Attaches advice to an error result.
pub trait ResultExt<T> {
    /// Keeps the error and its causes; adds `help` for the user.
    fn help(self, help: impl fmt::Display) -> anyhow::Result<T>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: Into<anyhow::Error>,
{
    fn help(self, help: impl fmt::Display) -> anyhow::Result<T> {
        self.map_err(|e| {
            let e: anyhow::Error = e.into();
            let message = e.to_string();
            e.context(Help { message, help: help.to_string() })
        })
    }
}
