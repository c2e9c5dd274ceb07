//! The `users`, `roles`, `user_roles` and `role_permissions` tables: who the
//! users are, which roles exist, who holds which, and what they grant.
//!
//! The development provider signs users in and puts their permissions in its
//! tokens from here; the API lists users with their roles and replaces a
//! user's roles. Callers validate their input's shape (lengths, allowed
//! characters); [`Store::set_user_roles`] keeps the data consistent: a role
//! must exist, and the last holder of [`ADMIN_ROLE`] cannot lose it. It runs
//! in one `BEGIN IMMEDIATE` transaction, so concurrent writers (two
//! requests, or the API and the development provider) are serialised by
//! SQLite.

use contract::wire::{RoleInfo, UserWithRoles};
use serde::Serialize;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::page::{self, Page, PageRequest};

/// The role that must always keep at least one holder: it is the one that
/// grants `update:user-roles`, so without a holder no one could ever grant
/// roles again (short of editing the database).
pub const ADMIN_ROLE: &str = "admin";

/// A user as the provider and the API know them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct User {
    /// The row id; the development provider's subject is `dev-idp|{id}`.
    pub id: i64,
    /// The sign-in name (`jhon`).
    pub username: String,
    /// The display name.
    pub name: String,
    /// The e-mail address, unique.
    pub email: String,
}

/// Why [`Store::set_user_roles`] changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum RoleUpdateError {
    /// A requested role does not exist (the first one found, as given).
    #[error("there is no role named `{0}`")]
    UnknownRole(String),
    /// The change would leave no user with [`ADMIN_ROLE`].
    #[error("the change would leave no user with the `admin` role")]
    LastAdmin,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::writes::WriteError for RoleUpdateError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            RoleUpdateError::Store(error) => Some(error),
            RoleUpdateError::UnknownRole(_) | RoleUpdateError::LastAdmin => None,
        }
    }
}

impl From<sqlx::Error> for RoleUpdateError {
    fn from(error: sqlx::Error) -> Self {
        RoleUpdateError::Store(error.into())
    }
}

/// `group_concat` promises no order, so the roles are sorted here.
fn sorted_words(joined: Option<&str>) -> Vec<String> {
    let mut words: Vec<String> = joined.unwrap_or("").split_whitespace().map(str::to_owned).collect();
    words.sort();
    words
}

/// The User List's page, by username (the `UNIQUE` index serves the order),
/// each row with its roles and the size of the whole list.
const LIST_USERS: &str = "SELECT u.id, u.username, u.name, u.email,
            (SELECT group_concat(role, ' ') FROM user_roles WHERE user_id = u.id),
            (SELECT COUNT(*) FROM users)
     FROM users u ORDER BY u.username LIMIT ?1 OFFSET ?2";

/// The size of the list, for a page past its end.
const COUNT_USERS: &str = "SELECT COUNT(*) FROM users";

impl Store {
    /// One page of users with their roles, by username. One statement: the
    /// roles come aggregated, not one query per user, and each row carries
    /// the size of the whole list. Read on the read-only connections (see
    /// `read_pool`), like the Project List.
    pub async fn list_users(&self, page: PageRequest) -> Result<Page<UserWithRoles>> {
        self.reader.read(|conn| {
            let mut statement = conn.prepare_cached(LIST_USERS)?;
            let mut rows = statement.query((page.limit(), page.offset()))?;
            let mut items = Vec::with_capacity(page.capacity());
            let mut total = None;
            while let Some(row) = rows.next()? {
                let roles: Option<String> = row.get(4)?;
                items.push(UserWithRoles {
                    id: row.get(0)?,
                    username: row.get(1)?,
                    name: row.get(2)?,
                    email: row.get(3)?,
                    // Role names are single words (the seed and the API's input
                    // checks keep them so), so a space separates them unambiguously.
                    roles: sorted_words(roles.as_deref()),
                });
                total.get_or_insert(row.get(5)?);
            }
            let total = match total {
                Some(total) => total,
                // A page past the end has no row to carry the count.
                None => conn.prepare_cached(COUNT_USERS)?.query_row((), |row| row.get(0))?,
            };
            Ok(Page { items, total: page::total(total) })
        })
    }

