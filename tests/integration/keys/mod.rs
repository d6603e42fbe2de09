mod aws_kms;
mod cli;
mod groups;
mod keyservice;
mod pgp;
mod shamir;
mod vault;
