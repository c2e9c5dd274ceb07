//! JSON text to [`Value`] and back: the one way the login module and the SPA
//! read and write JSON.
//!
//! In the browser (wasm32) the text is parsed by the browser's own
//! `JSON.parse` and written by `JSON.stringify`, and only the walk between
//! a JS value and a [`Value`] is ours: serde_json's parser and serialiser,
//! and a derived `Deserialize` per type, were the largest single part of the
//! SPA's first load. Natively (unit tests, the property tests) serde_json
//! does the same job; the tests in this module run on both sides, so the two
//! backends are held to the same answers. Typed records are read from the
//! [`Value`] by hand (see [`Fields`]), one code path for both.
//!
//! What differs between the two, by the nature of `JSON.parse`: every
//! number is an `f64`, so an integer beyond 2^53 loses its last digits and
//! `60.0` reads as the integer `60` (natively it stays a float). Both refuse
//! what is not JSON, numbers out of the `f64` range, lone UTF-16 surrogates
//! in strings and nesting deeper than [`MAX_DEPTH`], with an error, never a
//! panic.

use serde_json::{Map, Value};

/// Arrays and objects nested deeper than this are refused (the depth
/// serde_json's recursion limit allows), so that no walk over a document can
/// exhaust the stack.
pub const MAX_DEPTH: usize = 127;

/// Why a text is not the JSON asked for: a short reason, for the caller's
/// own error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(pub String);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `text` as one JSON value.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    backend::parse(text)
}

/// Parses `text` as a JSON object.
pub fn parse_object(text: &str) -> Result<Map<String, Value>, JsonError> {
    match parse(text)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError("it is not a JSON object".into())),
    }
}

/// `value` as compact JSON text.
pub fn to_string(value: &Value) -> String {
    backend::to_string(value, false)
}

/// `value` as JSON text indented by two spaces, for people to read.
pub fn to_string_pretty(value: &Value) -> String {
    backend::to_string(value, true)
}

/// An object built from `fields`, in order (a `json!` without serde's
/// serialiser behind it).
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().map(|(name, value)| (name.to_owned(), value)).collect())
}

/// The fields of a JSON object, read into a typed record by hand, with the
/// rules serde's derived `Deserialize` applies: a required field must be
/// present and of its type; an optional one (`Option`) may be absent or
/// `null`; a flag may be absent (`false`) but not `null`; other fields are
/// ignored. The first field that breaks its rule is the error, naming it.
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be an object.
    pub fn of(value: &'a Value) -> Result<Fields<'a>, JsonError> {
        value.as_object().map(Fields).ok_or_else(|| JsonError("it is not a JSON object".into()))
    }

    fn wrong(name: &str, what: &str) -> JsonError {
        JsonError(format!("field `{name}` is not {what}"))
    }

    /// A required field, of any type.
    fn required(&self, name: &str) -> Result<&'a Value, JsonError> {
        self.0.get(name).ok_or_else(|| JsonError(format!("missing field `{name}`")))
    }

    /// An optional field: absent or `null` is `None`.
    fn optional(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    /// A required string.
    pub fn string(&self, name: &str) -> Result<String, JsonError> {
        self.required(name)?.as_str().map(str::to_owned).ok_or_else(|| Self::wrong(name, "a string"))
    }

    /// An optional string.
    pub fn optional_string(&self, name: &str) -> Result<Option<String>, JsonError> {
        self.optional(name)
            .map(|value| value.as_str().map(str::to_owned).ok_or_else(|| Self::wrong(name, "a string")))
            .transpose()
    }

    /// A required list of strings.
    pub fn strings(&self, name: &str) -> Result<Vec<String>, JsonError> {
        self.required(name)?;
        self.optional_strings(name)?.ok_or_else(|| Self::wrong(name, "a list of strings"))
    }

    /// An optional list of strings.
    pub fn optional_strings(&self, name: &str) -> Result<Option<Vec<String>>, JsonError> {
        let strings = |value: &Value| {
            value.as_array()?.iter().map(|item| item.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()
        };
        self.optional(name)
            .map(|value| strings(value).ok_or_else(|| Self::wrong(name, "a list of strings")))
            .transpose()
    }

    /// A required integer.
    pub fn i64(&self, name: &str) -> Result<i64, JsonError> {
        self.required(name)?.as_i64().ok_or_else(|| Self::wrong(name, "an integer"))
    }

    /// An optional unsigned integer.
    pub fn optional_u64(&self, name: &str) -> Result<Option<u64>, JsonError> {
        self.optional(name)
            .map(|value| value.as_u64().ok_or_else(|| Self::wrong(name, "an unsigned integer")))
            .transpose()
    }

    /// A flag: absent is `false`.
    pub fn flag(&self, name: &str) -> Result<bool, JsonError> {
        match self.0.get(name) {
            None => Ok(false),
            Some(value) => value.as_bool().ok_or_else(|| Self::wrong(name, "a boolean")),
        }
    }

    /// A required field of any shape, as it is.
    pub fn value(&self, name: &str) -> Result<&'a Value, JsonError> {
        self.required(name)
    }

    /// An optional field of any shape, as it is (absent or `null` is `None`).
    pub fn optional_value(&self, name: &str) -> Option<&'a Value> {
        self.optional(name)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod backend {
    use serde_json::Value;

    use super::JsonError;

    /// serde_json's recursion limit refuses what is nested deeper than
    /// [`super::MAX_DEPTH`].
    pub(super) fn parse(text: &str) -> Result<Value, JsonError> {
        serde_json::from_str(text).map_err(|e| JsonError(e.to_string()))
    }

    pub(super) fn to_string(value: &Value, pretty: bool) -> String {
        let text = if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) };
        // A `Value` always serialises (its map keys are strings).
        text.unwrap_or_default()
    }
}

