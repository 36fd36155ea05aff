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

    /// A bug of ours (a caught panic): its own kind ([`ErrorKind::Bug`], exit 5, since nothing was
    /// judged), and a message that says so — never "AWS error".
    pub fn bug(what: &str) -> Self {
        AppError {
            kind: ErrorKind::Bug,
            message: format!("ecsgate panicked while {what}: this is a bug, please report it with the message above"),
            hint: None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_is_a_bug_exiting_5_and_never_called_an_aws_error() {
        let e = AppError::bug("waiting");
        assert_eq!(e.kind, ErrorKind::Bug);
        assert_eq!(e.exit_code(), crate::exit::AWS_ERROR);
        assert!(e.message.contains("this is a bug"), "{}", e.message);
        assert!(!e.message.to_lowercase().contains("aws"), "{}", e.message);
        let v = crate::engine::Verdict::error(e.kind, &e.message, None);
        assert_eq!(v.exit_code, crate::exit::AWS_ERROR);
    }
}
