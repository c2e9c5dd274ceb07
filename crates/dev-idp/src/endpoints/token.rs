//! The token endpoint (RFC 6749 §3.2) and its two grants:
//!
//! - `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5): exchanges a
//!   code and its PKCE verifier for an ID token and an access token, plus a
//!   refresh token when `offline_access` was granted. Every presentation of
//!   a code consumes it, before anything else about the grant is judged,
//!   so a code can never be tried twice; presenting a spent code again also
//!   revokes the refresh-token family its first exchange started (RFC 6749
//!   §4.1.2; see [`crate::authorization_codes`]). A code whose authorization
//!   request named a DPoP key (`dpop_jkt`, RFC 9449 §10) is exchanged only
//!   with a proof by that key.
//! - `refresh_token` (RFC 6749 §6, OpenID Connect Core §12): rotates the
//!   refresh token (see [`crate::refresh_tokens`]) and returns fresh tokens made
//!   from the user's current roles and permissions, so role changes show up
//!   at the next refresh. The rotation is the last step that can fail: the
//!   tokens are read and signed first, so a refresh that fails (a 500)
//!   leaves the presented token as it was, and the client's retry is not
//!   mistaken for reuse.
//!
//! # DPoP (RFC 9449)
//!
//! Either grant may carry a DPoP proof (see `dpop_proof`), judged before the
//! grant so that a refusal for want of the server's nonce spends nothing.
//! With a valid proof the access token is bound to the proof's key
//! (`cnf.jkt`), the response says `token_type: DPoP`, and the refresh token
//! is bound to the key too (RFC 9449 §5: the client is public); without
//! one, the tokens are Bearer tokens as before, unless `--require-dpop`
//! refuses the request. A refresh token bound to a key is refused
//! (`invalid_grant`) without a proof by that key, and the refusal changes
//! nothing (see [`crate::refresh_tokens`]).
//!
//! When the provider requires nonces (`--dpop-nonce`), *every* response of
//! the token endpoint carries the current one in `DPoP-Nonce`, the
//! successful ones included (RFC 9449 §8.2 lets a server send a new nonce
//! with any response): a client that keeps the last nonce it saw then
//! needs the `use_dpop_nonce` round trip only on its first request and
//! after a restart of the provider, not each time the nonce rotates.
//!
//! Errors are RFC 6749 §5.2 JSON bodies with `Cache-Control: no-store`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use permissions::names::API_AUDIENCE;
use serde::Serialize;
use store::User;

use super::client_request::{public_client, strict_form_params};
use super::dpop_proof;
use crate::authorization_codes::Taken;
use crate::claims::TokenContext;
use crate::error::{TokenError, no_store};
use crate::jwt::{self, ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE};
use crate::params::Params;
use crate::scopes::{self, OFFLINE_ACCESS, OPENID};
use crate::state::AppState;
use crate::{pkce, random, refresh_tokens};

/// The parameters a token request must not repeat.
const CHECKED_PARAMS: [&str; 7] =
    ["grant_type", "code", "redirect_uri", "client_id", "code_verifier", "refresh_token", "scope"];

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    access_token: String,
    id_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
    /// Present when the granted scope includes `offline_access`.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// `POST /oauth/token`.
pub(crate) async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut response = match exchange(&state, &headers, &body).await {
        Ok(tokens) => {
            let mut response = Json(tokens).into_response();
            no_store(&mut response);
            response
        }
        Err(error) => error.into_response(),
    };
    // Every answer, `use_dpop_nonce` above all, but also the others (see
    // the module documentation).
    if let Some(nonce) = dpop_proof::current_nonce(&state)
        && let Ok(value) = HeaderValue::from_str(&nonce)
    {
        response.headers_mut().insert(dpop::DPOP_NONCE_HEADER, value);
    }
    response
}

async fn exchange(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<TokenResponse, TokenError> {
    let params = strict_form_params(headers, body, &CHECKED_PARAMS)?;
    let grant_type =
        params.get("grant_type").ok_or_else(|| TokenError::InvalidRequest("grant_type is missing".into()))?;
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return Err(TokenError::UnsupportedGrantType(
            "only the authorization_code and refresh_token grants are supported".into(),
        ));
    }
    let client_id = public_client(state, headers, &params)?;
    // Before the grant: a refused proof must leave the code unspent and the
    // refresh token unrotated, for the client's retry.
    let dpop_jkt = dpop_proof::proven_key(state, headers)?;
    if grant_type == "refresh_token" {
        refresh_grant(state, &params, client_id, dpop_jkt.as_deref()).await
    } else {
        authorization_code_grant(state, &params, client_id, dpop_jkt.as_deref()).await
    }
}

