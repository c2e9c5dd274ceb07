//! Reusable components: permission checks, the route guard, the header,
//! the pager, the sign-in button and the permissions inspector.

pub mod can;
pub mod guard;
pub mod header;
pub mod inspector;
pub mod pager;
pub mod sign_in;
