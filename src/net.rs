//! Small helpers shared by the code that talks HTTP: the key backends (Vault transit, AWS KMS)
//! and the `publish` destinations (S3, GCS, Vault KV) and Google credentials.
//!
//! They exist so that every request builds its URL the same safe way (names from files and
//! configs are percent-encoded, never spliced in raw) and every transport failure reads the same
//! way: one line, its causes, the URL without its query. Nothing here may put a header, a body
//! or a query string into a message — those are where tokens and secrets travel.

/// Percent-encode everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`): a
/// URL path segment or a query/form value that means only itself.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whitespace collapsed to single spaces, cut to 500 bytes.
pub fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() <= 500 {
        return s;
    }
    let mut cut = 500;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

/// An error and its sources, by their `Display` only (SDK `Debug` forms are noisy), with
/// repeats dropped, on one line.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        let t = x.to_string();
        if !t.is_empty() && !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = x.source();
    }
    one_line(&parts.join(": "))
}

/// A transport error in one line, with its causes (connection refused, certificate…), prefixed
/// with the URL's origin and path (never its query).
#[cfg(any(
    feature = "vault",
    feature = "s3",
    feature = "gcs",
    feature = "gcp-kms",
    feature = "hckms",
    feature = "azure-kv"
))]
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut s = if e.is_connect() {
        "could not connect".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(c) = src {
        let t = c.to_string();
        if t != last && !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        last = t;
        src = c.source();
    }
    if let Some(u) = e.url() {
        s = format!("{}{}: {s}", u.origin().ascii_serialization(), u.path());
    }
    s
}

/// A blocking HTTPS client (rustls, the system's roots) that never follows a redirect — a
/// redirect would carry the request's credentials to another host — with a `total` timeout
/// (connecting gets at most 10 s of it).
#[cfg(any(feature = "s3", feature = "gcs", feature = "gcp-kms"))]
pub fn client_without_redirects(
    total: std::time::Duration,
) -> crate::error::Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .connect_timeout(total.min(std::time::Duration::from_secs(10)))
        .timeout(total)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| crate::error::Error::generic(format!("cannot set up the HTTPS client: {e}")))
}

/// Whether a URL's host is a loopback address (`localhost`, `127.0.0.0/8`, `::1`): the only
/// place plain HTTP may carry a token or a signed request (tests, local emulators). Takes the
/// host as the URL parser read it, never a prefix of the URL text (`http://127.0.0.1:@evil/`
/// names the host `evil`).
#[cfg(any(feature = "gcs", feature = "gcp-kms", feature = "hckms"))]
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// An access token from a credential chain (Google's, Azure's). `Debug` shows where it came
/// from, never the token.
#[cfg(any(feature = "gcs", feature = "gcp-kms", feature = "azure-kv"))]
pub struct AccessToken {
    pub(crate) token: zeroize::Zeroizing<String>,
    /// Where it came from, for `--verbose` and errors: a variable name, a file path or a
    /// credential kind, never a secret.
    pub source: String,
}

#[cfg(any(feature = "gcs", feature = "gcp-kms", feature = "azure-kv"))]
impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[cfg(any(feature = "gcs", feature = "gcp-kms", feature = "azure-kv"))]
impl AccessToken {
    /// The token, for an `Authorization: Bearer` header.
    pub fn expose(&self) -> &str {
        &self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(
            percent_encode("a b/ü?#%&="),
            "a%20b%2F%C3%BC%3F%23%25%26%3D"
        );
        assert_eq!(one_line(" a \n b\t"), "a b");
        assert!(one_line(&"é".repeat(400)).ends_with('…'));
    }
}
