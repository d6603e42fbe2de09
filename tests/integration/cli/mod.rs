mod age;
mod commands;
mod completions;
mod edit;
mod multi_file;
mod recursive;
mod sops_compat;