/// `dpop_jkt` is the thumbprint of the key the request's proof proved, if
/// it carried one.
async fn authorization_code_grant(
    state: &AppState,
    params: &Params,
    client_id: &str,
    dpop_jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let code = params.get("code").ok_or_else(|| TokenError::InvalidRequest("code is missing".into()))?;
    let grant = match state.codes().take(code, state.now()) {
        Taken::First(grant) => Some(grant),
        // Whatever else this request says, the code was used before: what
        // its first exchange issued is revoked (RFC 6749 §4.1.2).
        Taken::Reused { issued } => {
            if let Some(issued) = issued {
                refresh_tokens::revoke_issued_with_reused_code(state, &issued).await?;
            }
            None
        }
        Taken::Unknown => None,
    };

    let redirect_uri =
        params.get("redirect_uri").ok_or_else(|| TokenError::InvalidRequest("redirect_uri is missing".into()))?;
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| TokenError::InvalidRequest("PKCE is required: code_verifier is missing".into()))?;
    if !pkce::is_valid_verifier(verifier) {
        return Err(TokenError::InvalidRequest(
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~".into(),
        ));
    }

    let grant = grant.ok_or_else(|| TokenError::InvalidGrant("the code is unknown, already used or expired".into()))?;
    if grant.expires_at <= state.now() {
        return Err(TokenError::InvalidGrant("the code has expired".into()));
    }
    if grant.client_id != client_id {
        return Err(TokenError::InvalidGrant("the code was issued to another client".into()));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(TokenError::InvalidGrant("redirect_uri differs from the one in the authorization request".into()));
    }
    if !pkce::verifies(verifier, &grant.code_challenge) {
        return Err(TokenError::InvalidGrant("code_verifier does not match the code_challenge".into()));
    }
    // RFC 9449 §10: the key named at the authorization endpoint must be the
    // one proved here. A code without `dpop_jkt` is exchanged with any key,
    // or none: the binding then starts here.
    if let Some(bound) = grant.dpop_jkt.as_deref()
        && dpop_jkt != Some(bound)
    {
        return Err(TokenError::InvalidGrant(
            "the authorization request bound the code to a DPoP key (dpop_jkt); the exchange needs a DPoP proof by that key"
                .into(),
        ));
    }

    let user = state
        .store()
        .user_by_id(grant.user_id)
        .await?
        .ok_or_else(|| TokenError::InvalidGrant("the user no longer exists".into()))?;
    let scopes: Vec<&str> = scopes::split(&grant.scope).collect();
    let refresh_token = scopes.contains(&OFFLINE_ACCESS).then(refresh_tokens::Minted::mint);
    let issue = Issue {
        user: &user,
        client_id,
        audience: grant.audience.as_deref(),
        scopes: &scopes,
        nonce: grant.nonce.as_deref(),
        auth_time: grant.auth_time,
        refresh_token: refresh_token.as_ref().map(|minted| minted.token.clone()),
        dpop_jkt,
    };
    let response = issue_tokens(state, issue).await?;
    // The family is stored once the response is signed, so a failed
    // exchange leaves none behind, and the code remembers it for a reuse.
    if let Some(first) = &refresh_token {
        let issued = refresh_tokens::start_family(state, &grant, first, dpop_jkt).await?;
        if state.codes().record_refresh_token(code, issued.clone()) {
            // The code came back while this exchange ran, too early to find
            // this family: revoke it here, and hand out nothing.
            refresh_tokens::revoke_issued_with_reused_code(state, &issued).await?;
            return Err(TokenError::InvalidGrant("the code was used twice; the tokens it issued are revoked".into()));
        }
    }
    tracing::info!(user = %user.username, "issued tokens");
    Ok(response)
}

