//! Reusable components and shared views, above the capability store and
//! the API client and below the screens: permission checks (`<Can>`, the
//! route guard), views loaded on demand (`<Chunk>`), the table of guarded
//! screens, the header, the sign-in
//! button, the permissions inspector, and the views every screen shares
//! (Forbidden, a stand-in page, loading rows, the status line, a paged
//! table). Nothing here imports a screen or the route table.

pub mod can;
pub mod chunk;
pub mod forbidden;
pub mod guard;
pub mod header;
pub mod inspector;
pub mod list;
pub mod nav;
pub mod notice;
pub mod pager;
pub mod sign_in;
pub mod status;