#[cfg(target_arch = "wasm32")]
mod backend {
    use js_sys::{Array, JSON, JsString, Object, Reflect};
    use serde_json::{Map, Number, Value};
    use wasm_bindgen::{JsCast, JsValue};

    use super::{JsonError, MAX_DEPTH};

    pub(super) fn parse(text: &str) -> Result<Value, JsonError> {
        let value = JSON::parse(text).map_err(|_| JsonError("it is not valid JSON".into()))?;
        from_js(&value, 0)
    }

    /// The [`Value`] of what `JSON.parse` returned (so only null, booleans,
    /// numbers, strings, arrays and plain objects).
    fn from_js(value: &JsValue, depth: usize) -> Result<Value, JsonError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        if let Some(b) = value.as_bool() {
            return Ok(Value::Bool(b));
        }
        if let Some(n) = value.as_f64() {
            return number(n).map(Value::Number);
        }
        if let Some(s) = value.dyn_ref::<JsString>() {
            if !s.is_valid_utf16() {
                return Err(JsonError("a string holds a lone surrogate".into()));
            }
            return Ok(Value::String(String::from(s)));
        }
        if depth >= MAX_DEPTH {
            return Err(JsonError("it is nested too deeply".into()));
        }
        if Array::is_array(value) {
            let array: &Array = value.unchecked_ref();
            return array.iter().map(|item| from_js(&item, depth + 1)).collect::<Result<_, _>>().map(Value::Array);
        }
        let object: &Object = value.unchecked_ref();
        let mut map = Map::new();
        for key in Object::keys(object).iter() {
            let value = Reflect::get(object, &key).map_err(|_| JsonError("an object cannot be read".into()))?;
            let key = key.as_string().ok_or_else(|| JsonError("an object key is not text".into()))?;
            map.insert(key, from_js(&value, depth + 1)?);
        }
        Ok(Value::Object(map))
    }

    /// A number as serde_json keeps it: an integer when it is one, else a
    /// float. `JSON.parse` reads `1e400` as infinity, which is refused.
    fn number(n: f64) -> Result<Number, JsonError> {
        const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
        const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
        if n.fract() == 0.0 {
            if (0.0..TWO_POW_64).contains(&n) {
                return Ok(Number::from(n as u64));
            }
            if (-TWO_POW_63..0.0).contains(&n) {
                return Ok(Number::from(n as i64));
            }
        }
        Number::from_f64(n).ok_or_else(|| JsonError("a number is out of range".into()))
    }

    /// The JS value of `value`, for `JSON.stringify`.
    fn to_js(value: &Value) -> JsValue {
        match value {
            Value::Null => JsValue::NULL,
            Value::Bool(b) => JsValue::from_bool(*b),
            Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or_default()),
            Value::String(s) => JsValue::from_str(s),
            Value::Array(items) => items.iter().map(to_js).collect::<Array>().into(),
            // `Object.fromEntries` defines own properties, `__proto__` too
            // (an assignment would call its setter instead).
            Value::Object(map) => {
                let entries: Array =
                    map.iter().map(|(key, value)| Array::of2(&JsValue::from_str(key), &to_js(value))).collect();
                Object::from_entries(&entries).map(JsValue::from).unwrap_or(JsValue::NULL)
            }
        }
    }

    pub(super) fn to_string(value: &Value, pretty: bool) -> String {
        let js = to_js(value);
        let text = if pretty {
            JSON::stringify_with_replacer_and_space(&js, &JsValue::NULL, &JsValue::from_f64(2.0))
        } else {
            JSON::stringify(&js)
        };
        text.ok().and_then(|text| text.as_string()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    //! Run natively and in Chromium (`cargo xtask test wasm`): both backends
    //! must give these answers.
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn documents_parse_into_the_values_they_write() {
        let text = r#"{"s":"a\u00e9\"\n","n":null,"t":true,"f":false,"i":-7,"u":1800000000,"x":1.5,
            "a":[1,"two",[],{}],"o":{"__proto__":1,"":"empty key"},"dup":1,"dup":2}"#;
        let expected = json!({
            "s": "aé\"\n", "n": null, "t": true, "f": false, "i": -7, "u": 1_800_000_000u64, "x": 1.5,
            "a": [1, "two", [], {}], "o": {"__proto__": 1, "": "empty key"}, "dup": 2,
        });
        assert_eq!(parse(text).unwrap(), expected);
        assert_eq!(parse("\"text\"").unwrap(), json!("text"));
        assert_eq!(parse(" 42 ").unwrap(), json!(42));
        assert_eq!(parse("9007199254740992").unwrap().as_u64(), Some(9_007_199_254_740_992));
        assert_eq!(parse("-9007199254740992").unwrap().as_i64(), Some(-9_007_199_254_740_992));
        // What is written reads back as the same value, compact and pretty.
        for value in [expected, json!([]), json!({"k": [{"x": -0.25}]}), json!("\u{1F600}")] {
            assert_eq!(parse(&to_string(&value)).unwrap(), value);
            assert_eq!(parse(&to_string_pretty(&value)).unwrap(), value);
        }
        assert_eq!(to_string(&json!({"a": [1, "b"]})), r#"{"a":[1,"b"]}"#);
        assert_eq!(to_string_pretty(&json!({"a": 1})), "{\n  \"a\": 1\n}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn what_is_not_json_is_an_error_never_a_panic() {
        let deep_ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&deep_ok).is_ok());
        for bad in [
            String::new(),
            "{".into(),
            "{'a':1}".into(),
            "[1,]".into(),
            "NaN".into(),
            "1e400".into(),
            "-1e400".into(),
            r#""\ud800""#.into(),
            r#"{"a":"\udc00x"}"#.into(),
            "{} x".into(),
            "undefined".into(),
            format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1)),
            "[".repeat(100_000),
            format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)),
        ] {
            assert!(parse(&bad).is_err(), "{bad:.40}");
        }
        assert!(parse_object("[1]").is_err());
        assert_eq!(parse_object("{\"a\":1}").unwrap().get("a"), Some(&json!(1)));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fields_read_typed_records_and_name_the_field_that_is_wrong() {
        let value = json!({"s": "x", "n": null, "i": -3, "u": 9, "b": true, "l": ["a", "b"], "bad": [1], "nb": null});
        let fields = Fields::of(&value).unwrap();
        assert_eq!(fields.string("s").unwrap(), "x");
        assert_eq!(fields.optional_string("n").unwrap(), None);
        assert_eq!(fields.optional_string("absent").unwrap(), None);
        assert_eq!(fields.i64("i").unwrap(), -3);
        assert_eq!(fields.optional_u64("u").unwrap(), Some(9));
        assert!(fields.flag("b").unwrap());
        assert!(!fields.flag("absent").unwrap());
        assert_eq!(fields.optional_strings("l").unwrap(), Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(fields.strings("l").unwrap(), ["a", "b"]);
        assert!(fields.strings("n").is_err() && fields.strings("absent").is_err() && fields.strings("bad").is_err());
        assert_eq!(fields.string("absent").unwrap_err(), JsonError("missing field `absent`".into()));
        assert_eq!(fields.string("i").unwrap_err(), JsonError("field `i` is not a string".into()));
        assert!(fields.optional_u64("i").is_err());
        assert!(fields.i64("s").is_err());
        assert!(fields.flag("s").is_err());
        assert!(fields.flag("nb").is_err(), "a flag may be absent, not null");
        assert!(fields.string("n").is_err(), "a required string may not be null");
        assert_eq!(fields.optional_u64("n").unwrap(), None);
        assert_eq!(fields.value("l").unwrap(), &json!(["a", "b"]));
        assert_eq!(fields.optional_value("n"), None);
        assert!(fields.optional_strings("bad").is_err());
        assert!(Fields::of(&json!([1])).is_err());
        assert_eq!(object([("a", json!(1)), ("b", json!("c"))]), json!({"a": 1, "b": "c"}));
    }
}
