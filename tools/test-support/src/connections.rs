//! The connections a test makes: the four combinations of settings, their ids, and the
//! connection record stored for one.

use aws_adapters::Records;
use chrono::Utc;
use ports::{ConnectionRecord, ConnectionSettings, ConnectionStore, ZoomRegion};
use zoom_sandbox::truth::TenantTruth;

/// The combination's settings; the inactivity threshold differs per combination (15, 30, 60,
/// 120 days) so the bands and candidates are exercised at several thresholds.
pub fn settings(free: bool, on_prem: bool) -> ConnectionSettings {
    let days: u16 = match (free, on_prem) {
        (false, false) => 15,
        (true, false) => 30,
        (false, true) => 60,
        (true, true) => 120,
    };
    ConnectionSettings {
        include_free_users: free.into(),
        include_on_premises: on_prem.into(),
        inactivity_threshold: days.try_into().expect("an offered threshold"),
    }
}

pub const COMBOS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

pub fn connection_id(free: bool, on_prem: bool) -> String {
    format!("conn-free{}-onprem{}", u8::from(free), u8::from(on_prem))
}

pub async fn connect(records: &Records, truth: &TenantTruth, cid: &str, s: ConnectionSettings) {
    let c = ConnectionRecord::new(cid, &truth.master_account_id, ZoomRegion::Na, s, Utc::now());
    records
        .insert_connection(&c)
        .await
        .expect("insert connection");
}
