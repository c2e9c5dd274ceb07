//! The guarded screens: where each lives, what it is called and the
//! permission it needs. The header's nav, Home's list of screens and the
//! route table all read this one table, so a screen's permission is
//! written once; the paths are `contract::routes`'.

use contract::routes;
use permissions::Permission;

/// A screen behind a permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedScreen {
    /// Its path (a `contract::routes` constant).
    pub path: &'static str,
    /// Its name (`Project List`).
    pub title: &'static str,
    /// Its nav link's text.
    pub nav_label: &'static str,
    /// Its nav link's `data-testid` (see `docs/e2e-contract.md`).
    pub nav_testid: &'static str,
    /// The permission it needs; the API checks it again on every request.
    pub needs: Permission,
}

/// The Project List.
pub const PROJECT_LIST: GuardedScreen = GuardedScreen {
    path: routes::PROJECTS,
    title: "Project List",
    nav_label: "Projects",
    nav_testid: "nav-projects",
    needs: Permission::ReadProjectList,
};

/// The User List.
pub const USER_LIST: GuardedScreen = GuardedScreen {
    path: routes::USERS,
    title: "User List",
    nav_label: "Users",
    nav_testid: "nav-users",
    needs: Permission::ReadUserList,
};

/// Every guarded screen, in nav order.
pub const GUARDED_SCREENS: [GuardedScreen; 2] = [PROJECT_LIST, USER_LIST];
