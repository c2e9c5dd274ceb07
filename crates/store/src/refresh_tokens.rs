//! The `refresh_tokens` table: the development provider's refresh tokens,
//! stored as hashes, grouped in families (one per sign-in), rotated on every
//! use with reuse detection (RFC 9700 §4.14.2), and revoked by family
//! (RFC 7009).
//!
//! Every decision that reads and then writes happens inside one
//! `BEGIN IMMEDIATE` transaction, so two presentations of one token, from
//! two connections or two processes, are judged one after the other.
//!
//! A token may be bound to a DPoP key (RFC 9449 §5; its `dpop_jkt`, see
//! `migrations/0004_refresh_token_dpop_binding.sql`). The rotation judges
//! the binding from the thumbprint of the key the caller proved it holds
//! (the provider verifies the proof; the store only compares thumbprints).

use crate::Store;
use crate::error::Result;

/// One refresh token of the development provider, as stored: the token
/// itself is never stored, only its hash (see `migrations/0002_refresh_tokens.sql`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshToken {
    /// The hash of the token (the provider decides how it hashes).
    pub token_hash: String,
    /// Shared by every token rotated from the same sign-in.
    pub family_id: String,
    /// Whose sign-in it continues.
    pub user_id: i64,
    /// The client it was issued to; only that client may present it.
    pub client_id: String,
    /// The scope granted at sign-in, space-separated.
    pub scope: String,
    /// The access tokens' audience (resource indicator) granted at sign-in.
    pub audience: Option<String>,
    /// When the user signed in (seconds since the Unix epoch).
    pub auth_time: i64,
    /// When this token was issued.
    pub created_at: i64,
    /// The family's absolute end.
    pub expires_at: i64,
    /// This token's end if it stays unused.
    pub idle_expires_at: i64,
    /// When this token was rotated; `None` while it is live.
    pub used_at: Option<i64>,
    /// When its family was revoked.
    pub revoked_at: Option<i64>,
    /// The JWK SHA-256 thumbprint (RFC 7638) of the DPoP key this token is
    /// bound to (RFC 9449 §5); `None` for a bearer token.
    pub dpop_jkt: Option<String>,
}

/// A request to rotate a refresh token: see [`Store::rotate_refresh_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation<'a> {
    /// The hash of the token the client presented.
    pub presented_hash: &'a str,
    /// The client that presented it.
    pub client_id: &'a str,
    /// The hash of the token to issue in its place.
    pub successor_hash: &'a str,
    /// The current time (seconds since the Unix epoch).
    pub now: i64,
    /// How long the successor may stay unused (capped by the family's end).
    pub idle_ttl_secs: i64,
    /// For how many seconds after its rotation a token may be presented
    /// again and still be answered (0: never).
    pub reuse_interval_secs: i64,
    /// The thumbprint of the DPoP key the request proved it holds, if it
    /// carried a (verified) proof. A bound token is refused without the
    /// same thumbprint; a bearer token presented with one has a successor
    /// bound to it.
    pub dpop_jkt: Option<&'a str>,
}

/// What [`Store::rotate_refresh_token`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The presented token was live: it is now used, and this successor stored.
    Rotated(RefreshToken),
    /// The presented token had been rotated less than the reuse interval ago:
    /// this further successor was stored, and nothing was revoked.
    ReissuedWithinReuseInterval(RefreshToken),
    /// The presented token had been rotated before: its whole family
    /// (`revoked` live rows of it) is now revoked.
    ReuseDetected { family_id: String, revoked: u64 },
    /// Refused; nothing changed.
    Refused(RefreshRefusal),
}

/// Why a refresh token was refused without any change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// No such token (never issued, or swept after its family expired).
    Unknown,
    /// Issued to another client.
    OtherClient,
    /// Its family has been revoked.
    Revoked,
    /// Its family's absolute lifetime, or its own idle lifetime, is over.
    Expired,
    /// Bound to a DPoP key, and presented without a proof of that key
    /// (none, or one by another key).
    OtherKey,
}

