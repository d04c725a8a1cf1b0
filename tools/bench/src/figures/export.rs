//! Issue #19's export figure: the "all users" CSV export of a connection of 5,000, 50,000 and
//! 100,000 users (a master and 10 sub accounts, about two thirds of the users reclamation
//! candidates), written through the file store's 5 MiB parts: the memory the export adds over
//! the process's resident memory before it (the seeded in-memory table is already there), its
//! time and size. Flat memory: once a file is larger than one part, the export holds one part
//! and one 64 KiB chunk, whatever the number of users.

use std::sync::Arc;
use std::time::Instant;

use aws_adapters::{MemoryFileStore, Records};
use bench::procfs;
use chrono::{Duration, Utc};
use license_admin::Admin;
use ports::{
    AccountKind, AccountRecord, AccountStore, CandidateStore, ConnectionRecord, ConnectionSettings,
    ConnectionStore, ReclamationCandidate, UserAccess, UserRecord, UserStore, ZoomRegion,
};
use serde_json::json;
use sync_domain::ActivityDates;

const CID: &str = "bench-export";

/// One export run's figures.
struct Run {
    users: u32,
    added_kb: u64,
    secs: f64,
    bytes: u64,
    parts: usize,
}

async fn seeded(users: u32) -> anyhow::Result<Records> {
    let records = Records::in_memory();
    let now = Utc::now();
    let c = ConnectionRecord::new(
        CID,
        "master",
        ZoomRegion::Na,
        ConnectionSettings::default(),
        now,
    );
    records.insert_connection(&c).await?;
    let accounts: Vec<AccountRecord> = (0..11)
        .map(|i| AccountRecord {
            account_id: if i == 0 {
                "master".into()
            } else {
                format!("sub-{i:02}")
            },
            kind: if i == 0 {
                AccountKind::Master
            } else {
                AccountKind::Sub
            },
            name: Some(format!("Account {i}")),
            owner_email: None,
            account_type: None,
            seats: None,
            created_at: None,
            removed_at: None,
        })
        .collect();
    records.sync_accounts(CID, &accounts, now).await?;
    let per_account = users / 11 + 1;
    for (a, account) in accounts.iter().enumerate() {
        let first = u32::try_from(a)? * per_account;
        let last = (first + per_account).min(users);
        let ids: Vec<u32> = (first..last).collect();
        for batch in ids.chunks(1000) {
            let roster: Vec<UserRecord> = batch
                .iter()
                .map(|i| UserRecord {
                    user_id: Some(format!("user-{i:07}")),
                    email: format!("user.{i}@example.com"),
                    first_name: Some(format!("First{i}")),
                    last_name: Some(format!("Last{i}")),
                    user_type: 2,
                    status: "active".into(),
                    role_id: None,
                    role_name: None,
                    account_id: account.account_id.clone(),
                    active_date: Some(now - Duration::days(800)),
                    license_name: Some("Business".into()),
                    removed_at: None,
                })
                .collect();
            records.upsert_users(CID, &roster).await?;
            let days = |i: u32| i64::from(i % 200);
            let access: Vec<UserAccess> = batch
                .iter()
                .map(|i| UserAccess {
                    user_key: format!("user-{i:07}"),
                    account_id: account.account_id.clone(),
                    dates: ActivityDates {
                        last_login: Some(now - Duration::days(days(*i))),
                        last_meeting_created: None,
                        last_meeting_joined: Some(now - Duration::days(days(*i) + 3)),
                    },
                })
                .collect();
            records.upsert_access(CID, &access).await?;
            let candidates: Vec<ReclamationCandidate> = batch
                .iter()
                .filter(|i| days(**i) > 60)
                .map(|i| ReclamationCandidate {
                    account_id: account.account_id.clone(),
                    user_key: format!("user-{i:07}"),
                    user_id: Some(format!("user-{i:07}")),
                    email: format!("user.{i}@example.com"),
                    license_id: format!("{}:licensed", account.account_id),
                    license_name: "Business".into(),
                    user_type: 2,
                    last_login: Some(now - Duration::days(days(*i))),
                    last_meeting_created: None,
                    last_meeting_joined: None,
                    last_activity: Some(now - Duration::days(days(*i))),
                    days_inactive: days(*i),
                    threshold_days: 60,
                    computed_at: now,
                })
                .collect();
            records.put_candidates(CID, &candidates).await?;
        }
    }
    Ok(records)
}

async fn run(users: u32) -> anyhow::Result<Run> {
    let records = seeded(users).await?;
    let files = Arc::new(MemoryFileStore::discarding());
    let admin = Admin::with_system_clock(Arc::new(records), files.clone());
    let request = json!({"operation": "export", "connection_id": CID, "kind": "all_users",
        "format": "csv", "requested_by": "bench"});
    let reset = procfs::reset_peak();
    let before = procfs::status_kb("self", "VmRSS").unwrap_or(0);
    let started = Instant::now();
    let out = admin.handle(&request).await?;
    let secs = started.elapsed().as_secs_f64();
    let peak = procfs::status_kb("self", "VmHWM").unwrap_or(0);
    anyhow::ensure!(
        reset,
        "cannot reset the peak resident memory (/proc/self/clear_refs)"
    );
    anyhow::ensure!(
        out["rows"] == users,
        "exported {} rows of {users}",
        out["rows"]
    );
    let key = out["key"].as_str().unwrap_or_default();
    let parts = files.get(key).map_or(0, |f| f.part_sizes.len());
    Ok(Run {
        users,
        added_kb: peak.saturating_sub(before),
        secs,
        bytes: out["bytes"].as_u64().unwrap_or(0),
        parts,
    })
}

pub(crate) async fn export_figures() -> anyhow::Result<()> {
    println!();
    println!("## Export (issue #19): \"all users\" CSV through 5 MiB parts, in-memory table");
    let mut runs = Vec::new();
    for users in [5_000, 50_000, 100_000] {
        let r = run(users).await?;
        println!(
            "export {:>6} users: {:>5.2} s ({:>6.0} rows/s), {:>5.1} MB in {} part(s); memory added by the export {:>5.1} MB",
            r.users,
            r.secs,
            f64::from(r.users) / r.secs.max(1e-9),
            r.bytes as f64 / 1e6,
            r.parts,
            r.added_kb as f64 / 1024.0
        );
        runs.push(r);
    }
    let shown: Vec<String> = runs
        .iter()
        .map(|r| format!("{:.1} MB at {} users", r.added_kb as f64 / 1024.0, r.users))
        .collect();
    println!(
        "memory added by the export: {} (target: flat, at most one 5 MiB part and one 64 KiB chunk)",
        shown.join(" → ")
    );
    Ok(())
}
