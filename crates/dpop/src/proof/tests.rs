//! Every check of [`verify`], with real ES256 keys (and one RSA key), each
//! defect once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Signer;
use serde_json::{Value, json};

use super::*;
use crate::test_key::TestKey;
use crate::{Nonces, thumbprint};

const HTU: &str = "https://api.example.com/api/v1/projects";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
const NOW: u64 = 1_700_000_000;

/// A client's key ([`TestKey`], as a browser's WebCrypto key would be),
/// making proofs for [`expected`].
struct Client(TestKey);

impl Client {
    fn new() -> Client {
        Client(TestKey::generate())
    }

    fn header(&self) -> Value {
        self.0.header()
    }

    /// A proof with `header` and `claims`, signed ES256 (raw r||s, as JWS
    /// and WebCrypto have it).
    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.0.sign(header, claims)
    }

    /// A valid proof for [`expected`], with `edit` applied to the claims.
    fn proof(&self, edit: impl FnOnce(&mut Value)) -> String {
        let mut claims = claims();
        edit(&mut claims);
        self.0.proof(&claims)
    }
}

fn claims() -> Value {
    json!({"jti": "e1j3V_bKic8-LAEB", "htm": "GET", "htu": HTU, "iat": NOW, "ath": ath(TOKEN)})
}

fn expected() -> Expected<'static> {
    Expected { htm: "GET", htus: &[HTU], access_token: Some(TOKEN), nonce: None, now: NOW }
}

fn check(proof: &str) -> Result<Proof, ProofError> {
    verify(proof, &expected(), &Window::default())
}

#[test]
fn a_valid_proof_passes_and_names_its_key() {
    let client = Client::new();
    let proof = check(&client.proof(|_| {})).unwrap();
    assert_eq!(proof.jkt, thumbprint(client.0.jwk()).unwrap());
    assert_eq!(proof.jti, "e1j3V_bKic8-LAEB");
    assert_eq!(proof.iat, NOW);
    assert_eq!(proof.nonce, None);
}

#[test]
fn the_token_endpoint_does_not_check_ath() {
    let client = Client::new();
    let without_token = Expected { access_token: None, ..expected() };
    let no_ath = client.proof(|claims| {
        claims.as_object_mut().unwrap().remove("ath");
    });
    assert!(verify(&no_ath, &without_token, &Window::default()).is_ok());
    assert_eq!(check(&no_ath), Err(ProofError::Ath), "but a resource server does");
}

#[test]
fn a_wrong_or_missing_ath_is_refused() {
    let client = Client::new();
    assert_eq!(check(&client.proof(|c| c["ath"] = json!(ath("another token")))), Err(ProofError::Ath));
    assert_eq!(check(&client.proof(|c| c["ath"] = json!(ath(TOKEN).to_uppercase()))), Err(ProofError::Ath));
    assert_eq!(check(&client.proof(|c| c["ath"] = json!(null))), Err(ProofError::Ath));
}

#[test]
fn htm_must_be_the_method_exactly() {
    let client = Client::new();
    for htm in ["POST", "get", "GET ", ""] {
        assert_eq!(check(&client.proof(|c| c["htm"] = json!(htm))), Err(ProofError::Htm), "{htm}");
    }
    assert_eq!(check(&client.proof(|c| c["htm"] = json!(["GET"]))), Err(ProofError::Claims));
}

#[test]
fn htu_must_be_the_url_up_to_normalisation() {
    let client = Client::new();
    for same in [
        "https://API.example.com/api/v1/projects",
        "https://api.example.com:443/api/v1/projects",
        "https://api.example.com/api/v1/projects?page=2",
        "https://api.example.com/api/v1/projects#x",
    ] {
        assert!(check(&client.proof(|c| c["htu"] = json!(same))).is_ok(), "{same}");
    }
    for other in [
        "http://api.example.com/api/v1/projects",
        "https://api.example.com/api/v1/users",
        "https://api.example.com/api/v1/projects/",
        "https://evil.example/api/v1/projects",
        "/api/v1/projects",
        "",
    ] {
        assert_eq!(check(&client.proof(|c| c["htu"] = json!(other))), Err(ProofError::Htu), "{other}");
    }
    assert_eq!(check(&client.proof(|c| c["htu"] = json!(5))), Err(ProofError::Claims));
}

