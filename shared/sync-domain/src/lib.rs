//! The integration tasks' rules, free of I/O: which users a connection tracks, what each
//! user's license is called, how many seats a license provides, and how active users are.

pub mod activity;
pub mod license;
pub mod payload;
pub mod reclamation;
pub mod settings;
pub mod task;
pub mod text;

pub use activity::{ActivityBand, ActivityBands, ActivityDates, inactive_beyond};
pub use license::{LicenseKind, ManualLicenseError, Provisioned, plan_license_name};
pub use payload::parse_payload;
pub use settings::{ConnectionSettings, InactivityThreshold, SettingsError, YesNo};
pub use task::Task;
pub use text::check_request_text;

/// Where "now" comes from: the system clock in production, the sandbox's clock in tests. The
/// one clock type of every use case (tasks, reclamation, connect, license administration).
pub type Clock = std::sync::Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

pub fn system_clock() -> Clock {
    std::sync::Arc::new(chrono::Utc::now)
}