/// What [`Store::revoke_refresh_token_family`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// No such token; nothing changed.
    Unknown,
    /// Issued to another client; nothing changed.
    OtherClient,
    /// The family is revoked (`revoked` rows were live until now).
    Revoked { family_id: String, revoked: u64 },
}

/// The columns of `refresh_tokens`, in [`RefreshToken`]'s order.
const REFRESH_TOKEN_COLUMNS: &str = "token_hash, family_id, user_id, client_id, scope, audience, auth_time, \
     created_at, expires_at, idle_expires_at, used_at, revoked_at, dpop_jkt";

impl Store {
    /// Stores a refresh token (the first of a new family, typically), and
    /// sweeps the tokens of families whose absolute lifetime ended by the
    /// time it was created.
    pub async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        self.write(async {
            let mut tx = self.pool.begin().await?;
            sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= ?")
                .bind(token.created_at)
                .execute(&mut *tx)
                .await?;
            insert_refresh_token(&mut tx, token).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The refresh token with this hash, if it is stored (whatever its state).
    pub async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>> {
        let sql = format!("SELECT {REFRESH_TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?");
        Ok(sqlx::query_as::<_, RefreshToken>(&sql).bind(token_hash).fetch_optional(&self.pool).await?)
    }

    /// Every stored token of a family, oldest first.
    pub async fn refresh_token_family(&self, family_id: &str) -> Result<Vec<RefreshToken>> {
        let sql = format!(
            "SELECT {REFRESH_TOKEN_COLUMNS} FROM refresh_tokens WHERE family_id = ? ORDER BY created_at, rowid"
        );
        Ok(sqlx::query_as::<_, RefreshToken>(&sql).bind(family_id).fetch_all(&self.pool).await?)
    }

    /// Rotates a refresh token, atomically: the whole decision and its
    /// writes happen in one `BEGIN IMMEDIATE` transaction, which holds
    /// SQLite's write lock from its first statement, so two presentations of
    /// the same token (from two connections or two processes) are judged
    /// one after the other and cannot both rotate it.
    ///
    /// In order: an unknown token, a token of another client, a token bound
    /// to a DPoP key the request did not prove it holds, a revoked family
    /// and a family past its absolute end are refused. A token rotated
    /// before is *reuse*: within `reuse_interval_secs` of its rotation a
    /// further successor is issued, later the whole family is revoked
    /// (RFC 9700 §4.14.2). A live token past its idle end is refused.
    /// Otherwise the token is marked used and the successor, of the same
    /// family, is stored.
    ///
    /// The key is judged before reuse, and its refusal changes nothing: a
    /// bound token is worthless without its key, so whoever presents it
    /// without the key has shown no ability to use the family, and must not
    /// be able to revoke it (which would sign the user out) by presenting a
    /// copied, already rotated token.
    pub async fn rotate_refresh_token(&self, rotation: &Rotation<'_>) -> Result<RotationOutcome> {
        self.write(async {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            // On an error `tx` is dropped, which rolls the transaction back.
            let outcome = rotate_in(&mut tx, rotation).await?;
            tx.commit().await?;
            Ok(outcome)
        })
        .await
    }

    /// Revokes the family of the token with this hash (RFC 7009), if the
    /// token exists and belongs to `client_id`. Revoking twice is harmless.
    pub async fn revoke_refresh_token_family(&self, token_hash: &str, client_id: &str, now: i64) -> Result<Revocation> {
        self.write(self.revoke_family_of(token_hash, client_id, now)).await
    }

    /// [`Store::revoke_refresh_token_family`] without the checks every write goes through.
    async fn revoke_family_of(&self, token_hash: &str, client_id: &str, now: i64) -> Result<Revocation> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(token) = find_refresh_token(&mut tx, token_hash).await? else {
            return Ok(Revocation::Unknown);
        };
        if token.client_id != client_id {
            return Ok(Revocation::OtherClient);
        }
        let revoked = revoke_family(&mut tx, &token.family_id, now).await?;
        tx.commit().await?;
        Ok(Revocation::Revoked { family_id: token.family_id, revoked })
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

async fn find_refresh_token(tx: &mut Tx, token_hash: &str) -> Result<Option<RefreshToken>> {
    let sql = format!("SELECT {REFRESH_TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?");
    Ok(sqlx::query_as::<_, RefreshToken>(&sql).bind(token_hash).fetch_optional(&mut **tx).await?)
}

async fn insert_refresh_token(tx: &mut Tx, token: &RefreshToken) -> Result<()> {
    let sql =
        format!("INSERT INTO refresh_tokens ({REFRESH_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlx::query(&sql)
        .bind(&token.token_hash)
        .bind(&token.family_id)
        .bind(token.user_id)
        .bind(&token.client_id)
        .bind(&token.scope)
        .bind(&token.audience)
        .bind(token.auth_time)
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.idle_expires_at)
        .bind(token.used_at)
        .bind(token.revoked_at)
        .bind(&token.dpop_jkt)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Marks every token of a family revoked; returns how many were not yet.
async fn revoke_family(tx: &mut Tx, family_id: &str, now: i64) -> Result<u64> {
    let done = sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL")
        .bind(now)
        .bind(family_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// The body of [`Store::rotate_refresh_token`], inside its transaction.
async fn rotate_in(tx: &mut Tx, rotation: &Rotation<'_>) -> Result<RotationOutcome> {
    let now = rotation.now;
    let Some(presented) = find_refresh_token(tx, rotation.presented_hash).await? else {
        return Ok(RotationOutcome::Refused(RefreshRefusal::Unknown));
    };
    if presented.client_id != rotation.client_id {
        return Ok(RotationOutcome::Refused(RefreshRefusal::OtherClient));
    }
    if presented.dpop_jkt.as_deref().is_some_and(|bound| rotation.dpop_jkt != Some(bound)) {
        return Ok(RotationOutcome::Refused(RefreshRefusal::OtherKey));
    }
    if presented.revoked_at.is_some() {
        return Ok(RotationOutcome::Refused(RefreshRefusal::Revoked));
    }
    if now >= presented.expires_at {
        return Ok(RotationOutcome::Refused(RefreshRefusal::Expired));
    }
    // A successor inherits everything of the sign-in, the family's end
    // and its key included; a bearer token presented with a proof has a
    // successor bound to that key (RFC 9449 §5: a refresh token issued in
    // answer to a DPoP request is bound), and a binding is never dropped.
    let successor = RefreshToken {
        token_hash: rotation.successor_hash.to_owned(),
        created_at: now,
        idle_expires_at: now.saturating_add(rotation.idle_ttl_secs).min(presented.expires_at),
        used_at: None,
        revoked_at: None,
        dpop_jkt: presented.dpop_jkt.clone().or_else(|| rotation.dpop_jkt.map(str::to_owned)),
        ..presented.clone()
    };
    if let Some(used_at) = presented.used_at {
        // Reuse is judged before the idle end: a rotated token presented
        // late is still evidence that two parties hold the family.
        if now < used_at.saturating_add(rotation.reuse_interval_secs) {
            insert_refresh_token(tx, &successor).await?;
            return Ok(RotationOutcome::ReissuedWithinReuseInterval(successor));
        }
        let revoked = revoke_family(tx, &presented.family_id, now).await?;
        return Ok(RotationOutcome::ReuseDetected { family_id: presented.family_id, revoked });
    }
    if now >= presented.idle_expires_at {
        return Ok(RotationOutcome::Refused(RefreshRefusal::Expired));
    }
    // The write lock is held, so this cannot lose a race; the condition
    // still guards the invariant should the locking ever change.
    let marked = sqlx::query(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(rotation.presented_hash)
    .execute(&mut **tx)
    .await?;
    if marked.rows_affected() != 1 {
        let revoked = revoke_family(tx, &presented.family_id, now).await?;
        return Ok(RotationOutcome::ReuseDetected { family_id: presented.family_id, revoked });
    }
    insert_refresh_token(tx, &successor).await?;
    Ok(RotationOutcome::Rotated(successor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fresh, refresh_token, rotation};

    async fn with_family() -> (tempfile::TempDir, Store, i64) {
        let (dir, store) = fresh().await;
        let jhon = store.user_by_username("jhon").await.unwrap().unwrap();
        store.insert_refresh_token(&refresh_token(jhon.id, "h1", "f1")).await.unwrap();
        (dir, store, jhon.id)
    }

    #[tokio::test]
    async fn rotation_marks_the_token_used_and_stores_a_successor_of_the_family() {
        let (_dir, store, user_id) = with_family().await;
        let outcome = store.rotate_refresh_token(&rotation("h1", "h2", 200)).await.unwrap();
        let RotationOutcome::Rotated(successor) = outcome else { panic!("{outcome:?}") };
        assert_eq!(successor.family_id, "f1");
        assert_eq!(successor.user_id, user_id);
        assert_eq!((successor.auth_time, successor.created_at, successor.expires_at), (90, 200, 1000));
        assert_eq!(successor.idle_expires_at, 600);
        assert_eq!(store.refresh_token("h2").await.unwrap(), Some(successor));
        assert_eq!(store.refresh_token("h1").await.unwrap().unwrap().used_at, Some(200));
        // The idle end never passes the family's end.
        let outcome =
            store.rotate_refresh_token(&Rotation { idle_ttl_secs: 5000, ..rotation("h2", "h3", 550) }).await.unwrap();
        let RotationOutcome::Rotated(last) = outcome else { panic!("{outcome:?}") };
        assert_eq!(last.idle_expires_at, 1000);
    }

    #[tokio::test]
    async fn presenting_a_rotated_token_revokes_the_whole_family() {
        let (_dir, store, _) = with_family().await;
        store.rotate_refresh_token(&rotation("h1", "h2", 200)).await.unwrap();
        let outcome = store.rotate_refresh_token(&rotation("h1", "h3", 201)).await.unwrap();
        assert_eq!(outcome, RotationOutcome::ReuseDetected { family_id: "f1".into(), revoked: 2 });
        assert!(store.refresh_token("h3").await.unwrap().is_none(), "nothing issued");
        let outcome = store.rotate_refresh_token(&rotation("h2", "h4", 202)).await.unwrap();
        assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::Revoked));
        let family = store.refresh_token_family("f1").await.unwrap();
        assert!(family.iter().all(|t| t.revoked_at == Some(201)), "{family:?}");
    }

    #[tokio::test]
    async fn within_the_reuse_interval_a_rotated_token_gets_another_successor() {
        let (_dir, store, _) = with_family().await;
        let with_interval =
            |presented, successor, now| Rotation { reuse_interval_secs: 10, ..rotation(presented, successor, now) };
        store.rotate_refresh_token(&with_interval("h1", "h2", 200)).await.unwrap();
        let outcome = store.rotate_refresh_token(&with_interval("h1", "h3", 209)).await.unwrap();
        assert!(
            matches!(outcome, RotationOutcome::ReissuedWithinReuseInterval(ref t) if t.family_id == "f1"),
            "{outcome:?}"
        );
        // The window is anchored at the first rotation and does not slide.
        assert_eq!(store.refresh_token("h1").await.unwrap().unwrap().used_at, Some(200));
        // Both successors are live and single-use.
        assert!(matches!(
            store.rotate_refresh_token(&with_interval("h2", "h4", 209)).await.unwrap(),
            RotationOutcome::Rotated(_)
        ));
        let outcome = store.rotate_refresh_token(&with_interval("h1", "h5", 210)).await.unwrap();
        assert!(matches!(outcome, RotationOutcome::ReuseDetected { .. }), "{outcome:?}");
        for hash in ["h3", "h4"] {
            let outcome = store.rotate_refresh_token(&with_interval(hash, "h6", 211)).await.unwrap();
            assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::Revoked), "{hash}");
        }
    }

    #[tokio::test]
    async fn unknown_foreign_and_expired_tokens_are_refused_without_change() {
        let (_dir, store, _) = with_family().await;
        let refused = |reason| RotationOutcome::Refused(reason);
        assert_eq!(
            store.rotate_refresh_token(&rotation("nope", "x", 200)).await.unwrap(),
            refused(RefreshRefusal::Unknown)
        );
        let foreign = Rotation { client_id: "other", ..rotation("h1", "x", 200) };
        assert_eq!(store.rotate_refresh_token(&foreign).await.unwrap(), refused(RefreshRefusal::OtherClient));
        assert_eq!(
            store.rotate_refresh_token(&rotation("h1", "x", 500)).await.unwrap(),
            refused(RefreshRefusal::Expired)
        );
        assert_eq!(
            store.rotate_refresh_token(&rotation("h1", "x", 1000)).await.unwrap(),
            refused(RefreshRefusal::Expired)
        );
        assert!(store.refresh_token("x").await.unwrap().is_none());
        assert_eq!(store.refresh_token("h1").await.unwrap().unwrap().used_at, None);
        assert!(matches!(
            store.rotate_refresh_token(&rotation("h1", "h2", 499)).await.unwrap(),
            RotationOutcome::Rotated(_)
        ));
    }

    #[tokio::test]
    async fn a_bound_token_rotates_only_with_its_key_and_a_refusal_changes_nothing() {
        let (_dir, store) = fresh().await;
        let user_id = crate::test_support::user_id(&store, "jhon").await;
        let bound = RefreshToken { dpop_jkt: Some("key-a".into()), ..refresh_token(user_id, "h1", "f1") };
        store.insert_refresh_token(&bound).await.unwrap();
        let with_key =
            |presented, successor, now, jkt| Rotation { dpop_jkt: jkt, ..rotation(presented, successor, now) };
        for jkt in [None, Some("key-b")] {
            let outcome = store.rotate_refresh_token(&with_key("h1", "x", 200, jkt)).await.unwrap();
            assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::OtherKey), "{jkt:?}");
        }
        assert!(store.refresh_token("x").await.unwrap().is_none());
        assert_eq!(store.refresh_token("h1").await.unwrap().unwrap(), bound, "untouched");

        let outcome = store.rotate_refresh_token(&with_key("h1", "h2", 201, Some("key-a"))).await.unwrap();
        let RotationOutcome::Rotated(successor) = outcome else { panic!("{outcome:?}") };
        assert_eq!(successor.dpop_jkt.as_deref(), Some("key-a"), "the binding carries across rotation");
        assert_eq!(store.refresh_token("h2").await.unwrap().unwrap().dpop_jkt.as_deref(), Some("key-a"));

        // The rotated token again, without the key (a copy of it, stolen):
        // refused, and not taken as reuse, so the family lives on...
        let outcome = store.rotate_refresh_token(&with_key("h1", "x", 202, None)).await.unwrap();
        assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::OtherKey));
        let family = store.refresh_token_family("f1").await.unwrap();
        assert!(family.iter().all(|t| t.revoked_at.is_none()), "{family:?}");
        // ...while with the key it is reuse, as for any token.
        let outcome = store.rotate_refresh_token(&with_key("h1", "x", 203, Some("key-a"))).await.unwrap();
        assert!(matches!(outcome, RotationOutcome::ReuseDetected { .. }), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_bearer_token_presented_with_a_key_has_a_successor_bound_to_it() {
        let (_dir, store, _) = with_family().await;
        let outcome = store
            .rotate_refresh_token(&Rotation { dpop_jkt: Some("key-a"), ..rotation("h1", "h2", 200) })
            .await
            .unwrap();
        let RotationOutcome::Rotated(successor) = outcome else { panic!("{outcome:?}") };
        assert_eq!(successor.dpop_jkt.as_deref(), Some("key-a"));
        let outcome = store.rotate_refresh_token(&rotation("h2", "h3", 201)).await.unwrap();
        assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::OtherKey), "never unbound again");
    }

