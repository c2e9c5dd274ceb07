//! [`ProofError`]: the one defect a proof was refused for.
//!
//! The enum, its descriptions and [`ProofError::ALL`] come from one table
//! (the `defects!` macro), so no variant can lack a description or be
//! missing from `ALL`, which tests iterate (every description fits a
//! `WWW-Authenticate` header, no two are the same).

/// Defines [`ProofError`], its `Display`, [`ProofError::description`] and
/// [`ProofError::ALL`] from one table of `Variant => "description"`.
macro_rules! defects {
    ($($(#[$doc:meta])* $variant:ident => $description:literal,)+) => {
        /// Why a DPoP proof (or its absence) was refused. Descriptions are
        /// fixed strings, never echoes of the input, because servers put them
        /// into the `error_description` of a response header.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
        pub enum ProofError {
            $($(#[$doc])* #[error($description)] $variant,)+
        }

        impl ProofError {
            /// Every defect, in declaration order.
            pub const ALL: &'static [ProofError] = &[$(ProofError::$variant,)+];

            /// A short human-readable reason, safe for `error_description`
            /// (no quote, no backslash, visible ASCII).
            pub fn description(self) -> &'static str {
                match self {
                    $(ProofError::$variant => $description,)+
                }
            }
        }
    };
}

defects! {
    /// The request has no `DPoP` header although it uses the DPoP scheme.
    Missing => "the request lacks a DPoP proof header",
    /// Two or more `DPoP` headers (RFC 9449 §4.3 point 1: exactly one).
    Multiple => "the request has more than one DPoP header",
    /// Not a compact JWS of three base64url parts with a JSON object as
    /// header and as claims, too large, not visible ASCII, or a `crit`
    /// header this crate cannot honour.
    Malformed => "the DPoP proof is not a well-formed JWS",
    /// The header's `typ` is missing or not `dpop+jwt`.
    Typ => "the DPoP proof's typ is not dpop+jwt",
    /// `alg` is missing, `none`, an HMAC, or not in [`crate::SIGNING_ALGS`].
    Alg => "the DPoP proof's signature algorithm is not accepted",
    /// The header has no `jwk`, or it is not a JSON object.
    NoJwk => "the DPoP proof's header lacks a jwk",
    /// The `jwk` holds private key material (`d`, `p`, `q`, `dp`, `dq`,
    /// `qi`, `oth`, or a symmetric `k`): RFC 9449 §4.3 point 7.
    PrivateKey => "the DPoP proof's jwk contains a private key",
    /// The `jwk` is not a public key usable with `alg` (wrong `kty` or
    /// curve, members missing or not base64url, an RSA key under 2048 bits).
    UnusableJwk => "the DPoP proof's jwk is not a public key that fits its alg",
    /// The signature does not verify under the header's `jwk`.
    Signature => "the DPoP proof's signature is invalid",
    /// `htm`, `htu` or `iat` is missing, or a claim has the wrong type.
    Claims => "the DPoP proof lacks a required claim (htm, htu, iat) or one has the wrong type",
    /// `htm` is not the request's method.
    Htm => "the DPoP proof's htm does not match the request method",
    /// `htu` is not the request's URL (after normalisation).
    Htu => "the DPoP proof's htu does not match the request URL",
    /// `ath` is missing, or not the hash of the access token sent with it.
    Ath => "the DPoP proof's ath does not match the access token",
    /// `iat` is older than the window allows.
    IatTooOld => "the DPoP proof's iat is too old",
    /// `iat` is further in the future than the window allows.
    IatInFuture => "the DPoP proof's iat is in the future",
    /// `jti` is missing, empty, not a string, or over [`crate::MAX_JTI_BYTES`].
    Jti => "the DPoP proof's jti is missing or too long",
    /// The server requires a nonce and the proof has none, or a stale one:
    /// the answer is `use_dpop_nonce` with a fresh `DPoP-Nonce` header.
    UseNonce => "the DPoP proof lacks a current server nonce; retry with the DPoP-Nonce header's value",
    /// The proof's `jti` was already used with the same key.
    Replayed => "the DPoP proof was already used",
    /// The proof's key is not the one the access token is bound to (`cnf.jkt`).
    Jkt => "the DPoP proof's key does not match the key the access token is bound to",
}

impl ProofError {
    /// The RFC 9449 error code for the `WWW-Authenticate` challenge (§7.1)
    /// or the token endpoint's error response (§5): `use_dpop_nonce` when
    /// the client should simply retry with the nonce the server sends,
    /// `invalid_dpop_proof` for every other defect.
    pub fn error_code(self) -> &'static str {
        match self {
            ProofError::UseNonce => "use_dpop_nonce",
            _ => "invalid_dpop_proof",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defect_has_its_own_description_fit_for_a_header() {
        for (index, defect) in ProofError::ALL.iter().enumerate() {
            let description = defect.description();
            assert!(!description.is_empty(), "{defect:?}");
            assert!(description.bytes().all(|b| b == b' ' || (b.is_ascii_graphic() && b != b'"' && b != b'\\')));
            assert_eq!(defect.to_string(), description);
            assert!(
                ProofError::ALL[..index].iter().all(|other| other.description() != description),
                "{defect:?} shares its description"
            );
        }
    }

    #[test]
    fn only_a_missing_nonce_asks_for_a_retry() {
        for defect in ProofError::ALL {
            let expected = if *defect == ProofError::UseNonce { "use_dpop_nonce" } else { "invalid_dpop_proof" };
            assert_eq!(defect.error_code(), expected);
        }
    }
}
