//! Snapshot signatures: Ed25519 over the exact bytes, base64 (docs/sdk.md, Refresh 7a).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};

use crate::Error;

/// Decodes a base64 Ed25519 public key (32 bytes).
pub(crate) fn parse_public_key(text: &str) -> Result<VerifyingKey, Error> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| Error::new("invalid_public_key", format!("the public key is not base64: {e}")))?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
        Error::new("invalid_public_key", format!("an Ed25519 public key has 32 bytes, not {}", bytes.len()))
    })?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|e| Error::new("invalid_public_key", format!("not an Ed25519 public key: {e}")))
}

/// Checks `signature` (base64, 64 bytes) of `bytes`; `Err` is a `signature_invalid` error.
pub(crate) fn verify(key: &VerifyingKey, bytes: &[u8], signature: Option<&str>) -> Result<(), Error> {
    let invalid = |why: String| Error::new("signature_invalid", why);
    let Some(signature) = signature.filter(|s| !s.trim().is_empty()) else {
        return Err(invalid("the snapshot carries no signature and a public key is configured".into()));
    };
    let raw = STANDARD.decode(signature.trim()).map_err(|e| invalid(format!("the signature is not base64: {e}")))?;
    let signature = Signature::from_slice(&raw).map_err(|e| invalid(format!("malformed signature: {e}")))?;
    key.verify_strict(bytes, &signature)
        .map_err(|_| invalid("the snapshot's signature does not verify with the configured public key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_good_signature_verifies_and_anything_else_is_refused() {
        let signer = key(7);
        let public = STANDARD.encode(signer.verifying_key().as_bytes());
        let verifying = parse_public_key(&public).unwrap();
        let bytes = br#"{"schemaVersion":1,"revision":3,"flags":{}}"#;
        let good = STANDARD.encode(signer.sign(bytes).to_bytes());
        assert_eq!(verify(&verifying, bytes, Some(&good)), Ok(()));

        let code = |r: Result<(), Error>| r.unwrap_err().code;
        // One byte changed.
        assert_eq!(
            code(verify(&verifying, br#"{"schemaVersion":1,"revision":4,"flags":{}}"#, Some(&good))),
            "signature_invalid"
        );
        // Signed by another key.
        let other = STANDARD.encode(key(8).sign(bytes).to_bytes());
        assert_eq!(code(verify(&verifying, bytes, Some(&other))), "signature_invalid");
        // Missing, empty, not base64, wrong length.
        assert_eq!(code(verify(&verifying, bytes, None)), "signature_invalid");
        assert_eq!(code(verify(&verifying, bytes, Some(""))), "signature_invalid");
        assert_eq!(code(verify(&verifying, bytes, Some("***"))), "signature_invalid");
        assert_eq!(code(verify(&verifying, bytes, Some("AAAA"))), "signature_invalid");
    }

    #[test]
    fn public_keys_must_be_32_bytes_of_base64() {
        assert_eq!(parse_public_key("not base64!").unwrap_err().code, "invalid_public_key");
        assert_eq!(parse_public_key(&STANDARD.encode([1u8; 31])).unwrap_err().code, "invalid_public_key");
        assert!(parse_public_key(&STANDARD.encode(key(1).verifying_key().as_bytes())).is_ok());
    }
}
