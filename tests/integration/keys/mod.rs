mod aws_kms;
mod cli;
mod groups;
mod pgp;
mod shamir;
mod vault;