    #[tokio::test]
    async fn concurrent_rotations_of_one_token_cannot_both_succeed() {
        let (_dir, path) = crate::test_support::db_path();
        // Two pools on one file: as two processes (or two connections) would.
        let (a, b) = (Store::open(&path).await.unwrap(), Store::open(&path).await.unwrap());
        let jhon = a.user_by_username("jhon").await.unwrap().unwrap();
        for round in 0..10 {
            let (first, family) = (format!("first-{round}"), format!("f-{round}"));
            a.insert_refresh_token(&refresh_token(jhon.id, &first, &family)).await.unwrap();
            let (one, two) = (format!("one-{round}"), format!("two-{round}"));
            let (via_a, via_b) = (rotation(&first, &one, 200), rotation(&first, &two, 200));
            let (x, y) = tokio::join!(a.rotate_refresh_token(&via_a), b.rotate_refresh_token(&via_b));
            let outcomes = [x.unwrap(), y.unwrap()];
            let rotated = outcomes.iter().filter(|o| matches!(o, RotationOutcome::Rotated(_))).count();
            let reuse = outcomes.iter().filter(|o| matches!(o, RotationOutcome::ReuseDetected { .. })).count();
            assert_eq!((rotated, reuse), (1, 1), "{outcomes:?}");
            let family = a.refresh_token_family(&family).await.unwrap();
            assert_eq!(family.len(), 2);
            assert!(family.iter().all(|t| t.revoked_at.is_some()));
        }
    }

