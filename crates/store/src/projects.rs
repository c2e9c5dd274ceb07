//! The `projects` table: the Project List, and creating and deleting projects.
//!
//! Rows are answered as the API's wire type ([`contract::wire::Project`]):
//! the store is the one place that reads the table, so it is also the one
//! place that decodes its `status` text into a [`ProjectStatus`]. A value
//! the schema does not allow is a [`StoreError::InvalidValue`], never a
//! panic and never passed on as text.

use contract::wire::{NewProject, Project, ProjectStatus};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::page::{self, Page, PageRequest};

/// A row of the project list as SQLite returns it, before its status is decoded.
#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: i64,
    name: String,
    description: String,
    status: String,
    owner: Option<String>,
    created_at: String,
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;

    fn try_from(row: ProjectRow) -> Result<Project> {
        Ok(Project {
            id: row.id,
            name: row.name,
            description: row.description,
            status: decode_status(row.status)?,
            owner: row.owner,
            created_at: row.created_at,
        })
    }
}

/// The `status` column's text as a [`ProjectStatus`], whichever driver read it.
fn decode_status(text: String) -> Result<ProjectStatus> {
    ProjectStatus::parse(&text).ok_or(StoreError::InvalidValue { column: "projects.status", value: text })
}

/// The Project List's page, newest first, each row carrying the size of the
/// whole list (SQLite evaluates the uncorrelated subquery once). The index
/// `projects_newest_first` (migration 3) serves the order, so a page costs
/// its own rows, not a sort of the table.
const LIST_PROJECTS: &str = "SELECT p.id, p.name, p.description, p.status, u.name AS owner, p.created_at,
            (SELECT COUNT(*) FROM projects) AS total
     FROM projects p LEFT JOIN users u ON u.id = p.owner_id
     ORDER BY p.created_at DESC, p.id DESC LIMIT ?1 OFFSET ?2";

/// The size of the list, for a page past its end.
const COUNT_PROJECTS: &str = "SELECT COUNT(*) FROM projects";

impl Store {
    /// One page of projects, newest first; `owner` is the owner's display
    /// name. Read on the read-only connections (see `read_pool`), in one
    /// statement that also counts the list, so the page and its total come
    /// from the same snapshot.
    pub async fn list_projects(&self, page: PageRequest) -> Result<Page<Project>> {
        self.reader.read(|conn| {
            let mut statement = conn.prepare_cached(LIST_PROJECTS)?;
            let mut rows = statement.query((page.limit(), page.offset()))?;
            let mut items = Vec::with_capacity(page.capacity());
            let mut total = None;
            while let Some(row) = rows.next()? {
                items.push(Project {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    description: row.get(2)?,
                    status: decode_status(row.get(3)?)?,
                    owner: row.get(4)?,
                    created_at: row.get(5)?,
                });
                total.get_or_insert(row.get(6)?);
            }
            let total = match total {
                Some(total) => total,
                // A page past the end has no row to carry the count.
                None => conn.prepare_cached(COUNT_PROJECTS)?.query_row((), |row| row.get(0))?,
            };
            Ok(Page { items, total: page::total(total) })
        })
    }

    /// Creates a project, dated today (UTC, `YYYY-MM-DD` like the demo data),
    /// and returns it as the project list shows it. The caller has validated
    /// the name and description.
    ///
    /// `owner_id` naming no user (one deleted since the caller's token was
    /// issued, say) is stored as no owner rather than failing.
    pub async fn create_project(&self, project: NewProject, owner_id: Option<i64>) -> Result<Project> {
        // One statement: the owner's name is read by a subquery of RETURNING,
        // so the answer is exactly the row that was written.
        let insert = sqlx::query_as::<_, ProjectRow>(
            "INSERT INTO projects (name, description, status, owner_id, created_at)
             VALUES (?, ?, ?, (SELECT id FROM users WHERE id = ?), date('now'))
             RETURNING id, name, description, status,
                       (SELECT u.name FROM users u WHERE u.id = owner_id) AS owner, created_at",
        )
        .bind(&project.name)
        .bind(&project.description)
        .bind(project.status.as_str())
        .bind(owner_id)
        .fetch_one(&self.pool);
        let row = self.write(async { Ok::<_, StoreError>(insert.await?) }).await?;
        row.try_into()
    }

    /// Deletes a project; `false` when there was no project with this id.
    pub async fn delete_project(&self, id: i64) -> Result<bool> {
        let delete = sqlx::query("DELETE FROM projects WHERE id = ?").bind(id).execute(&self.pool);
        let done = self.write(async { Ok::<_, StoreError>(delete.await?) }).await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fresh, user_id};

    fn new_project(name: &str, status: ProjectStatus) -> NewProject {
        NewProject { name: name.to_owned(), description: "Testing".to_owned(), status }
    }

    #[tokio::test]
    async fn the_project_list_is_paginated_with_its_total() {
        let (_dir, store) = fresh().await;
        let first = store.list_projects(PageRequest { page: 1, per_page: 10 }).await.unwrap();
        assert_eq!(first.items.len(), 10);
        assert_eq!(first.total, 36, "the demo data's projects");
        let last = store.list_projects(PageRequest { page: 4, per_page: 10 }).await.unwrap();
        assert_eq!(last.items.len(), 6);
        let past = store.list_projects(PageRequest { page: 5, per_page: 10 }).await.unwrap();
        assert!(past.items.is_empty());
        assert_eq!(past.total, 36);
        // Newest first, and no project on two pages.
        let all = store.list_projects(PageRequest { page: 1, per_page: 100 }).await.unwrap().items;
        assert!(all.windows(2).all(|w| (&w[0].created_at, w[0].id) >= (&w[1].created_at, w[1].id)));
        let paged: Vec<i64> =
            [first.items, store.list_projects(PageRequest { page: 2, per_page: 10 }).await.unwrap().items]
                .concat()
                .iter()
                .map(|p| p.id)
                .collect();
        assert_eq!(paged, all.iter().take(20).map(|p| p.id).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_created_project_is_listed_with_its_owner() {
        let (_dir, store) = fresh().await;
        let before = store.list_projects(PageRequest { page: 1, per_page: 1 }).await.unwrap().total;
        let james = user_id(&store, "james").await;
        let created = store.create_project(new_project("Orbit", ProjectStatus::OnHold), Some(james)).await.unwrap();
        assert_eq!(created.name, "Orbit");
        assert_eq!(created.description, "Testing");
        assert_eq!(created.status, ProjectStatus::OnHold);
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
    async fn every_status_round_trips_through_the_table() {
        let (_dir, store) = fresh().await;
        for status in ProjectStatus::ALL {
            let created = store.create_project(new_project("S", status), None).await.unwrap();
            assert_eq!(created.status, status);
        }
    }

    #[tokio::test]
    async fn a_status_the_build_does_not_know_is_an_error_not_a_panic() {
        let (_dir, store) = fresh().await;
        // As a newer build (or a hand edit) might leave the file; the test
        // gets past the schema's CHECK constraint with SQLite's pragma.
        sqlx::raw_sql(
            "PRAGMA ignore_check_constraints = ON;
             UPDATE projects SET status = 'archived' WHERE id = (SELECT MIN(id) FROM projects);",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let error = store.list_projects(PageRequest { page: 1, per_page: 100 }).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::InvalidValue { column: "projects.status", value } if value == "archived"),
            "{error}"
        );
    }
}