#[test]
fn with_several_urls_the_proof_may_name_any_of_them_and_no_other() {
    let client = Client::new();
    let local = "http://localhost:8080/api/v1/projects";
    let both = Expected { htus: &[HTU, local], ..expected() };
    let verify_both = |proof: &str| verify(proof, &both, &Window::default());
    assert!(verify_both(&client.proof(|_| ())).is_ok());
    assert!(verify_both(&client.proof(|c| c["htu"] = json!(local))).is_ok());
    assert_eq!(
        verify_both(&client.proof(|c| c["htu"] = json!("http://127.0.0.1:8080/api/v1/projects"))),
        Err(ProofError::Htu)
    );
    let none = Expected { htus: &[], ..expected() };
    assert_eq!(verify(&client.proof(|_| ()), &none, &Window::default()), Err(ProofError::Htu));
}

#[test]
fn iat_must_be_within_the_window() {
    let client = Client::new();
    let window = Window::default();
    let at = |iat: Value| check(&client.proof(|c| c["iat"] = iat));
    assert!(at(json!(NOW - window.max_age_secs)).is_ok());
    assert!(at(json!(NOW + window.max_future_secs)).is_ok());
    assert!(at(json!(NOW as f64 + 0.5)).is_ok(), "a fractional NumericDate");
    assert_eq!(at(json!(NOW - window.max_age_secs - 1)), Err(ProofError::IatTooOld));
    assert_eq!(at(json!(0)), Err(ProofError::IatTooOld));
    assert_eq!(at(json!(NOW + window.max_future_secs + 1)), Err(ProofError::IatInFuture));
    assert_eq!(at(json!(u64::MAX)), Err(ProofError::IatInFuture));
    assert_eq!(at(json!(1e300)), Err(ProofError::IatInFuture));
    for bad in [json!(-1), json!("1700000000"), json!(null)] {
        assert_eq!(at(bad.clone()), Err(ProofError::Claims), "{bad}");
    }
    let missing = client.proof(|c| {
        c.as_object_mut().unwrap().remove("iat");
    });
    assert_eq!(check(&missing), Err(ProofError::Claims));
}

#[test]
fn jti_must_be_a_short_non_empty_string() {
    let client = Client::new();
    assert!(check(&client.proof(|c| c["jti"] = json!("j".repeat(MAX_JTI_BYTES)))).is_ok());
    for bad in [json!(""), json!("j".repeat(MAX_JTI_BYTES + 1)), json!(5), json!(null)] {
        assert_eq!(check(&client.proof(|c| c["jti"] = bad.clone())), Err(ProofError::Jti), "{bad}");
    }
    let missing = client.proof(|c| {
        c.as_object_mut().unwrap().remove("jti");
    });
    assert_eq!(check(&missing), Err(ProofError::Jti));
}

#[test]
fn typ_must_be_dpop_jwt() {
    let client = Client::new();
    for ok in ["dpop+jwt", "DPoP+JWT", "application/dpop+jwt"] {
        let mut header = client.header();
        header["typ"] = json!(ok);
        assert!(check(&client.sign(&header, &claims())).is_ok(), "{ok}");
    }
    for bad in [json!("JWT"), json!("at+jwt"), json!("dpop+jwt "), json!("application/"), json!(1)] {
        let mut header = client.header();
        header["typ"] = bad.clone();
        assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::Typ), "{bad}");
    }
    let mut header = client.header();
    header.as_object_mut().unwrap().remove("typ");
    assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::Typ));
}

#[test]
fn none_hmac_and_unknown_algorithms_are_refused() {
    let client = Client::new();
    for alg in ["none", "HS256", "HS512", "RS512", "ES512", "es256", ""] {
        let mut header = client.header();
        header["alg"] = json!(alg);
        assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::Alg), "{alg}");
    }
    // `alg: none` with the empty signature it implies.
    let mut header = client.header();
    header["alg"] = json!("none");
    let unsigned =
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims().to_string()));
    assert_eq!(check(&unsigned), Err(ProofError::Alg));
    // HS256 keyed with the public key's bytes: the classic confusion.
    let mut header = client.header();
    header["alg"] = json!("HS256");
    header["jwk"] = json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(b"secret")});
    assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::Alg));
}

#[test]
fn the_jwk_must_be_present_public_and_fit_the_algorithm() {
    let client = Client::new();
    let mut header = client.header();
    header.as_object_mut().unwrap().remove("jwk");
    assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::NoJwk));
    header["jwk"] = json!("not an object");
    assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::NoJwk));

    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        let mut header = client.header();
        header["jwk"][private] = json!("AAAA");
        assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::PrivateKey), "{private}");
    }

    let mut header = client.header();
    header["jwk"]["crv"] = json!("P-384");
    assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::UnusableJwk));
    let mut header = client.header();
    header["alg"] = json!("RS256");
    assert_eq!(check(&client.sign(&header, &claims())), Err(ProofError::UnusableJwk));
}

