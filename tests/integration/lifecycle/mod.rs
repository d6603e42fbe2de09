mod diff;
mod keyless_diff;
mod keys;
mod set;
mod yaml;