    /// Every user, by username (the development provider's sign-in page).
    pub async fn all_users(&self) -> Result<Vec<User>> {
        Ok(sqlx::query_as::<_, User>("SELECT id, username, name, email FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await?)
    }

    /// The user with this username, if any.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        Ok(sqlx::query_as::<_, User>("SELECT id, username, name, email FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The user with this id, if any.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        Ok(sqlx::query_as::<_, User>("SELECT id, username, name, email FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The names of the user's roles, sorted.
    pub async fn user_roles(&self, user_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = ? ORDER BY role")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The permissions the user holds through their roles, sorted, each once.
    pub async fn user_permissions(&self, user_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT rp.permission FROM user_roles ur
             JOIN role_permissions rp ON rp.role = ur.role
             WHERE ur.user_id = ? ORDER BY rp.permission",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every role with its description, by name.
    pub async fn all_roles(&self) -> Result<Vec<RoleInfo>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, description FROM roles ORDER BY name").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(name, description)| RoleInfo { name, description }).collect())
    }

    /// Replaces the user's roles with `roles` (duplicates count once), in one
    /// `BEGIN IMMEDIATE` transaction: either every change is made or none.
    ///
    /// `Ok(None)` when there is no such user. Refused, changing nothing, when
    /// a role does not exist ([`RoleUpdateError::UnknownRole`]) or when the
    /// user is the last holder of [`ADMIN_ROLE`] and `roles` leaves it out
    /// ([`RoleUpdateError::LastAdmin`]).
    pub async fn set_user_roles(
        &self,
        user_id: i64,
        roles: &[String],
    ) -> Result<Option<UserWithRoles>, RoleUpdateError> {
        self.write(self.replace_user_roles(user_id, roles)).await
    }

    /// [`Store::set_user_roles`] without the checks every write goes through.
    async fn replace_user_roles(
        &self,
        user_id: i64,
        roles: &[String],
    ) -> Result<Option<UserWithRoles>, RoleUpdateError> {
        // Holding the write lock from the first read makes the last-admin
        // check race-free: two requests demoting the last two admins are
        // judged one after the other. On any early return `tx` is dropped,
        // which rolls it back.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(user) = sqlx::query_as::<_, User>("SELECT id, username, name, email FROM users WHERE id = ?")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };

        let mut wanted: Vec<&str> = Vec::with_capacity(roles.len());
        for role in roles {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM roles WHERE name = ?").bind(role).fetch_optional(&mut *tx).await?;
            if exists.is_none() {
                return Err(RoleUpdateError::UnknownRole(role.clone()));
            }
            if !wanted.contains(&role.as_str()) {
                wanted.push(role.as_str());
            }
        }

        if !wanted.contains(&ADMIN_ROLE) {
            let admins: Vec<i64> = sqlx::query_scalar("SELECT user_id FROM user_roles WHERE role = ?")
                .bind(ADMIN_ROLE)
                .fetch_all(&mut *tx)
                .await?;
            if admins == [user_id] {
                return Err(RoleUpdateError::LastAdmin);
            }
        }

        sqlx::query("DELETE FROM user_roles WHERE user_id = ?").bind(user_id).execute(&mut *tx).await?;
        for role in &wanted {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES (?, ?)")
                .bind(user_id)
                .bind(role)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;

        let mut roles: Vec<String> = wanted.into_iter().map(str::to_owned).collect();
        roles.sort();
        Ok(Some(UserWithRoles { id: user.id, username: user.username, name: user.name, email: user.email, roles }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fresh, user_id};

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[tokio::test]
    async fn the_user_list_is_paginated_with_roles_and_its_total() {
        let (_dir, store) = fresh().await;
        let users = store.list_users(PageRequest { page: 1, per_page: 100 }).await.unwrap();
        assert_eq!(users.total, 16, "the demo data's users");
        assert_eq!(users.items.len(), 16);
        let jhon = users.items.iter().find(|u| u.username == "jhon").unwrap();
        assert_eq!(jhon.roles, ["admin"]);
        let emeka = users.items.iter().find(|u| u.username == "emeka").unwrap();
        assert_eq!(emeka.roles, ["project-manager", "viewer"]);
        let nobody = users.items.iter().find(|u| u.username == "nobody").unwrap();
        assert!(nobody.roles.is_empty());
        let second = store.list_users(PageRequest { page: 2, per_page: 10 }).await.unwrap();
        assert_eq!(second.items.len(), 6);
        assert_eq!(second.items[0].username, users.items[10].username, "by username, page after page");
    }

    #[tokio::test]
    async fn roles_are_listed_with_descriptions() {
        let (_dir, store) = fresh().await;
        let roles = store.all_roles().await.unwrap();
        let names: Vec<&str> = roles.iter().map(|role| role.name.as_str()).collect();
        assert_eq!(names, ["admin", "auditor", "project-manager", "viewer"]);
        assert!(roles.iter().all(|role| !role.description.is_empty()));
    }

    #[tokio::test]
    async fn roles_are_replaced_sorted_and_deduplicated() {
        let (_dir, store) = fresh().await;
        let bruno = user_id(&store, "bruno").await;
        let updated = store
            .set_user_roles(bruno, &strings(&["viewer", "auditor", "viewer", "project-manager"]))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(updated.username, "bruno");
        assert_eq!(updated.roles, ["auditor", "project-manager", "viewer"]);
        assert_eq!(store.user_roles(bruno).await.unwrap(), updated.roles);
        assert_eq!(
            store.user_permissions(bruno).await.unwrap(),
            ["create:project", "read:project-list", "read:user-list"]
        );

        let cleared = store.set_user_roles(bruno, &[]).await.unwrap().unwrap();
        assert!(cleared.roles.is_empty());
        assert!(store.user_permissions(bruno).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unknown_role_changes_nothing() {
        let (_dir, store) = fresh().await;
        let emeka = user_id(&store, "emeka").await;
        let before = store.user_roles(emeka).await.unwrap();
        let error = store.set_user_roles(emeka, &strings(&["viewer", "superuser", "root"])).await.unwrap_err();
        assert!(matches!(&error, RoleUpdateError::UnknownRole(role) if role == "superuser"), "{error:?}");
        assert_eq!(store.user_roles(emeka).await.unwrap(), before);
        // Role names are case-sensitive.
        let error = store.set_user_roles(emeka, &strings(&["Admin"])).await.unwrap_err();
        assert!(matches!(error, RoleUpdateError::UnknownRole(_)));
    }

    #[tokio::test]
    async fn an_unknown_user_is_none() {
        let (_dir, store) = fresh().await;
        assert!(store.set_user_roles(999_999, &strings(&["viewer"])).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_last_admin_keeps_the_role() {
        let (_dir, store) = fresh().await;
        let jhon = user_id(&store, "jhon").await;
        let fatima = user_id(&store, "fatima").await;
        // Two admins: one may step down.
        let fatima_now = store.set_user_roles(fatima, &strings(&["viewer"])).await.unwrap().unwrap();
        assert_eq!(fatima_now.roles, ["viewer"]);
        // jhon is now the last: he may change his other roles, not drop admin.
        let error = store.set_user_roles(jhon, &strings(&["viewer"])).await.unwrap_err();
        assert!(matches!(error, RoleUpdateError::LastAdmin), "{error:?}");
        let error = store.set_user_roles(jhon, &[]).await.unwrap_err();
        assert!(matches!(error, RoleUpdateError::LastAdmin), "{error:?}");
        assert_eq!(store.user_roles(jhon).await.unwrap(), ["admin"]);
        let kept = store.set_user_roles(jhon, &strings(&["admin", "viewer"])).await.unwrap().unwrap();
        assert_eq!(kept.roles, ["admin", "viewer"]);
        // Users who are not admins are unaffected by the rule.
        let nobody = user_id(&store, "nobody").await;
        assert!(store.set_user_roles(nobody, &strings(&["viewer"])).await.unwrap().is_some());
        // Granting admin to someone else lets jhon step down.
        store.set_user_roles(fatima, &strings(&["admin"])).await.unwrap();
        assert_eq!(store.set_user_roles(jhon, &[]).await.unwrap().unwrap().roles, Vec::<String>::new());
    }
}
