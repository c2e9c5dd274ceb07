//! The `idp_sessions` table: the development provider's sign-in sessions
//! (its cookie names a row), kept here so that restarting it signs no one out.

use crate::Store;
use crate::error::Result;

/// A development-provider sign-in session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdpSession {
    /// The random id the provider's cookie carries.
    pub id: String,
    /// Who signed in.
    pub user_id: i64,
    /// When the user signed in (seconds since the Unix epoch): the ID token's `auth_time`.
    pub auth_time: i64,
    /// When the session ends (seconds since the Unix epoch).
    pub expires_at: i64,
}

impl Store {
    /// Records a provider session.
    pub async fn create_idp_session(&self, session: &IdpSession) -> Result<()> {
        self.write(async {
            sqlx::query("INSERT INTO idp_sessions (id, user_id, auth_time, expires_at) VALUES (?, ?, ?, ?)")
                .bind(&session.id)
                .bind(session.user_id)
                .bind(session.auth_time)
                .bind(session.expires_at)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    /// The provider session with this id, if it exists and has not expired at `now`.
    pub async fn idp_session(&self, id: &str, now: i64) -> Result<Option<IdpSession>> {
        Ok(sqlx::query_as::<_, IdpSession>(
            "SELECT id, user_id, auth_time, expires_at FROM idp_sessions WHERE id = ? AND expires_at > ?",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends every provider session of `user_id`'s sign-in at `auth_time` (and sweeps expired ones while at it);
    /// returns how many live sessions ended. For a logout whose request names the sign-in but carries no cookie.
    pub async fn delete_idp_sessions_of_sign_in(&self, user_id: i64, auth_time: i64, now: i64) -> Result<u64> {
        self.write(async {
            let ended = sqlx::query("DELETE FROM idp_sessions WHERE user_id = ? AND auth_time = ? AND expires_at > ?")
                .bind(user_id)
                .bind(auth_time)
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM idp_sessions WHERE expires_at <= ?").bind(now).execute(&self.pool).await?;
            Ok(ended)
        })
        .await
    }

    /// Ends a provider session (and sweeps expired ones while at it).
    pub async fn delete_idp_session(&self, id: &str, now: i64) -> Result<()> {
        self.write(async {
            sqlx::query("DELETE FROM idp_sessions WHERE id = ? OR expires_at <= ?")
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fresh, user_id};

    #[tokio::test]
    async fn idp_sessions_expire_and_end() {
        let (_dir, store) = fresh().await;
        let jhon = user_id(&store, "jhon").await;
        let session = IdpSession { id: "s1".into(), user_id: jhon, auth_time: 100, expires_at: 200 };
        store.create_idp_session(&session).await.unwrap();
        assert_eq!(store.idp_session("s1", 150).await.unwrap(), Some(session));
        assert_eq!(store.idp_session("s1", 200).await.unwrap(), None);
        store.delete_idp_session("s1", 150).await.unwrap();
        assert_eq!(store.idp_session("s1", 150).await.unwrap(), None);
    }

    #[tokio::test]
    async fn ending_a_sign_in_ends_its_sessions_only() {
        let (_dir, store) = fresh().await;
        let jhon = user_id(&store, "jhon").await;
        let james = user_id(&store, "james").await;
        let sessions = [("a", jhon, 100), ("b", jhon, 100), ("later", jhon, 110), ("other", james, 100)]
            .map(|(id, user_id, at)| IdpSession { id: id.into(), user_id, auth_time: at, expires_at: 300 });
        for session in &sessions {
            store.create_idp_session(session).await.unwrap();
        }
        assert_eq!(store.delete_idp_sessions_of_sign_in(jhon, 100, 150).await.unwrap(), 2);
        for (id, live) in [("a", false), ("b", false), ("later", true), ("other", true)] {
            assert_eq!(store.idp_session(id, 150).await.unwrap().is_some(), live, "{id}");
        }
        assert_eq!(store.delete_idp_sessions_of_sign_in(jhon, 100, 150).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn ending_one_session_sweeps_the_expired_ones_only() {
        let (_dir, store) = fresh().await;
        let jhon = user_id(&store, "jhon").await;
        for (id, expires_at) in [("old", 120), ("live", 300), ("gone", 300)] {
            store
                .create_idp_session(&IdpSession { id: id.into(), user_id: jhon, auth_time: 100, expires_at })
                .await
                .unwrap();
        }
        store.delete_idp_session("gone", 150).await.unwrap();
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idp_sessions").fetch_one(&store.pool).await.unwrap();
        assert_eq!(count, 1);
        assert!(store.idp_session("live", 150).await.unwrap().is_some());
    }
}
