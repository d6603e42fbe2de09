mod aws_kms;
mod azure_kv;
mod cli;
mod groups;
mod pgp;
mod shamir;
mod vault;
