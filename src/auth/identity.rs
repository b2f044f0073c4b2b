//! The SpacetimeDB Identity of a token's `(iss, sub)`.
//!
//! SpacetimeDB derives it with `Identity::from_claims` (protocol doc §5.3): BLAKE3 of `"{iss}|{sub}"`,
//! a checksum, big-endian hex starting `c200`. We call that very library function (the
//! `spacetimedb-lib` crate the server is built from), so the result is bit-exact by construction;
//! the known-answer tests below pin it. The issuer is used verbatim: a trailing `/` changes the identity.

use spacetimedb_lib::Identity;

/// The lowercase 64-hex-digit Identity SpacetimeDB assigns to tokens with this `iss` and `sub`.
pub fn derive_identity(issuer: &str, subject: &str) -> String {
    Identity::from_claims(issuer, subject).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_protocol_doc_vectors() {
        let vectors = [
            ("localhost", "alice", "c20035600353a2e93544d898c6ed0eac323e200c0468300f22958f8b472a265d"),
            (
                "https://auth.example.com",
                "user-123",
                "c2000e9c6bea96ed193403b2bc12b1fa4e8ec2970024252762dbf8a7ddda7157",
            ),
            ("http://localhost:3001/", "svc", "c200aeaeb98599a291ba8bcca1a6bef8f472b61be4dc9431493077aed46c3b69"),
        ];
        for (iss, sub, hex) in vectors {
            assert_eq!(derive_identity(iss, sub), hex, "{iss} | {sub}");
        }
    }

    #[test]
    fn a_trailing_slash_is_a_different_identity() {
        assert_ne!(derive_identity("http://localhost:3001", "svc"), derive_identity("http://localhost:3001/", "svc"));
    }

    #[test]
    fn follows_the_spec_step_by_step() {
        // An independent re-computation from the spec text (not the library), for one input.
        let input = "https://auth.example.com|user-123";
        let h1 = blake3_hash(input.as_bytes());
        let mut checksum_input = vec![0xc2, 0x00];
        checksum_input.extend_from_slice(&h1[..26]);
        let checksum = blake3_hash(&checksum_input);
        let mut be = vec![0xc2, 0x00];
        be.extend_from_slice(&checksum[..4]);
        be.extend_from_slice(&h1[..26]);
        assert_eq!(hex::encode(be), derive_identity("https://auth.example.com", "user-123"));
    }

    fn blake3_hash(bytes: &[u8]) -> [u8; 32] {
        *blake3::hash(bytes).as_bytes()
    }
}
