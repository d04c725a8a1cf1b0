//! The integration tasks' rules, free of I/O: which users a connection tracks, what each
//! user's license is called, how many seats a license provides, and how active users are.

pub mod activity;
pub mod license;
pub mod settings;
pub mod text;

pub use activity::{ActivityBands, ActivityDates, inactive_beyond};
pub use license::{LicenseKind, Provisioned};
pub use settings::{ConnectionSettings, InactivityThreshold, SettingsError, YesNo};
pub use text::check_request_text;