/// `dpop_jkt` is the thumbprint of the key the request's proof proved, if
/// it carried one: a token bound to a key is rotated only with it.
async fn refresh_grant(
    state: &AppState,
    params: &Params,
    client_id: &str,
    dpop_jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let presented =
        params.get("refresh_token").ok_or_else(|| TokenError::InvalidRequest("refresh_token is missing".into()))?;
    let presented_hash = refresh_tokens::hash(presented);
    // The whole response is read and signed before the token is rotated,
    // and the rotation (one transaction) is the last step that can fail:
    // a rotation committed for a response that then failed would make the
    // client's honest retry look like reuse and revoke its family. The
    // response is made from the stored token's sign-in (user, audience,
    // auth_time, scope), which no rotation ever changes, so this read
    // cannot go stale; whether the token may be rotated at all is judged
    // by the rotation itself, atomically, and a refused rotation throws
    // the signed tokens away. Judging a narrower `scope` first also means
    // a bad request costs the client nothing.
    let stored =
        state.store().refresh_token(&presented_hash).await?.filter(|stored| stored.client_id == client_id).ok_or_else(
            || TokenError::InvalidGrant("the refresh token is unknown or was issued to another client".into()),
        )?;
    let scopes = narrowed_scopes(&stored.scope, params.get("scope"))?;
    let user = state
        .store()
        .user_by_id(stored.user_id)
        .await?
        .ok_or_else(|| TokenError::InvalidGrant("the user no longer exists".into()))?;
    let successor = refresh_tokens::Minted::mint();
    // OpenID Connect Core §12.2: the same iss, sub and aud, the auth_time
    // of the original sign-in, and no nonce.
    let issue = Issue {
        user: &user,
        client_id,
        audience: stored.audience.as_deref(),
        scopes: &scopes,
        nonce: None,
        auth_time: stored.auth_time,
        refresh_token: Some(successor.token.clone()),
        dpop_jkt,
    };
    let response = issue_tokens(state, issue).await?;
    let record = refresh_tokens::rotate(state, &presented_hash, client_id, &successor, dpop_jkt).await?;
    tracing::info!(user = %user.username, family = %record.family_id, "refreshed tokens");
    Ok(response)
}

/// The scopes of a refresh: the family's granted scope, or the narrower
/// `requested` one (RFC 6749 §6: it "MUST NOT include any scope not
/// originally granted"). It must keep `openid`: every response here
/// carries an ID token. The new refresh token keeps the family's full
/// scope either way, as RFC 6749 §6 demands.
fn narrowed_scopes<'a>(granted: &'a str, requested: Option<&str>) -> Result<Vec<&'a str>, TokenError> {
    let granted: Vec<&str> = scopes::split(granted).collect();
    let Some(requested) = requested else {
        return Ok(granted);
    };
    let requested: Vec<&str> = scopes::split(requested).collect();
    if let Some(extra) = requested.iter().find(|scope| !granted.contains(scope)) {
        return Err(TokenError::InvalidScope(format!("the scope {extra} was not granted at sign-in")));
    }
    if !requested.contains(&OPENID) {
        return Err(TokenError::InvalidScope("scope must include openid".into()));
    }
    // The granted order is canonical; keep it.
    Ok(granted.into_iter().filter(|scope| requested.contains(scope)).collect())
}

/// Everything one token response is made from.
struct Issue<'a> {
    user: &'a User,
    client_id: &'a str,
    audience: Option<&'a str>,
    scopes: &'a [&'a str],
    nonce: Option<&'a str>,
    auth_time: i64,
    refresh_token: Option<String>,
    /// The key the access token is bound to (the request's DPoP proof's).
    dpop_jkt: Option<&'a str>,
}

/// Signs the ID and access tokens for `issue`, with the user's roles and
/// permissions as the store has them now.
async fn issue_tokens(state: &AppState, issue: Issue<'_>) -> Result<TokenResponse, TokenError> {
    let store = state.store();
    let roles = store.user_roles(issue.user.id).await?;
    let permissions = store.user_permissions(issue.user.id).await?;
    let ttl = state.settings().token_ttl.as_secs();
    let jti = random::token(16);
    // Without an `audience` the access token is still issued for the one
    // API: Auth0 would hand out an opaque /userinfo token instead, which is
    // useless to this SPA, and a default audience is what Auth0 tenants
    // configure for that reason.
    let context = TokenContext {
        issuer: state.issuer().as_str(),
        client_id: issue.client_id,
        audience: issue.audience.unwrap_or(API_AUDIENCE),
        user: issue.user,
        roles: &roles,
        permissions: &permissions,
        scopes: issue.scopes,
        nonce: issue.nonce,
        auth_time: issue.auth_time,
        now: state.now(),
        ttl_secs: ttl as i64,
        jti: &jti,
        dpop_jkt: issue.dpop_jkt,
    };
    // One snapshot of the keys for both tokens: a rotation noticed between
    // them would otherwise split the pair across two keys.
    let keys = state.keys();
    let key = keys.active();
    let sign_error = |e: jsonwebtoken::errors::Error| TokenError::Internal(format!("signing failed: {e}"));
    let id_token = jwt::sign(key, ID_TOKEN_TYPE, &context.id_token_claims()).map_err(sign_error)?;
    let access_token = jwt::sign(key, ACCESS_TOKEN_TYPE, &context.access_token_claims()).map_err(sign_error)?;
    Ok(TokenResponse {
        access_token,
        id_token,
        // RFC 9449 §5: a DPoP-bound access token is of the DPoP type.
        token_type: if issue.dpop_jkt.is_some() { "DPoP" } else { "Bearer" },
        expires_in: ttl,
        scope: context.scope_string(),
        refresh_token: issue.refresh_token,
    })
}

