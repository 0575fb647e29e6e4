//! The API's errors: an HTTP status and `{"error": {"code", "field", "message"}}`, where `field` names the request field
//! at fault (a JSON path such as `messages[3].to`) and `message` says how to fix it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::gateway::SubmitError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code to branch on.
    pub code: &'static str,
    /// The request field at fault.
    pub field: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
    /// Seconds to wait before trying again (429, 503).
    pub retry_after: Option<u64>,
}

/// The JSON body of an error.
#[derive(Serialize, Debug)]
pub struct ErrorBody<'a> {
    /// The error.
    pub error: ErrorDetail<'a>,
}

/// One error: code, field, message.
#[derive(Serialize, Debug)]
pub struct ErrorDetail<'a> {
    /// A stable code.
    pub code: &'a str,
    /// The field at fault, or null.
    pub field: Option<&'a str>,
    /// What is wrong and what to do.
    pub message: &'a str,
}

/// One error, owned: for the results of a batch.
#[derive(Serialize, Debug, Clone)]
pub struct ErrorDetailOwned {
    /// A stable code.
    pub code: &'static str,
    /// The field at fault, or null.
    pub field: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl ApiError {
    /// The error as a batch result's detail.
    pub fn into_owned_detail(self) -> ErrorDetailOwned {
        ErrorDetailOwned {
            code: self.code,
            field: self.field,
            message: self.message,
        }
    }

    /// An error with no field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            field: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// An error about one field.
    pub fn field(
        status: StatusCode,
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(status, code, message)
        }
    }

    /// 401: no or a wrong API key.
    pub fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// The same error about a field inside a batch item (`messages[3].to`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = Some(match self.field {
            Some(f) => format!("{prefix}.{f}"),
            None => prefix.to_string(),
        });
        self
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                field: self.field.as_deref(),
                message: &self.message,
            },
        }
    }

    /// A body that did not deserialize: bad JSON, a missing, unknown or mistyped field.
    pub fn from_json(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let full = inner.to_string();
        // The position is only useful for syntax errors; a field error names the field instead.
        let text = match full.rfind(" at line ") {
            Some(i) if inner.classify() == serde_json::error::Category::Data => &full[..i],
            _ => full.as_str(),
        };
        let named = backticked(text);
        let bad = StatusCode::BAD_REQUEST;
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::new(
                    bad,
                    "invalid_json",
                    format!("the body is not valid JSON ({text}); send a JSON object"),
                )
            }
            _ if text.starts_with("missing field") => {
                let field = join(&path, named.unwrap_or_default());
                ApiError::field(
                    bad,
                    "missing_field",
                    field.clone(),
                    format!("`{field}` is required; add it"),
                )
            }
            _ if text.starts_with("unknown field") => {
                let field = join(&path, named.unwrap_or_default());
                let expected = text
                    .split_once(", expected")
                    .map_or("", |(_, rest)| rest)
                    .trim();
                ApiError::field(
                    bad,
                    "unknown_field",
                    field.clone(),
                    format!("`{field}` is not a field of this request; remove it or fix its spelling (expected {expected})"),
                )
            }
            _ => ApiError::field(
                bad,
                "invalid_field",
                path.clone(),
                format!("`{path}` has the wrong type or value: {text}"),
            ),
        }
    }
}

/// The first `quoted` name in a serde message.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(&message[start..end])
}

/// A field's path below a container's (`.` is the root); the path already ends in the field for unknown fields.
fn join(container: &str, name: &str) -> String {
    if container == name || container.ends_with(&format!(".{name}")) {
        container.to_string()
    } else if container == "." || container.is_empty() {
        name.to_string()
    } else {
        format!("{container}.{name}")
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            SubmitError::Destination(e) => ApiError::field(
                unprocessable,
                "invalid_number",
                "to",
                format!("{e}; give the recipient in E.164 form, e.g. +4915123456789"),
            ),
            SubmitError::NoRoute => ApiError::field(
                unprocessable,
                "no_route",
                "to",
                "no route covers this destination for your account and class; ask the operator to add one",
            ),
            SubmitError::Sender(e) => ApiError::field(
                unprocessable,
                "unregistered_sender",
                "from",
                format!("{e}; use one of the sender IDs registered to your account"),
            ),
            SubmitError::SenderNotCarried(sender) => ApiError::field(
                unprocessable,
                "sender_not_carried",
                "from",
                format!("no carrier for this destination accepts sender {sender:?}; register it with the carrier or use another sender"),
            ),
            SubmitError::Message(why) => ApiError::field(
                unprocessable,
                "invalid_text",
                "text",
                why,
            ),
            SubmitError::Validity(why) => ApiError::field(
                unprocessable,
                "invalid_validity",
                "validity",
                format!("{why}; give a duration such as \"10m\" or \"2h\""),
            ),
            SubmitError::Scheduled => scheduling_unsupported(),
            SubmitError::Throttled => ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "over your account's message rate; retry after the Retry-After seconds",
                )
            },
            SubmitError::QueueFull => ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "queue_full",
                    "the carrier queue is full; retry after the Retry-After seconds",
                )
            },
        }
    }
}

/// Scheduled delivery is not offered.
pub fn scheduling_unsupported() -> ApiError {
    ApiError::field(
        StatusCode::UNPROCESSABLE_ENTITY,
        "scheduling_unsupported",
        "scheduled_at",
        "scheduled delivery is not supported; leave scheduled_at out and submit when the message should go",
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(s) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Req {
        to: String,
        n: Option<u32>,
    }

    fn parse(body: &str) -> ApiError {
        let de = &mut serde_json::Deserializer::from_str(body);
        ApiError::from_json(serde_path_to_error::deserialize::<_, Req>(de).unwrap_err())
    }

    #[test]
    fn json_errors_name_the_field_and_the_fix() {
        let e = parse(r#"{"n": 1}"#);
        assert_eq!((e.code, e.field.as_deref()), ("missing_field", Some("to")));
        let e = parse(r#"{"to": "1", "tp": 1}"#);
        assert_eq!((e.code, e.field.as_deref()), ("unknown_field", Some("tp")));
        assert!(e.message.contains("expected"), "{}", e.message);
        let e = parse(r#"{"to": "1", "n": "x"}"#);
        assert_eq!((e.code, e.field.as_deref()), ("invalid_field", Some("n")));
        let e = parse(r#"{"to": "#);
        assert_eq!((e.code, e.field), ("invalid_json", None));
    }
}
