//! Integration tests of the API through `app(state)` and `oneshot`, one test
//! binary so the signing keys are generated once.

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod capabilities;
mod discovery;
mod faults;
mod hostile;
mod lists;
mod roles;
mod support;
mod tokens;
mod writes;
