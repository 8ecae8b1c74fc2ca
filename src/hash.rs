//! SHA-256 digests as lowercase hex, the form of every stored hash (feed bodies, entry
//! identity, summary cache keys): one writer, so stored hashes stay comparable.

use sha2::{Digest as _, Sha256};

/// The SHA-256 of `parts` read one after another, as 64 lowercase hex digits. Parts are
/// not separated: callers that need boundaries hash a separator between them.
pub fn sha256_hex<P: AsRef<[u8]>>(parts: impl IntoIterator<Item = P>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_ref());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            sha256_hex(["abc"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_hex(["a", "", "bc"]), sha256_hex([b"abc"]));
        assert_eq!(
            sha256_hex::<&str>([]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
