//! License management (issue #9), invoked by an admin: list a connection's licenses, add or
//! remove them from the managed set, set their contract fields (validated by `licensing`),
//! the license report as JSON, CSV, text or one self-contained HTML page, and the
//! connection's settings (issue #19).
//! Access is `lambda:InvokeFunction` on this function (no public route): see
//! docs/license-management.md.
//!
//! - [`request`]: the request, strictly parsed (`events/license-admin/`).
//! - [`admin`]: the use case ([`Admin`]) over the `aws-adapters` stores.
//! - [`settings`]: connection settings, tasks on/off and licenses entered by hand (issue #19).
//! - [`admin`]: the use case ([`Admin`]) over the `ports` stores and the file store, where
//!   reports and exports are delivered (the answer is a short-lived link).
//! - [`delivery`]: reports and exports as files of the file store, answered with a link.
//! - [`export`]: the user exports (all users, underutilized; CSV or JSON lines), streamed.

pub mod admin;
pub mod delivery;
pub mod error;
pub mod export;
pub mod request;
pub mod settings;

pub use admin::{Admin, Clock, DEFAULT_LINK_TTL, LicenseView, READ_ONLY};
pub use delivery::file_key;
pub use error::AdminError;
pub use request::{AdminRequest, LicenseRef, RequestError};
pub use request::{ExportFormat, ExportKind};
