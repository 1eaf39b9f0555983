//! Validation of the pipeline-wide settings: `format`, `name`, `seed`, `device`, and having stages.

use tmu_plugin::DeviceSpec;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::names::{NAME_RULE, is_valid_name};
use crate::raw::RawPipeline;
use crate::source::Span;

/// The file format version this build reads.
pub const FORMAT_VERSION: i64 = 1;

pub(crate) struct Header {
    pub name: String,
    pub seed: u64,
    pub device: DeviceSpec,
}

pub(crate) fn check(raw: &RawPipeline, ds: &mut Diagnostics) -> Header {
    let start = Span::new(0, 0);
    match &raw.format {
        Some(f) if f.value == FORMAT_VERSION => {}
        Some(f) => ds.push(
            Diagnostic::new(Code::Format, format!("unsupported pipeline format {}", f.value))
                .at(f.span, format!("this build reads format {FORMAT_VERSION}")),
        ),
        // A `format` of the wrong type was reported by the parser.
        None if raw.has_key("format") => {}
        None => ds.push(
            Diagnostic::new(Code::Format, "missing `format`")
                .at(start, "expected `format = 1` in the file")
                .help(format!("add `format = {FORMAT_VERSION}` at the top of the file")),
        ),
    }

    let name = raw.name();
    if !is_valid_name(&name) {
        let d = Diagnostic::new(Code::InvalidName, format!("invalid pipeline name `{name}`"));
        ds.push(match &raw.name {
            Some(n) => d.at(n.span, format!("expected {NAME_RULE}")),
            None => d.at(start, "the name comes from the file name").help(format!("set `name = \"...\"`: {NAME_RULE}")),
        });
    }

    let device = match &raw.device {
        Some(d) => parse_device(&d.value, d.span, ds).unwrap_or(DeviceSpec::Auto),
        None => DeviceSpec::Auto,
    };

    if raw.stages.is_empty() && !raw.has_key("stages") {
        ds.push(
            Diagnostic::new(Code::Structure, "the pipeline has no stages")
                .at(start, "")
                .help("add a `[stages.<name>]` table with a `kind`"),
        );
    }

    Header { name, seed: raw.seed.as_ref().map_or(0, |s| s.value), device }
}

/// A device setting, or a diagnostic at its span.
pub(crate) fn parse_device(value: &str, span: Span, ds: &mut Diagnostics) -> Option<DeviceSpec> {
    match value.parse::<DeviceSpec>() {
        Ok(d) => Some(d),
        Err(_) => {
            ds.push(
                Diagnostic::new(Code::InvalidDevice, format!("unknown device `{value}`"))
                    .at(span, "expected `cpu`, `cuda`, `cuda:N` or `auto`")
                    .maybe_help(if value.starts_with("gpu") {
                        Some("did you mean `cuda`? GPUs are named `cuda` or `cuda:N`".to_string())
                    } else {
                        crate::suggest::did_you_mean(value, ["cpu", "cuda", "auto"])
                    }),
            );
            None
        }
    }
}
