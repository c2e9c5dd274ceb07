//! [`Rejection`]: the specific check a token, or its `Authorization` header,
//! failed.
//!
//! The enum, its descriptions and [`Rejection::ALL`] are generated from one
//! table by the `rejections!` macro below, so a new variant cannot be left
//! out of `ALL` (or lack a description): there is no second list to forget.
//! Tests iterate `ALL` to check every description, for instance that each
//! one fits a `WWW-Authenticate` header.

/// Defines [`Rejection`], [`Rejection::description`] and [`Rejection::ALL`]
/// from one table of `Variant => "description"`.
macro_rules! rejections {
    ($($(#[$doc:meta])* $variant:ident => $description:literal,)+) => {
        /// The specific check a token failed. Descriptions are fixed strings,
        /// never echoes of the input, since they go into a response header.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Rejection {
            $($(#[$doc])* $variant,)+
        }

        impl Rejection {
            /// Every rejection, in declaration order.
            pub const ALL: &'static [Rejection] = &[$(Rejection::$variant,)+];

            /// A short human-readable reason, safe to put in `error_description`.
            pub fn description(self) -> &'static str {
                match self {
                    $(Rejection::$variant => $description,)+
                }
            }
        }
    };
}

rejections! {
    /// Two or more `Authorization` headers.
    SeveralAuthorizationHeaders => "the request has more than one Authorization header",
    /// The header is not visible ASCII.
    UnreadableAuthorizationHeader => "the Authorization header is not visible ASCII",
    /// The token is empty or not a `b64token`.
    EmptyToken => "the bearer token is empty or contains invalid characters",
    /// Over [`super::MAX_TOKEN_BYTES`].
    TooLarge => "the token is too large",
    /// Not three base64url parts with a JSON header.
    NotAJwt => "the token is not a well-formed JWT with a supported algorithm",
    /// An algorithm outside [`super::ALLOWED_ALGORITHMS`].
    UnsupportedAlgorithm => "the token's signature algorithm is not accepted",
    /// A `typ` the configured [`super::TokenTypes`] do not take.
    UnsupportedType => "the token's typ is not an accepted access-token type",
    /// A `crit` header.
    CriticalHeader => "the token has critical header extensions this API does not understand",
    /// No key of the issuer has the token's `kid` (or fits, without one).
    UnknownKey => "the token was signed with an unknown key",
    /// No `kid`, and several keys fit.
    AmbiguousKey => "the token has no kid and several keys could have signed it",
    /// The named key's type or `alg` does not fit the token's algorithm.
    KeyMismatch => "the token's algorithm does not fit the key it names",
    /// The signature does not verify.
    BadSignature => "the token's signature is invalid",
    /// `exp` is past, beyond the leeway.
    Expired => "the token has expired",
    /// `nbf` is ahead, beyond the leeway.
    NotYetValid => "the token is not valid yet",
    /// `iss` is not the configured issuer.
    WrongIssuer => "the token was issued by another issuer",
    /// `aud` does not hold the API's audience.
    WrongAudience => "the token is not meant for this API",
    /// `exp`, `iss` or `aud` is missing.
    MissingClaim => "the token lacks a required claim (exp, iss and aud are required)",
    /// A claim has the wrong type (`exp` a string, `sub` a number).
    InvalidClaim => "a claim of the token has an invalid format",
    /// `nonce`, `at_hash`, or an `aud` naming the app's client: an ID token.
    IdToken => "the token is an ID token, not an access token",
    /// A `cnf` claim without a `jkt`: bound to something this API cannot check.
    UnsupportedConfirmation => "the token is bound to a key by a confirmation method this API does not support",
    /// A DPoP-bound token (`cnf.jkt`) sent with the `Bearer` scheme.
    DpopBound => "the token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof",
    /// An unbound token sent with the `DPoP` scheme.
    NotDpopBound => "the token is not DPoP-bound (it has no cnf.jkt claim) and cannot be used with the DPoP scheme",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rejection_has_its_own_description() {
        // A shared description would leave clients (and the log) unable to
        // tell two failed checks apart.
        for (index, rejection) in Rejection::ALL.iter().enumerate() {
            let description = rejection.description();
            assert!(!description.is_empty(), "{rejection:?}");
            assert!(
                Rejection::ALL[..index].iter().all(|other| other.description() != description),
                "{rejection:?} shares its description"
            );
        }
    }
}
