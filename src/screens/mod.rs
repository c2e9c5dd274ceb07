//! The screens, one file each: above the components (which they compose)
//! and below the route table (which mounts them). A screen imports no
//! other screen; what two screens share is a component.

pub mod auth_error;
pub mod callback;
pub mod config_error;
pub mod home;
pub mod not_found;
pub mod projects;
pub mod users;
