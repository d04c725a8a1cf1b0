//! The sandbox a test runs on: its tenants (specs and their fixed anchor), starting it, its
//! ground truth, and the clocks (the sandbox's pinned to the anchor, the engine's moved by the
//! test).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sync_engine::Clock;
use zoom_sandbox::tenant::TenantSpec;
use zoom_sandbox::truth::TenantTruth;
use zoom_sandbox::{RunningSandbox, SandboxConfig};

pub async fn sandbox(spec: TenantSpec) -> RunningSandbox {
    let config = SandboxConfig {
        tenant: spec,
        ..SandboxConfig::demo()
    };
    zoom_sandbox::start_local(config).await.expect("sandbox")
}

pub fn demo_spec() -> TenantSpec {
    TenantSpec::demo().with_anchor(anchor())
}

/// 20 sub accounts, modest size (bigger sizes belong to the benchmarks).
pub fn twenty_subs_spec() -> TenantSpec {
    TenantSpec::sized(2, 20, 260)
        .with_meetings_per_user(2)
        .with_participants_per_meeting(4)
        .with_anchor(anchor())
}

/// The incremental test's tenant: 20 sub accounts with enough users per account that the
/// per-account listings do not dominate.
pub fn incremental_spec() -> TenantSpec {
    TenantSpec::sized(2, 20, 700)
        .with_meetings_per_user(3)
        .with_participants_per_meeting(4)
        .with_anchor(anchor())
}

/// The tenants' anchor (the generated data's "today"), fixed so that the data and every
/// inactivity verdict are the same on every run: 2026-06-01T00:00:00Z
/// ([`zoom_sandbox::tenant::fixed_anchor`]).
pub fn anchor() -> DateTime<Utc> {
    zoom_sandbox::tenant::fixed_anchor()
}

/// How long after its tenant's anchor a test's "now" is: noon of the next day (the anchor
/// used to be "yesterday midnight" with the clocks at real time), 12 hours from a UTC
/// midnight (where the sandbox's daily caps reset). The sandbox's own
/// [`zoom_sandbox::tenant::FIXED_NOW_AFTER_ANCHOR`].
pub const NOW_AFTER_ANCHOR_HOURS: i64 = zoom_sandbox::tenant::FIXED_NOW_AFTER_ANCHOR.num_hours();

/// Pins the sandbox clock (real time plus an offset) to the tenant's anchor +
/// [`NOW_AFTER_ANCHOR_HOURS`] and returns that time for the engine's clock. The offset has
/// whole seconds: the sandbox is then less than a second after the returned time (plus the
/// time the test has taken since), never before it.
pub fn pin_clock(sb: &RunningSandbox) -> DateTime<Utc> {
    let target = sb.state.tenant.anchor() + chrono::Duration::hours(NOW_AFTER_ANCHOR_HOURS);
    sb.state.clock.move_to(target);
    target
}

/// A clock the test moves (follows the sandbox clock when told to).
#[derive(Clone)]
pub struct TestClock(pub Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(t)))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
    pub fn clock(&self) -> Clock {
        let c = self.0.clone();
        Arc::new(move || *c.lock().unwrap())
    }
}

pub fn truth(sb: &RunningSandbox) -> TenantTruth {
    sb.state.tenant.truth(false)
}
