//! A connection's settings (as stored) turned into what the domain rules take.

/// The connection's settings as the domain rules take them.
pub fn domain_settings(s: &ports::ConnectionSettings) -> sync_domain::ConnectionSettings {
    use sync_domain::{InactivityThreshold, YesNo};
    let yn = |b: bool| if b { YesNo::Yes } else { YesNo::No };
    sync_domain::ConnectionSettings {
        include_free_users: yn(s.include_free_users),
        include_on_premises: yn(s.include_on_premises),
        inactivity_threshold: u16::try_from(s.inactivity_threshold_days)
            .ok()
            .and_then(|d| InactivityThreshold::try_from(d).ok())
            .unwrap_or_default(),
    }
}
