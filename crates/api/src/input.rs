//! Request input of the write routes: ids in the path and JSON bodies,
//! validated into the wire types of `contract::wire`, with the limits of
//! `contract::api` (which the SPA's forms respect too).
//!
//! Handlers take the path and the body as `Result<_, Rejection>`, so axum's
//! extractors never answer a request themselves (their answers are plain
//! text, and would come before the permission check). The handler checks the
//! permission first, then hands what the extractors found to this module:
//!
//! * a body without a JSON content type is `415`; one that is not JSON, or
//!   cannot be read, `400`; one over the size limit `413`;
//! * a JSON body the route does not accept is `422` with the `field` at
//!   fault: not an object, an unknown member, a missing or mistyped one, a
//!   value out of range. Values from the request are not echoed in errors
//!   (the route echoes an unknown role's name, checked here to be one short
//!   word); member names are, as `field`, inside the JSON body only;
//! * an id that is not a plain positive decimal number names no resource:
//!   `404`, exactly like an id that does not exist.
//!
//! Lengths count characters (Unicode scalar values), after trimming
//! surrounding whitespace, which is not stored.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use contract::api::{MAX_ROLES, PROJECT_DESCRIPTION_MAX_CHARS, PROJECT_NAME_MAX_CHARS, ROLE_NAME_MAX_CHARS};
use contract::wire::{NewProject, ProjectStatus};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// A JSON body as the handlers take it.
pub type JsonBody = Result<Json<Value>, JsonRejection>;
/// The `{id}` of a path as the handlers take it.
pub type PathId = Result<Path<String>, PathRejection>;

const NOT_JSON: &str = "the request body is not well-formed JSON";
const UNREADABLE: &str = "the request body could not be read";

/// The `422` for a `status` that is no [`ProjectStatus`], naming the ones there are.
fn bad_status() -> ApiError {
    let names: Vec<&str> = ProjectStatus::ALL.iter().map(|status| status.as_str()).collect();
    ApiError::invalid("status", format!("`status` must be one of {}", names.join(", ")))
}

/// The id in the path, or `404` with `missing` ("no project has this id").
pub fn path_id(path: PathId, missing: &'static str) -> Result<i64, ApiError> {
    let Ok(Path(raw)) = path else {
        return Err(ApiError::NoSuch(missing));
    };
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::NoSuch(missing));
    }
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or(ApiError::NoSuch(missing))
}

/// The body of `POST /api/v1/projects`:
/// `{"name": "...", "description": "...", "status": "planned"}`, `status`
/// optional (`planned` when absent or `null`).
pub fn new_project(body: JsonBody) -> Result<NewProject, ApiError> {
    let mut fields = Fields::new(body, &["name", "description", "status"])?;
    let name = fields.text("name", 1, PROJECT_NAME_MAX_CHARS, false)?;
    let description = fields.text("description", 0, PROJECT_DESCRIPTION_MAX_CHARS, true)?;
    let status = match fields.take("status") {
        None => ProjectStatus::default(),
        Some(Value::String(s)) => ProjectStatus::parse(&s).ok_or_else(bad_status)?,
        Some(_) => return Err(bad_status()),
    };
    Ok(NewProject { name, description, status })
}

/// The body of `PUT /api/v1/users/{id}/roles`: `{"roles": ["admin", ...]}`.
/// The names are checked for shape here; whether each role exists is the
/// store's to say.
pub fn role_names(body: JsonBody) -> Result<Vec<String>, ApiError> {
    let mut fields = Fields::new(body, &["roles"])?;
    let Some(value) = fields.take("roles") else {
        return Err(ApiError::invalid("roles", "`roles` is required"));
    };
    let Value::Array(items) = value else {
        return Err(ApiError::invalid("roles", "`roles` must be an array of role names"));
    };
    if items.len() > MAX_ROLES {
        return Err(ApiError::invalid("roles", format!("`roles` may hold at most {MAX_ROLES} names")));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(name) if is_role_name(&name) => Ok(name),
            _ => Err(ApiError::invalid(
                "roles",
                format!(
                    "`roles[{index}]` is not a role name (a non-empty word of at most {ROLE_NAME_MAX_CHARS} characters)"
                ),
            )),
        })
        .collect()
}

