//! The `veil` binary: parse the command line, run, map the error to sops's exit code.
fn main() {
    std::process::exit(veil::cli::main());
}
