//! The writes the API makes: creating and deleting projects, and replacing a
//! user's roles; plus the reads those writes need (the roles that exist).
//!
//! Callers validate their input's shape (lengths, allowed characters); these
//! methods keep the database consistent: a status is one the schema allows
//! (it is a [`ProjectStatus`]), a role must exist, and the last holder of
//! [`ADMIN_ROLE`] cannot lose it. Each write is one statement or one
//! `BEGIN IMMEDIATE` transaction, so concurrent writers (two requests, or
//! the API and the development provider) are serialised by SQLite.

use std::fmt;

use crate::{Project, Store, StoreError, UserWithRoles};

/// The role that must always keep at least one holder: it is the one that
/// grants `update:user-roles`, so without a holder no one could ever grant
/// roles again (short of editing the database).
pub const ADMIN_ROLE: &str = "admin";

/// A project's status: the values the schema's `CHECK` constraint allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProjectStatus {
    #[default]
    Planned,
    Active,
    OnHold,
    Done,
}

impl ProjectStatus {
    /// Every status, in workflow order.
    pub const ALL: [ProjectStatus; 4] =
        [ProjectStatus::Planned, ProjectStatus::Active, ProjectStatus::OnHold, ProjectStatus::Done];

    /// The status spelled as the database and the API spell it, if it is one.
    pub fn parse(name: &str) -> Option<ProjectStatus> {
        ProjectStatus::ALL.into_iter().find(|status| status.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Planned => "planned",
            ProjectStatus::Active => "active",
            ProjectStatus::OnHold => "on-hold",
            ProjectStatus::Done => "done",
        }
    }
}

impl fmt::Display for ProjectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A project to create. The caller has validated the name and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProject {
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RoleUpdateError {
    fn from(error: sqlx::Error) -> Self {
        RoleUpdateError::Store(error.into())
    }
}

impl Store {
    /// Creates a project, dated today (UTC, `YYYY-MM-DD` like the demo data),
    /// and returns it as the project list shows it.
    ///
    /// `owner_id` naming no user (one deleted since the caller's token was
    /// issued, say) is stored as no owner rather than failing.
    pub async fn create_project(&self, project: NewProject, owner_id: Option<i64>) -> crate::Result<Project> {
        // One statement: the owner's name is read by a subquery of RETURNING,
        // so the answer is exactly the row that was written.
        Ok(sqlx::query_as::<_, Project>(
            "INSERT INTO projects (name, description, status, owner_id, created_at)
             VALUES (?, ?, ?, (SELECT id FROM users WHERE id = ?), date('now'))
             RETURNING id, name, description, status,
                       (SELECT u.name FROM users u WHERE u.id = owner_id) AS owner, created_at",
        )
        .bind(&project.name)
        .bind(&project.description)
        .bind(project.status.as_str())
        .bind(owner_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Deletes a project; `false` when there was no project with this id.
    pub async fn delete_project(&self, id: i64) -> crate::Result<bool> {
        let done = sqlx::query("DELETE FROM projects WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every role as `(name, description)`, by name.
    pub async fn all_roles(&self) -> crate::Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT name, description FROM roles ORDER BY name").fetch_all(&self.pool).await?)
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
        // Holding the write lock from the first read makes the last-admin
        // check race-free: two requests demoting the last two admins are
        // judged one after the other. On any early return `tx` is dropped,
        // which rolls it back.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(user) = sqlx::query_as::<_, crate::User>("SELECT id, username, name, email FROM users WHERE id = ?")
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
    use crate::PageRequest;
    use crate::tests::fresh;

    async fn user_id(store: &Store, username: &str) -> i64 {
        store.user_by_username(username).await.unwrap().unwrap().id
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn new_project(name: &str, status: ProjectStatus) -> NewProject {
        NewProject { name: name.to_owned(), description: "Testing".to_owned(), status }
    }

    #[test]
    fn statuses_round_trip_and_nothing_else_parses() {
        for status in ProjectStatus::ALL {
            assert_eq!(ProjectStatus::parse(status.as_str()), Some(status));
        }
        for bad in ["", "Planned", "on_hold", "onhold", " done", "archived"] {
            assert_eq!(ProjectStatus::parse(bad), None, "{bad:?}");
        }
        assert_eq!(ProjectStatus::default(), ProjectStatus::Planned);
    }

    #[tokio::test]
    async fn a_created_project_is_listed_with_its_owner() {
        let (_dir, store) = fresh().await;
        let before = store.list_projects(PageRequest { page: 1, per_page: 1 }).await.unwrap().total;
        let james = user_id(&store, "james").await;
        let created = store.create_project(new_project("Orbit", ProjectStatus::OnHold), Some(james)).await.unwrap();
        assert_eq!(created.name, "Orbit");
        assert_eq!(created.description, "Testing");
        assert_eq!(created.status, "on-hold");
        assert_eq!(created.owner.as_deref(), Some("James Carter"));
        assert_eq!(created.created_at.len(), "2026-01-01".len(), "{}", created.created_at);

        let page = store.list_projects(PageRequest { page: 1, per_page: 100 }).await.unwrap();
        assert_eq!(page.total, before + 1);
        let listed = page.items.iter().find(|p| p.id == created.id).expect("listed");
        assert_eq!(*listed, created, "the same row, in the same shape as the list");
    }

    #[tokio::test]
    async fn an_owner_that_is_no_user_is_stored_as_none() {
        let (_dir, store) = fresh().await;
        let none = store.create_project(new_project("A", ProjectStatus::Planned), None).await.unwrap();
        assert_eq!(none.owner, None);
        let ghost = store.create_project(new_project("B", ProjectStatus::Done), Some(999_999)).await.unwrap();
        assert_eq!(ghost.owner, None);
        assert_ne!(none.id, ghost.id);
    }

    #[tokio::test]
    async fn projects_are_deleted_once() {
        let (_dir, store) = fresh().await;
        let created = store.create_project(new_project("Gone", ProjectStatus::Active), None).await.unwrap();
        assert!(store.delete_project(created.id).await.unwrap());
        assert!(!store.delete_project(created.id).await.unwrap(), "already gone");
        assert!(!store.delete_project(-1).await.unwrap());
        let page = store.list_projects(PageRequest { page: 1, per_page: 100 }).await.unwrap();
        assert!(page.items.iter().all(|p| p.id != created.id));
    }

    #[tokio::test]
    async fn roles_are_listed_with_descriptions() {
        let (_dir, store) = fresh().await;
        let roles = store.all_roles().await.unwrap();
        let names: Vec<&str> = roles.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["admin", "auditor", "project-manager", "viewer"]);
        assert!(roles.iter().all(|(_, description)| !description.is_empty()));
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
