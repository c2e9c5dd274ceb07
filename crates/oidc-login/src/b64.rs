//! Base64url without padding (RFC 4648 §5, as JWS and PKCE use it): the
//! encoding of random tokens and the S256 challenge, and the decoding of
//! ID-token parts and JWK members.
//!
//! It exists for size: this module is compiled into the SPA's wasm, where the
//! `base64` crate's general engine cost about 6 KB of code for the two
//! functions needed here. It is exactly as strict as the engine it replaces
//! (`URL_SAFE_NO_PAD`): only the URL-safe alphabet, no `=` padding, no length
//! that no byte string encodes to (`len % 4 == 1`), and no non-zero bits
//! after the last whole byte, so every byte string has one encoding only.

/// Why a text is not base64url; every case is refused, none repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// A character outside `A–Z a–z 0–9 - _` (padding `=` included).
    InvalidByte,
    /// A length of `4k + 1` characters, which no byte string encodes to.
    InvalidLength,
    /// The last character carries bits beyond the last byte that are not
    /// zero: a non-canonical encoding.
    TrailingBits,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `bytes` as base64url text without padding.
pub(crate) fn encode(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let symbol = |index: u32| char::from(ALPHABET[(index & 0x3F) as usize]);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |group, (i, &b)| group | (u32::from(b) << (16 - 8 * i)));
        // A chunk of n bytes takes n + 1 symbols; the rest would be padding.
        for i in 0..=chunk.len() {
            out.push(symbol(group >> (18 - 6 * i)));
        }
    }
    out
}

/// The bytes base64url `text` (without padding) encodes, or why it is not
/// the canonical encoding of any.
pub(crate) fn decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, DecodeError> {
    let text = text.as_ref();
    if text.len() % 4 == 1 {
        return Err(DecodeError::InvalidLength);
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.chunks(4) {
        let mut group = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            group |= value(c).ok_or(DecodeError::InvalidByte)? << (18 - 6 * i);
        }
        // A chunk of n symbols holds n - 1 whole bytes; the bits below them
        // must be zero.
        let whole = chunk.len() - 1;
        if group & (0x00FF_FFFF >> (8 * whole)) != 0 {
            return Err(DecodeError::TrailingBits);
        }
        out.extend((0..whole).map(|i| (group >> (16 - 8 * i)) as u8));
    }
    Ok(out)
}

fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10's vectors, without their padding (the §5 alphabet has
    /// the same symbols for these inputs).
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc_4648_vectors() {
        for (bytes, text) in VECTORS {
            assert_eq!(encode(bytes), text, "{bytes:?}");
            assert_eq!(decode(text).as_deref(), Ok(bytes.as_bytes()), "{text:?}");
        }
    }

    #[test]
    fn the_url_safe_symbols() {
        assert_eq!(encode([0xFB, 0xFF, 0xBF]), "-_-_");
        assert_eq!(decode("-_-_"), Ok(vec![0xFB, 0xFF, 0xBF]));
        assert_eq!(encode([0xFF]), "_w");
        assert_eq!(encode([0x00, 0x10, 0x83, 0x10, 0x51, 0x87]), "ABCDEFGH");
    }

    #[test]
    fn round_trips_every_length_and_byte() {
        let all: Vec<u8> = (0..=255).collect();
        for len in 0..=all.len() {
            for start in [0, all.len() - len] {
                let bytes = &all[start..start + len];
                let text = encode(bytes);
                assert_eq!(text.len(), (len * 4).div_ceil(3), "length {len}");
                assert_eq!(decode(&text).as_deref(), Ok(bytes), "{text}");
            }
        }
    }

    #[test]
    fn refuses_characters_outside_the_alphabet() {
        for text in ["Zm9v+mFy", "Zm9v/mFy", "Zm8=", "Zg==", "Zm9vYg==", "Zm 9", "Zm9\n", "Zm9vY\u{e9}", "!!"] {
            assert_eq!(decode(text), Err(DecodeError::InvalidByte), "{text:?}");
        }
    }

    #[test]
    fn refuses_lengths_no_bytes_encode_to() {
        for text in ["Z", "Zm9vY", "Zm9vYmFyZ"] {
            assert_eq!(decode(text), Err(DecodeError::InvalidLength), "{text:?}");
        }
    }

    #[test]
    fn refuses_non_zero_trailing_bits() {
        // "Zg" is `f`; "Zh" differs only in bits beyond the byte.
        for text in ["Zh", "Zv", "Zm9", "Zm9vYh", "Zm9vYmF"] {
            assert_eq!(decode(text), Err(DecodeError::TrailingBits), "{text:?}");
        }
        assert_eq!(decode("Zm9vYmE"), Ok(b"fooba".to_vec()));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod fuzz {
    //! Property tests (`cargo xtask fuzz`, and a few cases in every `cargo test`): every byte string round
    //! trips, only the one canonical text of each decodes, and the codec agrees with the `base64` crate's
    //! `URL_SAFE_NO_PAD` engine, which it replaces, on every text.

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    use super::*;
    use crate::fuzz_harness::check;

    /// Texts near base64url: its alphabet with the standard alphabet's symbols, padding and spaces mixed in,
    /// of every length modulo 4, and any text.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "[A-Za-z0-9_-]{0,24}",
            2 => "[A-Za-z0-9_+/= -]{0,24}",
            1 => "[A-Za-z0-9_-]{0,8}[^A-Za-z0-9_-][A-Za-z0-9_-]{0,8}",
            1 => any::<String>(),
        ]
    }

    #[test]
    fn fuzz_b64_every_byte_string_round_trips() {
        check("oidc_login::b64_round_trip", prop::collection::vec(any::<u8>(), 0..256), |bytes| {
            let text = encode(&bytes);
            prop_assert_eq!(&text, &URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(decode(&text), Ok(bytes));
            Ok(())
        });
    }

    #[test]
    fn fuzz_b64_decodes_the_canonical_text_only() {
        check("oidc_login::b64_canonical", text(), |text| {
            let reference = URL_SAFE_NO_PAD.decode(&text);
            match decode(&text) {
                Ok(bytes) => {
                    prop_assert_eq!(&encode(&bytes), &text, "a decoded text is the encoding of its bytes");
                    prop_assert_eq!(reference.ok(), Some(bytes));
                }
                Err(error) => {
                    prop_assert!(reference.is_err(), "{:?} is refused ({:?}) but base64 decodes it", text, error);
                    let expected = if text.len() % 4 == 1 {
                        DecodeError::InvalidLength
                    } else if text.bytes().any(|b| value(b).is_none()) {
                        DecodeError::InvalidByte
                    } else {
                        DecodeError::TrailingBits
                    };
                    prop_assert_eq!(error, expected);
                }
            }
            Ok(())
        });
    }
}
