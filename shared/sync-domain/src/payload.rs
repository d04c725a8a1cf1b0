//! Strict parsing of an invocation payload into a request type, with an error that names the
//! offending field.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses `payload` as a `T` (whose own serde attributes say how strict it is). The error is
/// serde's, preceded by the path of the field it is about: "field `users[2]`: invalid type…".
pub fn parse_payload<T: DeserializeOwned>(payload: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." || path.is_empty() {
            inner
        } else {
            format!("field `{path}`: {inner}")
        }
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::parse_payload;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Request {
        id: String,
        #[serde(default)]
        users: Vec<String>,
    }

    #[test]
    fn errors_name_the_field_they_are_about() {
        assert_eq!(
            parse_payload::<Request>(&json!({"id": "r", "users": ["a"]})),
            Ok(Request {
                id: "r".into(),
                users: vec!["a".into()],
            })
        );
        assert_eq!(
            parse_payload::<Request>(&json!({"id": "r", "users": ["a", 2]})),
            Err("field `users[1]`: invalid type: integer `2`, expected a string".into())
        );
        assert_eq!(
            parse_payload::<Request>(&json!({"users": []})),
            Err("missing field `id`".into())
        );
        assert_eq!(
            parse_payload::<Request>(&json!({"id": "r", "other": 1})),
            Err("field `other`: unknown field `other`, expected `id` or `users`".into())
        );
    }
}
