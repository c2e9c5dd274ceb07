//! The demo data: permissions, roles, users and projects.
//!
//! Seeded once, when the users table is empty, inside the migration's
//! transaction (so two processes never seed twice). Permissions are granted
//! to roles and roles to users, never permissions to users directly.

use sqlx::SqliteConnection;

use contract::wire::ProjectStatus;
use permissions::Permission;

use crate::Result;
use crate::users_roles::ADMIN_ROLE;

/// (name, description, permissions). Every permission is granted to
/// [`ADMIN_ROLE`], whose holders must be able to do everything.
const ROLES: &[(&str, &str, &[Permission])] = &[
    (ADMIN_ROLE, "Administrators: every permission", &Permission::KNOWN),
    ("project-manager", "Runs projects", &[Permission::ReadProjectList, Permission::CreateProject]),
    ("viewer", "Reads the project portfolio", &[Permission::ReadProjectList]),
    ("auditor", "Reviews who has access", &[Permission::ReadProjectList, Permission::ReadUserList]),
];

/// (username, display name, roles). `jhon`, `james` and `nobody` are the
/// documented demo accounts; the rest give the User List some pages.
const USERS: &[(&str, &str, &[&str])] = &[
    ("jhon", "Jhon Smith", &["admin"]),
    ("james", "James Carter", &["project-manager"]),
    ("nobody", "Nobody Atall", &[]),
    ("amara", "Amara Okafor", &["project-manager"]),
    ("bruno", "Bruno Lindqvist", &["viewer"]),
    ("chen", "Chen Wei", &["auditor"]),
    ("dolores", "Dolores Ibarra", &["viewer"]),
    ("emeka", "Emeka Nwosu", &["project-manager", "viewer"]),
    ("fatima", "Fatima Zahra", &["admin"]),
    ("gustav", "Gustav Berg", &[]),
    ("hana", "Hana Sato", &["viewer"]),
    ("ivan", "Ivan Petrov", &["project-manager"]),
    ("julia", "Julia Romero", &["auditor"]),
    ("kofi", "Kofi Mensah", &["viewer"]),
    ("lena", "Lena Fischer", &["project-manager"]),
    ("mateo", "Mateo Silva", &[]),
];

const PROJECT_NAMES: &[(&str, &str)] = &[
    ("Atlas", "Customer data platform consolidation"),
    ("Beacon", "Status page and incident notifications"),
    ("Cobalt", "Billing engine rewrite"),
    ("Delta", "Warehouse migration to the new region"),
    ("Ember", "Design system refresh"),
    ("Fjord", "Nordic market launch"),
    ("Granite", "Database hardening and backups"),
    ("Harbor", "Partner integrations gateway"),
    ("Iris", "Search relevance tuning"),
    ("Juniper", "Mobile app offline mode"),
    ("Kestrel", "Fraud detection rules"),
    ("Lumen", "Observability dashboards"),
    ("Meridian", "Time-zone aware scheduling"),
    ("Nimbus", "Cloud cost reduction"),
    ("Onyx", "Single sign-on for enterprise customers"),
    ("Pylon", "Internal developer portal"),
    ("Quartz", "Quarterly reporting automation"),
    ("Rivet", "Hardware inventory tracking"),
    ("Sable", "Accessibility audit and fixes"),
    ("Tundra", "Cold-storage archive"),
    ("Umbra", "Dark mode across products"),
    ("Vertex", "Graph analytics prototype"),
    ("Willow", "Onboarding flow redesign"),
    ("Xenon", "Load-testing harness"),
    ("Yarrow", "Customer feedback pipeline"),
    ("Zephyr", "Edge caching rollout"),
    ("Aurora", "Public API v2"),
    ("Bramble", "Support ticket triage"),
    ("Cinder", "Legacy reports retirement"),
    ("Dune", "Data retention policy"),
    ("Echo", "Voice assistant pilot"),
    ("Flint", "CI pipeline speed-up"),
    ("Glacier", "Disaster recovery drill"),
    ("Helix", "Experimentation platform"),
    ("Indigo", "Brand refresh for the website"),
    ("Jade", "Localization into five languages"),
];

/// The projects' statuses, in turn.
const STATUSES: &[ProjectStatus] = &[
    ProjectStatus::Active,
    ProjectStatus::Planned,
    ProjectStatus::Active,
    ProjectStatus::OnHold,
    ProjectStatus::Done,
    ProjectStatus::Active,
];

