//! Printing errors: the whole chain with `{:#}`, then any help the error carries.

use tmu_host::{PluginError, RunError};

/// Help the user can act on, wherever it sits in the chain.
pub fn help_of(err: &anyhow::Error) -> Option<String> {
    if let Some(e) = err.downcast_ref::<RunError>() {
        return e.help();
    }
    if let Some(e) = err.downcast_ref::<PluginError>() {
        return e.help();
    }
    if let Some(e) = err.downcast_ref::<HelpError>() {
        return Some(e.help.clone());
    }
    None
}

/// Prints `error: <chain>` and `help: ...` lines to stderr.
pub fn print_error(err: &anyhow::Error) {
    eprintln!("error: {err:#}");
    if let Some(help) = help_of(err) {
        for line in help.lines() {
            eprintln!("help: {line}");
        }
    }
}

/// An error with advice, raised by the CLI itself.
#[derive(Debug)]
pub struct HelpError {
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for HelpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HelpError {}

pub fn with_help(message: impl Into<String>, help: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(HelpError { message: message.into(), help: help.into() })
}
