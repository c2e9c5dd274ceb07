//! The contract between the parts of the stack, in code.
//!
//! Everything two or more parts must agree on, and that is not about
//! permissions themselves (those live in the `permissions` crate), has its
//! one home here:
//!
//! * [`routes`]: the SPA's paths, which the provider's registered redirect
//!   URIs, the login module and the router all name;
//! * [`api`]: the API's paths below `api_base`, its headers and its limits,
//!   which the server enforces and the SPA respects;
//! * [`wire`]: the request and response bodies of the API, serialised by the
//!   server and deserialised by the SPA, with typed fields.
//!
//! The crate is serde-only on purpose, so that it builds for wasm32 and for
//! the host alike; database and HTTP types stay in their own crates and
//! convert into these at their edge.

pub mod api;
pub mod routes;
pub mod wire;
