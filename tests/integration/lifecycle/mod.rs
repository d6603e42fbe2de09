mod diff;
mod keys;
mod set;
mod yaml;