#[cfg(test)]
mod tests {
    use axum::extract::State;
    use axum::http::header::CONTENT_TYPE;
    use axum::http::{HeaderValue, StatusCode};
    use store::Store;

    use super::*;
    use crate::authorization_codes::CodeGrant;
    use crate::config::{Issuer, SpaOrigin};
    use crate::signing_keys::{KeySet, generate_key};
    use crate::state::Settings;

    /// A refresh-token request as the SPA sends it, answered by `state`.
    async fn refresh(state: &AppState, token: &str) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "refresh_token"),
                ("refresh_token", token),
                ("client_id", state.client().id()),
            ])
            .finish();
        post(State(state.clone()), headers, Bytes::from(body)).await
    }

    /// Issue 9, item 6: a refresh whose response fails (here: signing) must
    /// not have rotated the token, or the client's honest retry would look
    /// like reuse and revoke the family.
    #[tokio::test]
    async fn a_refresh_that_fails_to_sign_leaves_the_presented_token_usable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("app.db")).await.unwrap();
        let key = generate_key().unwrap();
        let settings = Settings::new(
            Issuer::parse("http://127.0.0.1:18081").unwrap(),
            vec![SpaOrigin::parse("http://127.0.0.1:18080").unwrap()],
        );
        // Two providers on one database: the same keys, but one cannot sign.
        let working = AppState::new(settings.clone(), store.clone(), KeySet::single(&key).unwrap());
        let broken = AppState::new(settings, store.clone(), KeySet::unable_to_sign(&key).unwrap());
        let user = store.user_by_username("jhon").await.unwrap().unwrap();
        let grant = CodeGrant {
            client_id: working.client().id().to_owned(),
            redirect_uri: working.settings().spa_origins[0].redirect_uri(),
            code_challenge: "unused".into(),
            nonce: None,
            user_id: user.id,
            scope: "openid offline_access".into(),
            audience: None,
            auth_time: working.now(),
            expires_at: working.now() + 60,
            dpop_jkt: None,
        };
        let first = refresh_tokens::Minted::mint();
        refresh_tokens::start_family(&working, &grant, &first, None).await.unwrap();
        let token = first.token;

        let failed = refresh(&broken, &token).await;
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let presented = store.refresh_token(&refresh_tokens::hash(&token)).await.unwrap().unwrap();
        assert_eq!(presented.used_at, None, "a failed response must not have rotated the token");

        // The client retries, honestly, and gets its tokens; nothing was revoked.
        let retried = refresh(&working, &token).await;
        assert_eq!(retried.status(), StatusCode::OK);
        let family = store.refresh_token_family(&presented.family_id).await.unwrap();
        assert_eq!(family.len(), 2, "{family:?}");
        assert!(family.iter().all(|t| t.revoked_at.is_none()), "{family:?}");
    }

    #[test]
    fn a_refresh_may_narrow_the_scope_but_not_widen_it() {
        let granted = "openid profile email offline_access";
        assert_eq!(narrowed_scopes(granted, None).unwrap(), ["openid", "profile", "email", "offline_access"]);
        assert_eq!(narrowed_scopes(granted, Some("email  openid")).unwrap(), ["openid", "email"]);
        assert!(matches!(narrowed_scopes("openid email", Some("openid profile")), Err(TokenError::InvalidScope(_))));
        assert!(matches!(narrowed_scopes(granted, Some("profile")), Err(TokenError::InvalidScope(_))));
    }
}
