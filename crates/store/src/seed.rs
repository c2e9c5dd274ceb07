//! The demo data: permissions, roles, users and projects.
//!
//! Seeded once, when the users table is empty, inside the migration's
//! transaction (so two processes never seed twice). Permissions are granted
//! to roles and roles to users, never permissions to users directly.

use sqlx::SqliteConnection;

use crate::Result;

const PERMISSIONS: &[(&str, &str)] = &[
    ("read:project-list", "See the Project List"),
    ("read:user-list", "See the User List"),
    ("create:project", "Create projects"),
    ("delete:project", "Delete projects"),
    ("update:user-roles", "Grant and remove roles"),
];

const ROLES: &[(&str, &str, &[&str])] = &[
    (
        "admin",
        "Administrators: every permission",
        &["read:project-list", "read:user-list", "create:project", "delete:project", "update:user-roles"],
    ),
    ("project-manager", "Runs projects", &["read:project-list", "create:project"]),
    ("viewer", "Reads the project portfolio", &["read:project-list"]),
    ("auditor", "Reviews who has access", &["read:project-list", "read:user-list"]),
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

const STATUSES: &[&str] = &["active", "planned", "active", "on-hold", "done", "active"];

pub(crate) async fn demo_data_if_empty(conn: &mut SqliteConnection) -> Result<()> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *conn).await?;
    if users > 0 {
        return Ok(());
    }
    tracing::info!("seeding demo data");
    for (name, description) in PERMISSIONS {
        sqlx::query("INSERT INTO permissions (name, description) VALUES (?, ?)")
            .bind(name)
            .bind(description)
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
                .bind(permission)
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
        if roles.iter().any(|r| *r == "project-manager" || *r == "admin") {
            managers.push(id);
        }
    }
    for (i, (name, description)) in PROJECT_NAMES.iter().enumerate() {
        // Spread creation dates over the past year, a week and a bit apart.
        let created_at = format!("2025-{:02}-{:02}", 1 + (i * 10 / 31) % 12, 1 + (i * 10) % 28);
        sqlx::query("INSERT INTO projects (name, description, status, owner_id, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(name)
            .bind(description)
            .bind(STATUSES[i % STATUSES.len()])
            .bind(managers[i % managers.len()])
            .bind(created_at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