#[test]
fn the_signature_must_verify_under_the_jwk() {
    let client = Client::new();
    let stranger = Client::new();
    // Signed by another key than the one in the header.
    let forged = stranger.sign(&client.header(), &claims());
    assert_eq!(check(&forged), Err(ProofError::Signature));
    // The claims changed after signing.
    let proof = client.proof(|_| {});
    let (header, rest) = proof.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let mut other = claims();
    other["htm"] = json!("DELETE");
    let moved = format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(other.to_string()));
    assert_eq!(check(&moved), Err(ProofError::Signature));
    // A DER-encoded signature, as some libraries produce, is not a JWS one.
    let input = &proof[..proof.rfind('.').unwrap()];
    let signature: Signature = client.0.signing_key().sign(input.as_bytes());
    let der = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()));
    assert_eq!(check(&der), Err(ProofError::Signature));
    assert_eq!(check(&format!("{input}.")), Err(ProofError::Signature));
    assert_eq!(check(&format!("{input}.!!!")), Err(ProofError::Signature));
}

#[test]
fn malformed_proofs_are_refused_without_panicking() {
    let client = Client::new();
    let proof = client.proof(|_| {});
    let header = URL_SAFE_NO_PAD.encode(client.header().to_string());
    let not_json = URL_SAFE_NO_PAD.encode("{not json");
    let array = URL_SAFE_NO_PAD.encode("[]");
    for bad in [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b.c".into(),
        format!("{proof}.x"),
        format!("{not_json}.e30.sig"),
        format!("{array}.e30.sig"),
        format!("{header}é.e30.sig"),
        "x".repeat(MAX_PROOF_BYTES + 1),
        format!("{}.{}", proof, "A".repeat(MAX_PROOF_BYTES)),
    ] {
        assert_eq!(check(&bad), Err(ProofError::Malformed), "{bad:.60}");
    }
    // The claims are only read once the signature holds.
    let claims_not_json = client.sign(&client.header(), &json!([]));
    assert_eq!(check(&claims_not_json), Err(ProofError::Malformed));
    let mut critical = client.header();
    critical["crit"] = json!(["exp"]);
    assert_eq!(check(&client.sign(&critical, &claims())), Err(ProofError::Malformed));
}

#[test]
fn nonces_are_required_when_the_server_asks() {
    let client = Client::new();
    let nonces = Nonces::new([3; 32], std::time::Duration::from_secs(60));
    let with_nonces = Expected { nonce: Some(&nonces), ..expected() };
    let run = |proof: &str| verify(proof, &with_nonces, &Window::default());
    assert_eq!(run(&client.proof(|_| {})), Err(ProofError::UseNonce));
    assert_eq!(run(&client.proof(|c| c["nonce"] = json!("made-up"))), Err(ProofError::UseNonce));
    assert_eq!(run(&client.proof(|c| c["nonce"] = json!(7))), Err(ProofError::UseNonce));
    let stale = nonces.current(NOW - 120);
    assert_eq!(run(&client.proof(|c| c["nonce"] = json!(stale))), Err(ProofError::UseNonce));
    let fresh = nonces.current(NOW);
    let proof = run(&client.proof(|c| c["nonce"] = json!(fresh))).unwrap();
    assert_eq!(proof.nonce.as_deref(), Some(fresh.as_str()));
    // Without nonces required, one is carried along but not checked.
    assert!(check(&client.proof(|c| c["nonce"] = json!("anything"))).is_ok());
}

#[test]
fn rsa_keys_work_with_rs256_and_ps256() {
    use jsonwebtoken::{EncodingKey, Header};
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;

    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let encoding = EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes());
    let jwk = json!({
        "kty": "RSA",
        "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
    });
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let mut header = Header::new(alg);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(jwk.clone()).unwrap());
        let proof = jsonwebtoken::encode(&header, &claims(), &encoding).unwrap();
        assert_eq!(check(&proof).unwrap().jkt, thumbprint(&jwk).unwrap(), "{alg:?}");
    }
}

#[test]
fn a_request_has_one_proof_header_of_visible_ascii_or_none() {
    let none: [&[u8]; 0] = [];
    assert_eq!(single_proof(none), Ok(None));
    assert_eq!(single_proof([b"a.b.c".as_slice()]), Ok(Some("a.b.c")));
    assert_eq!(single_proof([b"a.b.c".as_slice(), b"d.e.f".as_slice()]), Err(ProofError::Multiple));
    assert_eq!(single_proof(["a.b.é".as_bytes()]), Err(ProofError::Malformed));
    assert_eq!(single_proof([b"a.b\x01.c".as_slice()]), Err(ProofError::Malformed));
}
