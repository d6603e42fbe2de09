//! The per-file data key: 32 random bytes that seal every value of one file.
//!
//! It lives in a zeroizing box, has no `Clone`, `Display` or `Serialize`, and its `Debug` shows
//! nothing. It is made only from the CSPRNG or from a checked slice (an unwrapped master key or
//! a Shamir combination), and read through [`DataKey::expose`] at the crypto call sites.

use crate::error::{Code, Error, Result};
use rand::RngCore;
use zeroize::Zeroizing;

pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh key from the given CSPRNG.
    pub fn generate(rng: &mut impl RngCore) -> DataKey {
        let mut k = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut k[..]);
        DataKey(k)
    }

    /// A key from unwrapped bytes, which must be exactly 32 long.
    pub fn from_slice(b: &[u8]) -> Result<DataKey> {
        if b.len() != 32 {
            return Err(Error::new(
                Code::CouldNotRetrieveKey,
                format!("the unwrapped data key has {} bytes, expected 32", b.len()),
            ));
        }
        let mut k = Zeroizing::new([0u8; 32]);
        k.copy_from_slice(b);
        Ok(DataKey(k))
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_key() {
        let k = DataKey::from_slice(&[0xab; 32]).unwrap();
        let d = format!("{k:?}");
        assert!(!d.contains("ab") && !d.contains("171"), "{d}");
        assert!(DataKey::from_slice(&[0; 31]).is_err());
    }
}
