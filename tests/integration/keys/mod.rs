mod aws_kms;
mod cli;
mod gcp_kms;
mod groups;
mod pgp;
mod shamir;
mod vault;
