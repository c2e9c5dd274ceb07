//! Integration tests of the API through `app(state)` and `oneshot`, one test
//! binary so the signing keys are generated once.

mod capabilities;
mod discovery;
mod hostile;
mod lists;
mod roles;
mod support;
mod tokens;
mod writes;
