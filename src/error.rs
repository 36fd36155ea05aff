//! The one error type that reaches `main`: a message for the user, an optional hint, and the kind of
//! error, which decides the documented exit code. Errors inside the AWS layer are
//! [`crate::aws::ErrInfo`] (kind, code, message); they become an [`AppError`] at the boundary where we
//! know what the user should do about them. (anyhow and thiserror were dropped: no error here needs a
//! chain or a derive.)

use crate::exit::ErrorKind;

#[derive(Debug)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl AppError {
    pub fn usage(message: impl Into<String>) -> Self {
        AppError { kind: ErrorKind::Usage, message: message.into(), hint: None }
    }

    pub fn aws(message: impl Into<String>) -> Self {
        AppError { kind: ErrorKind::Aws, message: message.into(), hint: None }
    }

    /// A bug of ours (a caught panic): exit 5, since nothing was judged.
    pub fn internal(message: impl Into<String>) -> Self {
        AppError { kind: ErrorKind::Aws, message: message.into(), hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}
