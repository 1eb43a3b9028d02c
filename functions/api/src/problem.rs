//! RFC 9457 problem details: every error the API returns names its fields and problems.

use ferry_core::cost::app::AppCostError;
use ferry_core::infra::environments::{ReleaseError, UpsertError};
use ferry_core::ports::StoreError;
use ferry_core::promotion::{CreateError, StartError};
use ferry_core::{FieldError, ValidationErrors};
use lambda_http::{Body, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub status: u16,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn validation(errors: ValidationErrors) -> Self {
        Self {
            status: 400,
            kind: "validation",
            title: "The request is not valid",
            detail: errors.to_string(),
            errors: errors.0,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::validation(ValidationErrors::from(FieldError::new(field, message)))
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: 404,
            kind: "not-found",
            title: "Not found",
            detail: detail.into(),
            errors: vec![],
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            status: 401,
            kind: "unauthorized",
            title: "Unauthorized",
            detail: detail.into(),
            errors: vec![],
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self {
            status: 403,
            kind: "forbidden",
            title: "Forbidden",
            detail: detail.into(),
            errors: vec![],
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self {
            status: 409,
            kind: "conflict",
            title: "Conflict",
            detail: detail.into(),
            errors: vec![],
        }
    }

    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self {
            status: 412,
            kind: "precondition-failed",
            title: "Precondition failed",
            detail: detail.into(),
            errors: vec![],
        }
    }

    /// A backend failed; the detail is logged, and the caller learns only that it may retry.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "backend failure");
        Self {
            status: 503,
            kind: "unavailable",
            title: "A backend service failed; retry later",
            detail: "the request was not completed".into(),
            errors: vec![],
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let body = json!({
            "type": format!("https://ferry.dev/problems/{}", self.kind),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": self.errors,
        });
        Response::builder()
            .status(self.status)
            .header("content-type", "application/problem+json")
            .body(Body::Text(body.to_string()))
            .expect("static status and header are valid")
    }
}

/// What each store failure means to a caller.
pub fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::NotFound(what) => Problem::not_found(format!("{what} was not found")),
        StoreError::AlreadyExists(what) => Problem::conflict(format!("{what} already exists")),
        StoreError::VersionConflict { .. } => Problem::precondition_failed(error.to_string()),
        StoreError::Locked { .. } => Problem::conflict(error.to_string()),
        StoreError::StackTaken { .. } => {
            let message = format!("{error}; give this environment another stack_name");
            Problem {
                errors: vec![FieldError::new("stack_name", message.clone())],
                ..Problem::conflict(format!("stack_name: {message}"))
            }
        }
        other => Problem::unavailable(other),
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        store_problem(error)
    }
}

impl From<StartError> for Problem {
    fn from(error: StartError) -> Self {
        match error {
            StartError::Create(CreateError::Invalid(errors)) => Problem::validation(errors),
            StartError::Create(e @ (CreateError::Busy { .. } | CreateError::KeyReused(_))) => {
                Problem::conflict(e.to_string())
            }
            StartError::Create(CreateError::Store(store)) | StartError::Store(store) => {
                store_problem(store)
            }
            StartError::Workflow(error) => Problem::unavailable(error),
        }
    }
}

impl From<UpsertError> for Problem {
    fn from(error: UpsertError) -> Self {
        match error {
            UpsertError::AppNotFound(_) => Problem::not_found(error.to_string()),
            UpsertError::Exists { .. } => Problem::conflict(error.to_string()),
            UpsertError::Template(error) => Problem::invalid("spec", error.to_string()),
            UpsertError::Store(error) => store_problem(error),
        }
    }
}

impl From<ReleaseError> for Problem {
    fn from(error: ReleaseError) -> Self {
        match error {
            ReleaseError::NotFound(_) => Problem::not_found(error.to_string()),
            ReleaseError::Busy { .. } | ReleaseError::Gated { .. } => {
                Problem::conflict(error.to_string())
            }
            ReleaseError::Store(error) => store_problem(error),
        }
    }
}

impl From<AppCostError> for Problem {
    fn from(error: AppCostError) -> Self {
        match error {
            AppCostError::NotFound(_) => Problem::not_found(error.to_string()),
            AppCostError::Store(error) => store_problem(error),
        }
    }
}
