//! Integration tests of the API through `app(state)` and `oneshot` (and, for
//! start-up and file modes, the binary itself: `process`), one test binary so
//! the signing keys are generated once.

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod capabilities;
mod database_files;
mod discovery;
mod dpop;
mod faults;
mod hostile;
mod lists;
mod process;
mod roles;
mod support;
mod tokens;
mod writes;
