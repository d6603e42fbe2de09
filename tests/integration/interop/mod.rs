mod conformance;
mod flat_stores;
mod sops_cli;
mod yaml_paths;