/// A single word: no whitespace, no control characters, not too long.
fn is_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= ROLE_NAME_MAX_CHARS
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The members of a JSON object body, taken one by one.
struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// The body as an object whose members are all in `allowed`: a member the
    /// route does not know is refused rather than silently ignored.
    fn new(body: JsonBody, allowed: &[&str]) -> Result<Fields, ApiError> {
        let Json(value) = body.map_err(body_rejection)?;
        let Value::Object(map) = value else {
            return Err(ApiError::Invalid {
                field: None,
                description: "the request body must be a JSON object".into(),
            });
        };
        if let Some(unknown) = map.keys().find(|key| !allowed.contains(&key.as_str())) {
            let expected = allowed.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
            return Err(ApiError::invalid(unknown, format!("unknown member; the body may have {expected}")));
        }
        Ok(Fields { map })
    }

    /// The member `name`; `None` when absent or `null`.
    fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name).filter(|value| !value.is_null())
    }

    /// A required string member, trimmed, of `min..=max` characters, without
    /// control characters (but for line breaks and tabs when `multiline`).
    fn text(&mut self, name: &str, min: usize, max: usize, multiline: bool) -> Result<String, ApiError> {
        let value = match self.take(name) {
            Some(Value::String(value)) => value,
            Some(_) => return Err(ApiError::invalid(name, format!("`{name}` must be a string"))),
            None => return Err(ApiError::invalid(name, format!("`{name}` is required"))),
        };
        let value = value.trim();
        let chars = value.chars().count();
        if chars < min {
            return Err(ApiError::invalid(name, format!("`{name}` must not be empty")));
        }
        if chars > max {
            return Err(ApiError::invalid(name, format!("`{name}` must be at most {max} characters")));
        }
        let allowed_control = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
        if value.chars().any(|c| c.is_control() && !allowed_control(c)) {
            return Err(ApiError::invalid(name, format!("`{name}` must not contain control characters")));
        }
        Ok(value.to_owned())
    }
}

