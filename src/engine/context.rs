//! Where the engine gets randomness and time. Both are passed in as a [`Context`] rather than
//! called as globals, so that tests can fix them and every output is reproducible.
//! Nothing here may read the environment or touch the file system.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Sources of randomness and time, passed in so that the core never calls a global.
pub struct Context {
    pub rng: ChaCha20Rng,
    pub now: time::OffsetDateTime,
}

impl Context {
    /// The real thing: an OS-seeded CSPRNG and the system clock.
    pub fn system() -> Context {
        Context {
            rng: ChaCha20Rng::from_entropy(),
            now: time::OffsetDateTime::now_utc(),
        }
    }

    /// `lastmodified`: UTC, whole seconds, RFC 3339.
    pub fn timestamp(&self) -> String {
        let t = self.now.to_offset(time::UtcOffset::UTC);
        crate::tree::format_time_go(t.replace_nanosecond(0).unwrap_or(t))
    }
}
