mod aws_kms;
mod cli;
mod groups;
mod hckms;
mod pgp;
mod shamir;
mod vault;