/// Why axum's `Json` extractor refused the body, as this API says it.
fn body_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(_) | JsonRejection::JsonDataError(_) => ApiError::BadRequest(NOT_JSON),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest(UNREADABLE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> JsonBody {
        Ok(Json(value))
    }

    /// The field and description of a 422.
    #[track_caller]
    fn invalid<T: std::fmt::Debug>(result: Result<T, ApiError>) -> (Option<String>, String) {
        match result {
            Err(ApiError::Invalid { field, description }) => (field, description),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn ids_are_plain_positive_numbers() {
        let id = |raw: &str| path_id(Ok(Path(raw.to_owned())), "none");
        assert_eq!(id("1").unwrap(), 1);
        assert_eq!(id("9223372036854775807").unwrap(), i64::MAX);
        for bad in ["", "0", "-1", "+1", "1.0", "1e3", " 1", "abc", "9223372036854775808", "١"] {
            assert!(matches!(id(bad), Err(ApiError::NoSuch("none"))), "{bad:?}");
        }
    }

    #[test]
    fn a_project_body_is_trimmed_and_defaults_to_planned() {
        let project = new_project(body(json!({"name": "  Orbit ", "description": " Launch\nit "}))).unwrap();
        assert_eq!(
            project,
            NewProject { name: "Orbit".into(), description: "Launch\nit".into(), status: ProjectStatus::Planned }
        );
        let project = new_project(body(json!({"name": "X", "description": "", "status": "on-hold"}))).unwrap();
        assert_eq!(project.status, ProjectStatus::OnHold);
        let project = new_project(body(json!({"name": "X", "description": "", "status": null}))).unwrap();
        assert_eq!(project.status, ProjectStatus::Planned);
        // Lengths count characters, not bytes.
        let name = "é".repeat(PROJECT_NAME_MAX_CHARS);
        assert_eq!(new_project(body(json!({"name": name, "description": ""}))).unwrap().name, name);
    }

    #[test]
    fn bad_project_bodies_name_the_field() {
        let long_name = "n".repeat(PROJECT_NAME_MAX_CHARS + 1);
        let long_description = "d".repeat(PROJECT_DESCRIPTION_MAX_CHARS + 1);
        let name_limit = format!("at most {PROJECT_NAME_MAX_CHARS} characters");
        let description_limit = format!("at most {PROJECT_DESCRIPTION_MAX_CHARS} characters");
        for (value, field, reason) in [
            (json!({"description": ""}), "name", "required"),
            (json!({"name": null, "description": ""}), "name", "required"),
            (json!({"name": "", "description": ""}), "name", "empty"),
            (json!({"name": " \t ", "description": ""}), "name", "empty"),
            (json!({"name": long_name, "description": ""}), "name", &name_limit),
            (json!({"name": 7, "description": ""}), "name", "string"),
            (json!({"name": ["x"], "description": ""}), "name", "string"),
            (json!({"name": "a\u{0}b", "description": ""}), "name", "control"),
            (json!({"name": "a\nb", "description": ""}), "name", "control"),
            (json!({"name": "x"}), "description", "required"),
            (json!({"name": "x", "description": long_description}), "description", &description_limit),
            (json!({"name": "x", "description": "a\u{7}"}), "description", "control"),
            (
                json!({"name": "x", "description": "", "status": "archived"}),
                "status",
                "one of planned, active, on-hold, done",
            ),
            (json!({"name": "x", "description": "", "status": "Active"}), "status", "one of"),
            (json!({"name": "x", "description": "", "status": 1}), "status", "one of"),
            (json!({"name": "x", "description": "", "owner": 1}), "owner", "unknown member"),
        ] {
            let (got_field, description) = invalid(new_project(body(value.clone())));
            assert_eq!(got_field.as_deref(), Some(field), "{value}");
            assert!(description.contains(reason), "{value}: {description}");
        }
        for value in [json!([]), json!("x"), json!(null), json!(1)] {
            let (field, description) = invalid(new_project(body(value)));
            assert_eq!(field, None);
            assert!(description.contains("JSON object"));
        }
    }

    #[test]
    fn role_lists_are_checked_for_shape() {
        assert_eq!(role_names(body(json!({"roles": ["admin", "viewer"]}))).unwrap(), ["admin", "viewer"]);
        assert!(role_names(body(json!({"roles": []}))).unwrap().is_empty());
        let too_many: Vec<String> = (0..=MAX_ROLES).map(|i| format!("r{i}")).collect();
        for (value, reason) in [
            (json!({}), "required"),
            (json!({"roles": null}), "required"),
            (json!({"roles": "admin"}), "array"),
            (json!({"roles": {"admin": true}}), "array"),
            (json!({"roles": ["admin", 1]}), "roles[1]"),
            (json!({"roles": [""]}), "roles[0]"),
            (json!({"roles": ["two words"]}), "roles[0]"),
            (json!({"roles": ["x".repeat(ROLE_NAME_MAX_CHARS + 1)]}), "roles[0]"),
            (json!({"roles": too_many}), "at most"),
        ] {
            let (field, description) = invalid(role_names(body(value.clone())));
            assert_eq!(field.as_deref(), Some("roles"), "{value}");
            assert!(description.contains(reason), "{value}: {description}");
        }
        let (field, _) = invalid(role_names(body(json!({"roles": [], "user": 1}))));
        assert_eq!(field.as_deref(), Some("user"));
    }
}
