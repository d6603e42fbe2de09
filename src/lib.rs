//! veil: keeps secrets encrypted inside the config files teams commit to git, in the sops file
//! format, without rewriting anything but the sealed values.
//!
//! The binary (`src/main.rs`) is a thin shell over [`cli::run`]; everything else is a library:
//! formats parse and render documents losslessly ([`format`]), the engine seals and opens leaves
//! and computes the MAC ([`engine`]), key backends wrap the data key ([`keys`]).
#![forbid(unsafe_code)]

pub mod audit;
#[cfg(feature = "azure-kv")]
pub mod azure_auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod diff;
pub mod engine;
pub mod env;
pub mod error;
pub mod exec;
pub mod format;
pub mod gitmerge;
#[cfg(any(feature = "gcs", feature = "gcp-kms"))]
pub mod google_auth;
pub mod guard;
pub mod keys;
#[cfg(feature = "keyservice")]
pub mod keyservice;
pub mod metadata;
#[cfg(any(
    feature = "vault",
    feature = "s3",
    feature = "gcs",
    feature = "aws-kms",
    feature = "gcp-kms",
    feature = "azure-kv"
))]
pub mod net;
pub mod pipeline;
pub mod policy;
pub mod publish;
pub mod select;
pub mod tree;
