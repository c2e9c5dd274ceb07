//! Reusable components: permission checks, the route guard, the header.

pub mod can;
pub mod guard;
pub mod header;
pub mod pager;
pub mod sign_in;
