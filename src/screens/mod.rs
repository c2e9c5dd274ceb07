//! The screens, one file each.

pub mod auth_error;
pub mod callback;
pub mod config_error;
pub mod forbidden;
pub mod home;
pub mod not_found;
pub mod projects;
pub mod users;
