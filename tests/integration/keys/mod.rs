mod aws_kms;
mod cli;
mod gcp_kms;
mod groups;
mod hckms;
mod pgp;
mod shamir;
mod vault;
