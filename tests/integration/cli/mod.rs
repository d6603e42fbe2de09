mod age;
mod commands;
mod completions;
mod edit;
mod sops_compat;
