//! The function's error: refusals (the caller's to fix) and our own failures (a retry may help).

use licensing::ValidationError;
use ports::{FileError, StoreError};

use crate::request::RequestError;
use crate::settings::InvalidSettings;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    #[error(transparent)]
    InvalidRequest(#[from] RequestError),
    #[error(transparent)]
    InvalidContract(#[from] ValidationError),
    #[error(transparent)]
    InvalidSettings(#[from] InvalidSettings),
    #[error("connection {0} does not exist")]
    ConnectionNotFound(String),
    #[error(
        "license {license_id} is not among the connection's licenses (known: {}); run `list`, \
         or wait for License Information to record it",
        known.join(", ")
    )]
    LicenseNotFound {
        license_id: String,
        known: Vec<String>,
    },
    #[error("license {license_id} exists in several accounts ({}); add `account_id`", accounts.join(", "))]
    AmbiguousLicense {
        license_id: String,
        accounts: Vec<String>,
    },
    #[error("record store: {0}")]
    Store(#[from] StoreError),
    /// Writing or linking the report's or export's file failed.
    #[error("file store: {0}")]
    File(#[from] FileError),
}

impl AdminError {
    /// Short type reported to the Lambda runtime (`errorType`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::InvalidContract(_) => "InvalidContract",
            Self::InvalidSettings(_) => "InvalidSettings",
            Self::ConnectionNotFound(_) => "ConnectionNotFound",
            Self::LicenseNotFound { .. } => "LicenseNotFound",
            Self::AmbiguousLicense { .. } => "AmbiguousLicense",
            Self::Store(_) => "StoreError",
            Self::File(_) => "FileError",
        }
    }

    /// Whether the caller must change something (as opposed to our or AWS's failure).
    pub fn is_caller_error(&self) -> bool {
        !matches!(self, Self::Store(_) | Self::File(_))
    }
}

impl From<AdminError> for lambda_runtime::Diagnostic {
    fn from(e: AdminError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind().to_owned(),
            error_message: e.to_string(),
        }
    }
}
