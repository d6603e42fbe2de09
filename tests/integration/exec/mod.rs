mod env;
mod file;
