pub mod shamir;
