//! A stage's inputs as tmu-nn objects: the model bound to a port, and a data set bound to a port
//! checked against that model, with errors that name the port and the file.

use std::path::Path;

use candle_core::Device;
use tmu_plugin::Inputs;
use tmu_plugin::artifact::Dataset;

use crate::{Network, NnError, Result};

/// Reads the model bound to input `port` onto `device`.
pub fn model_on_port(inputs: &Inputs, port: &str, device: &Device) -> Result<Network> {
    let path = inputs.path(port)?;
    Network::load(path, device).map_err(|e| input_error(port, path, "cannot be read as a model", Some(e)))
}

/// Reads the data set bound to input `port` and checks that `net` can take it (image shape,
/// classes) and that it is not empty.
pub fn data_on_port(inputs: &Inputs, port: &str, net: &Network) -> Result<Dataset> {
    let path = inputs.path(port)?;
    let data =
        Dataset::read(path).map_err(|e| input_error(port, path, "cannot be read as a data set", Some(e.into())))?;
    if let Err(e) = net.spec().check_data(&data) {
        let problem = format!("does not fit the model ({} classes): is it the model's data?", net.num_classes());
        return Err(input_error(port, path, &problem, Some(e)));
    }
    if data.is_empty() {
        return Err(input_error(port, path, "is empty", None));
    }
    Ok(data)
}

fn input_error(port: &str, path: &Path, problem: &str, source: Option<NnError>) -> NnError {
    NnError::Input {
        port: port.to_string(),
        path: path.to_path_buf(),
        problem: problem.to_string(),
        source: source.map(Box::new),
    }
}