    #[tokio::test]
    async fn revocation_revokes_the_family_for_its_client_only() {
        let (_dir, store, _) = with_family().await;
        store.rotate_refresh_token(&rotation("h1", "h2", 200)).await.unwrap();
        assert_eq!(store.revoke_refresh_token_family("nope", "spa", 300).await.unwrap(), Revocation::Unknown);
        assert_eq!(store.revoke_refresh_token_family("h2", "other", 300).await.unwrap(), Revocation::OtherClient);
        assert_eq!(store.refresh_token("h2").await.unwrap().unwrap().revoked_at, None);
        let done = store.revoke_refresh_token_family("h2", "spa", 300).await.unwrap();
        assert_eq!(done, Revocation::Revoked { family_id: "f1".into(), revoked: 2 });
        let again = store.revoke_refresh_token_family("h1", "spa", 301).await.unwrap();
        assert_eq!(again, Revocation::Revoked { family_id: "f1".into(), revoked: 0 });
        let outcome = store.rotate_refresh_token(&rotation("h2", "h3", 302)).await.unwrap();
        assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::Revoked));
    }

    #[tokio::test]
    async fn families_past_their_end_are_swept_when_a_new_one_starts() {
        let (_dir, store, user_id) = with_family().await;
        let later = RefreshToken {
            created_at: 1000,
            expires_at: 2000,
            idle_expires_at: 1500,
            ..refresh_token(user_id, "g1", "f2")
        };
        store.insert_refresh_token(&later).await.unwrap();
        assert!(store.refresh_token("h1").await.unwrap().is_none(), "the old family ended at 1000");
        assert!(store.refresh_token("g1").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn deleting_a_user_deletes_their_refresh_tokens() {
        let (_dir, store, user_id) = with_family().await;
        sqlx::query("DELETE FROM users WHERE id = ?").bind(user_id).execute(&store.pool).await.unwrap();
        assert!(store.refresh_token("h1").await.unwrap().is_none());
    }
}