/// Inserts the demo data when the database has no user yet.
pub(crate) async fn demo_data_if_empty(conn: &mut SqliteConnection) -> Result<()> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *conn).await?;
    if users > 0 {
        return Ok(());
    }
    tracing::info!("seeding demo data");
    // The permissions are the ones this build knows, with the permissions
    // crate's descriptions: one list for the SPA, the API and the data.
    for permission in &Permission::KNOWN {
        sqlx::query("INSERT INTO permissions (name, description) VALUES (?, ?)")
            .bind(permission.as_str())
            .bind(permission.description().unwrap_or(permission.as_str()))
            .execute(&mut *conn)
            .await?;
    }
    for (role, description, permissions) in ROLES {
        sqlx::query("INSERT INTO roles (name, description) VALUES (?, ?)")
            .bind(role)
            .bind(description)
            .execute(&mut *conn)
            .await?;
        for permission in *permissions {
            sqlx::query("INSERT INTO role_permissions (role, permission) VALUES (?, ?)")
                .bind(role)
                .bind(permission.as_str())
                .execute(&mut *conn)
                .await?;
        }
    }
    let mut managers = Vec::new();
    for (username, name, roles) in USERS {
        let id: i64 = sqlx::query_scalar("INSERT INTO users (username, name, email) VALUES (?, ?, ?) RETURNING id")
            .bind(username)
            .bind(name)
            .bind(format!("{username}@permission-spa.example"))
            .fetch_one(&mut *conn)
            .await?;
        for role in *roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES (?, ?)")
                .bind(id)
                .bind(role)
                .execute(&mut *conn)
                .await?;
        }
        if roles.iter().any(|r| *r == "project-manager" || *r == ADMIN_ROLE) {
            managers.push(id);
        }
    }
    for (i, (name, description)) in PROJECT_NAMES.iter().enumerate() {
        // Spread creation dates over the past year, a week and a bit apart.
        let created_at = format!("2025-{:02}-{:02}", 1 + (i * 10 / 31) % 12, 1 + (i * 10) % 28);
        sqlx::query("INSERT INTO projects (name, description, status, owner_id, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(name)
            .bind(description)
            .bind(STATUSES[i % STATUSES.len()].as_str())
            .bind(managers[i % managers.len()])
            .bind(created_at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fresh, user_id};

    #[tokio::test]
    async fn the_permissions_are_the_ones_the_build_knows() {
        let (_dir, store) = fresh().await;
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, description FROM permissions ORDER BY rowid")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        let expected: Vec<(String, String)> = Permission::KNOWN
            .iter()
            .map(|p| (p.as_str().to_owned(), p.description().unwrap_or_default().to_owned()))
            .collect();
        assert_eq!(rows, expected);
        let admin: Vec<String> =
            sqlx::query_scalar("SELECT permission FROM role_permissions WHERE role = ? ORDER BY permission")
                .bind(ADMIN_ROLE)
                .fetch_all(&store.pool)
                .await
                .unwrap();
        let mut every: Vec<&str> = Permission::KNOWN.iter().map(Permission::as_str).collect();
        every.sort_unstable();
        assert_eq!(admin, every, "the admin role grants every permission");
    }

    #[tokio::test]
    async fn demo_accounts_have_the_documented_permissions() {
        let (_dir, store) = fresh().await;
        let perms = async |name: &str| store.user_permissions(user_id(&store, name).await).await.unwrap();
        assert_eq!(
            perms("jhon").await,
            ["create:project", "delete:project", "read:project-list", "read:user-list", "update:user-roles"]
        );
        assert_eq!(perms("james").await, ["create:project", "read:project-list"]);
        assert!(perms("nobody").await.is_empty());
    }

    #[tokio::test]
    async fn the_demo_data_has_its_documented_size() {
        let (_dir, store) = fresh().await;
        let count = async |table: &str| -> i64 {
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&store.pool).await.unwrap()
        };
        assert_eq!(count("users").await, 16);
        assert_eq!(count("roles").await, 4);
        assert_eq!(count("projects").await, 36);
        let statuses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT status FROM projects ORDER BY status")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        assert_eq!(statuses, ["active", "done", "on-hold", "planned"]);
    }
}
