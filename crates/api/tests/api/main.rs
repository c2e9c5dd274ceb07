//! Integration tests of the API through `app(state)` and `oneshot`, one test
//! binary so the signing keys are generated once.

mod discovery;
mod hostile;
mod lists;
mod support;
mod tokens;
