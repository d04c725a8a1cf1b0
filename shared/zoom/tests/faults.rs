//! With injected 5xx, dropped connections, timeouts and 429 bursts, a full listing returns
//! exactly what the fault-free run returns (several fault seeds).

mod common;

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use zoom::{
    MeetingListType, MemoryTokenSource, RateProfile, RetryPolicy, UserStatus, ZoomClient, ZoomError,
};
use zoom_sandbox::faults::FaultConfig;
use zoom_sandbox::tenant::TenantSpec;
use zoom_sandbox::{RunningSandbox, SandboxConfig};

fn client(sb: &RunningSandbox) -> ZoomClient {
    let source = Arc::new(MemoryTokenSource::new(
        common::test_tokens(sb),
        Arc::new(common::oauth(sb)),
    ));
    let config = zoom::ZoomConfig::builder()
        .oauth_base(sb.base_url())
        .request_timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    ZoomClient::builder(config, source)
        .rate_profile(RateProfile::unlimited())
        .retry_policy(RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(500),
            max_attempts: 12,
            default_budget: Duration::from_secs(120),
        })
        .page_size(100)
        .build()
        .unwrap()
}

/// Sub accounts, every account's users (all statuses), summaries, plan usage, and the
/// meetings of the first hosts: one sorted line per fact.
async fn full_listing(client: &ZoomClient) -> Result<Vec<String>, ZoomError> {
    let mut lines = Vec::new();
    let subs = client.sub_accounts().collect_all().await?;
    let mut apis = vec![client.me()];
    for s in &subs {
        lines.push(format!("sub {} {} {:?}", s.id, s.account_name, s.seats));
        apis.push(client.account(&s.id));
    }
    for api in apis {
        let summary = api.user_summary().await?;
        lines.push(format!(
            "summary {} {}",
            api.account_id(),
            summary.total_users_count
        ));
        // A sub account that pays its own bill has no plan usage (400 code 2100).
        let usage = match api.plan_usage().await {
            Ok(usage) => format!("{:?}", usage.base().map(|b| b.usage)),
            Err(e) if e.code() == Some(2100) => "self-pay".to_owned(),
            Err(e) => return Err(e),
        };
        lines.push(format!("usage {} {usage}", api.account_id()));
        let mut active = Vec::new();
        for status in [
            UserStatus::Active,
            UserStatus::Inactive,
            UserStatus::Pending,
        ] {
            let users = api.users(status.clone()).collect_all().await?;
            for u in &users {
                lines.push(format!(
                    "user {} {} {} {:?} {:?}",
                    api.account_id(),
                    u.key(),
                    u.user_type.code(),
                    u.status,
                    u.last_login_time
                ));
            }
            if status == UserStatus::Active {
                active = users;
            }
        }
        // Meetings of the first 40 active users, 8 in flight at a time.
        let meetings: Vec<Vec<String>> =
            futures::stream::iter(active.into_iter().filter_map(|u| u.id).take(40))
                .map(|id| {
                    let api = api.clone();
                    async move {
                        let meetings = api
                            .user_meetings(&id, MeetingListType::Scheduled)
                            .collect_all()
                            .await?;
                        Ok::<_, ZoomError>(
                            meetings
                                .into_iter()
                                .map(|m| {
                                    format!("meeting {id} {} {:?} {:?}", m.uuid, m.id, m.created_at)
                                })
                                .collect(),
                        )
                    }
                })
                .buffer_unordered(8)
                .try_collect()
                .await?;
        lines.extend(meetings.into_iter().flatten());
    }
    lines.sort();
    Ok(lines)
}

#[tokio::test]
async fn listing_under_faults_equals_the_fault_free_listing() {
    let spec = TenantSpec::sized(11, 3, 1_200).with_meetings_per_user(2);
    let sb = common::sandbox(SandboxConfig {
        tenant: spec,
        ..SandboxConfig::demo()
    })
    .await;
    let baseline = full_listing(&client(&sb)).await.unwrap();
    assert!(baseline.len() > 1_200, "{} lines", baseline.len());

    for seed in [1u64, 2, 3] {
        sb.state.faults.set(FaultConfig {
            error_500: 0.05 / 3.0,
            error_502: 0.05 / 3.0,
            error_503: 0.05 / 3.0,
            drop: 0.02,
            timeout: 0.005,
            hold_ms: Some(3_000),
            rate_limit: 0.005,
            burst_429: 4,
            seed,
            ..FaultConfig::default()
        });
        sb.state.stats.reset(sb.state.clock.now());
        let client = client(&sb);
        let listing = full_listing(&client)
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(listing, baseline, "seed {seed}");

        let stats = sb.state.stats.snapshot();
        let injected_5xx = stats.fault("500") + stats.fault("502") + stats.fault("503");
        assert!(injected_5xx > 0, "seed {seed}: {:?}", stats.faults);
        assert!(stats.fault("drop") > 0, "seed {seed}: {:?}", stats.faults);
        assert!(stats.fault("429") >= 4, "seed {seed}: {:?}", stats.faults);
        let m = client.metrics();
        assert!(
            m.retries >= injected_5xx + stats.fault("drop"),
            "seed {seed}: {m:?}"
        );
        assert!(m.rate_limited_429 >= 4);
        // Held (timed-out) requests are counted by the sandbox only when it lets them go.
        assert!(
            m.requests >= stats.requests,
            "{} < {}",
            m.requests,
            stats.requests
        );
    }
}
