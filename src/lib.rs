//! The permission-aware single-page app.
//!
//! Start-up ([`app`]): read `/config.json` ([`config`]), discover the
//! provider and finish a sign-in if this is the callback ([`auth`]), then
//! mount the router. From there one reactive path carries every auth change:
//! the auth state signal -> the capability store ([`capabilities`]) ->
//! `<Can>` and the route guards ([`components`]) -> the screens
//! ([`screens`]), which fetch through the API client ([`api`]).
//!
//! The modules are layered, each importing only from those before it:
//! [`load`] (a value loaded in the background) and [`split`] (code loaded
//! on demand) at the bottom, [`config`]
//! and [`auth`], then [`api`], [`capabilities`], [`components`]
//! (shared views included), [`screens`], [`routes`], and [`app`] on top
//! (ARCHITECTURE.md, "Layers of the SPA").
//!
//! The SPA never authorizes anything: it hides what the user may not use,
//! and the API re-checks every request.

pub mod api;
pub mod app;
pub mod auth;
pub mod capabilities;
pub mod components;
pub mod config;
pub mod load;
pub mod location;
pub mod routes;
pub mod screens;
pub mod split;

/// Mounts the app on `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
