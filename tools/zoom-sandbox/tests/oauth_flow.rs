//! The OAuth endpoints against Zoom's contract (REFERENCE §5) and the gate's token checks.

mod oauth_common;

use oauth_common::*;
use reqwest::Method;
use serde_json::{Value, json};
use zoom_sandbox::SandboxConfig;

fn invalid_token_body() -> Value {
    json!({"reason": "Invalid Token!", "error": "invalid_grant"})
}

async fn assert_124(r: reqwest::Response) {
    assert_eq!(r.status().as_u16(), 401);
    assert!(header(&r, "x-zm-trackingid").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"code": 124, "message": "Invalid access token."})
    );
}

#[tokio::test]
async fn authorization_code_with_pkce_s256_gives_zoom_shaped_tokens() {
    let sb = start(SandboxConfig::demo()).await;
    let (access, refresh, body) = connect(&sb).await;

    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["api_url"], sb.base_url());
    let expected_scope = sb.state.config.apps[0].scopes.join(" ");
    assert_eq!(body["scope"], expected_scope);
    assert!(!access.starts_with("ey") && !refresh.starts_with("ey"));
    assert_ne!(access, refresh);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "access_token",
        "token_type",
        "refresh_token",
        "expires_in",
        "scope",
        "api_url",
    ] {
        assert!(keys.contains(&k), "{k} in token response");
    }

    // The token works at the API, for the master account's owner.
    let r = api_get(&sb, &access, "/users/me").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(header(&r, "x-zm-trackingid").is_some());
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["id"], sb.state.tenant.master_owner_user_id());
    assert_eq!(me["account_id"], sb.state.tenant.master_account_id());

    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.grants("authorization_code"), 1);
    assert_eq!(stats.endpoint("POST", "/oauth/token"), 1);
    assert_eq!(stats.endpoint("GET", "/v2/users/{userId}"), 1);
}

#[tokio::test]
async fn pkce_plain_works_and_a_wrong_verifier_is_refused() {
    let sb = start(SandboxConfig::demo()).await;
    let cid = client_id(&sb);
    let plain = "plain-verifier-0123456789-0123456789-0123456789";
    let r = authorize(
        &sb,
        &[
            ("response_type", "code"),
            ("client_id", &cid),
            ("redirect_uri", REDIRECT),
            ("code_challenge", plain),
        ],
    )
    .await;
    let code = redirect_params(&r, REDIRECT)["code"].clone();
    let (status, body) = token(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", plain),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // S256 challenge, wrong verifier.
    let code = oauth_common::code(&sb, "the-right-verifier-0123456789-0123456789-012345").await;
    let (status, body) = token(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            (
                "code_verifier",
                "the-wrong-verifier-0123456789-0123456789-012345",
            ),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["reason"].as_str().unwrap().contains("verifier"));

    // S256 challenge, no verifier at all.
    let code = oauth_common::code(&sb, "another-verifier-0123456789-0123456789-0123456").await;
    let (status, body) = token(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        sb.state.stats.snapshot().token_failures["authorization_code"],
        2
    );
}

#[tokio::test]
async fn codes_are_single_use_and_expire_after_five_minutes() {
    let sb = start(SandboxConfig::demo()).await;
    let verifier = "verifier-for-reuse-0123456789-0123456789-0123456789";
    let code = oauth_common::code(&sb, verifier).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    assert_eq!(token(&sb, &form).await.0, 200);
    let (status, body) = token(&sb, &form).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"reason": "Invalid authorization code", "error": "invalid_grant"})
    );

    // Still fine just before five minutes; expired after.
    let code = oauth_common::code(&sb, verifier).await;
    advance(&sb, 299).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    assert_eq!(token(&sb, &form).await.0, 200);
    let code = oauth_common::code(&sb, verifier).await;
    advance(&sb, 301).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let (status, body) = token(&sb, &form).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"reason": "Authorization code is expired.", "error": "invalid_grant"})
    );
}

#[tokio::test]
async fn redirect_uri_must_match_exactly() {
    let sb = start(SandboxConfig::demo()).await;
    let cid = client_id(&sb);
    for bad in [
        "http://localhost:9000/oauth/callback/",
        "http://localhost:9000/oauth/callback?x=1",
        "http://evil.example/oauth/callback",
        "",
    ] {
        let r = authorize(
            &sb,
            &[
                ("response_type", "code"),
                ("client_id", &cid),
                ("redirect_uri", bad),
                ("state", "s"),
            ],
        )
        .await;
        assert_eq!(r.status().as_u16(), 400, "{bad}");
        assert!(r.headers().get("location").is_none());
        let page = r.text().await.unwrap();
        assert!(page.contains("4709"), "{page}");
    }
    // At the token endpoint, the redirect_uri must be the one the code was issued for.
    let verifier = "verifier-for-redirect-0123456789-0123456789-0123456789";
    let code = oauth_common::code(&sb, verifier).await;
    let (status, body) = token(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://localhost:9000/other"),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"reason": "Redirect URI mismatch.", "error": "invalid_request"})
    );
}

#[tokio::test]
async fn authorize_validates_the_request_and_honours_consent() {
    let sb = start(SandboxConfig::demo()).await;
    let cid = client_id(&sb);

    let r = authorize(
        &sb,
        &[
            ("response_type", "code"),
            ("client_id", "no-such-app"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("4700"));

    let r = authorize(
        &sb,
        &[
            ("response_type", "token"),
            ("client_id", &cid),
            ("redirect_uri", REDIRECT),
            ("state", "s1"),
        ],
    )
    .await;
    let p = redirect_params(&r, REDIRECT);
    assert_eq!(p["error"], "unsupported_response_type");
    assert_eq!(p["state"], "s1");
    assert!(!p.contains_key("code"));

    // Scopes are configured on the app; asking for them is refused.
    let r = authorize(
        &sb,
        &[
            ("response_type", "code"),
            ("client_id", &cid),
            ("redirect_uri", REDIRECT),
            ("scope", "user:read:admin"),
            ("state", "s2"),
        ],
    )
    .await;
    let p = redirect_params(&r, REDIRECT);
    assert_eq!(p["error"], "invalid_scope");
    assert_eq!(p["state"], "s2");

    // Deny mode.
    let (s, _) = control(&sb, Method::PUT, "consent", Some(json!({"mode": "deny"}))).await;
    assert_eq!(s, 200);
    let r = authorize(
        &sb,
        &[
            ("response_type", "code"),
            ("client_id", &cid),
            ("redirect_uri", REDIRECT),
            ("state", "s3"),
        ],
    )
    .await;
    let p = redirect_params(&r, REDIRECT);
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "s3");
    assert!(!p.contains_key("code"));
}

#[tokio::test]
async fn client_authentication_and_grant_type_errors() {
    let sb = start(SandboxConfig::demo()).await;
    let cid = client_id(&sb);
    let (status, body) = token_as(
        &sb,
        &cid,
        "wrong-secret",
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = token_as(
        &sb,
        "unknown-client",
        "whatever",
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");

    // No client credentials at all.
    let r = http()
        .post(format!("{}/oauth/token", sb.base_url()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let (status, body) = token(&sb, &[("grant_type", "password")]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"reason": "Unsupported grant type", "error": "unsupported_grant_type"})
    );
    let (status, body) = token(&sb, &[("code", "x")]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.token_failures["unknown"], 2);
    assert_eq!(stats.token_failures["refresh_token"], 3);
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_dies_at_once() {
    let sb = start(SandboxConfig::demo()).await;
    let (access1, refresh1, _) = connect(&sb).await;

    let (status, body) = refresh(&sb, &refresh1).await;
    assert_eq!(status, 200, "{body}");
    let access2 = body["access_token"].as_str().unwrap().to_string();
    let refresh2 = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(access2, access1);
    assert_ne!(refresh2, refresh1);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["api_url"], sb.base_url());

    // Reusing the rotated refresh token: Zoom's exact answer.
    let (status, body) = refresh(&sb, &refresh1).await;
    assert_eq!(status, 400);
    assert_eq!(body, invalid_token_body());

    // The new one works (once), and so do both access tokens until they expire.
    let (status, body) = refresh(&sb, &refresh2).await;
    assert_eq!(status, 200);
    let refresh3 = body["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(refresh(&sb, &refresh2).await, (400, invalid_token_body()));
    assert_eq!(api_get(&sb, &access1, "/users/me").await.status(), 200);
    assert_eq!(api_get(&sb, &access2, "/users/me").await.status(), 200);

    // A made-up refresh token.
    assert_eq!(
        refresh(&sb, "zsb_rt_made-up").await,
        (400, invalid_token_body())
    );

    let stats = sb.state.stats.snapshot();
    assert_eq!(stats.grants("refresh_token"), 2);
    assert_eq!(stats.token_failures["refresh_token"], 3);

    // A new authorization of the same app by the same account revokes the earlier grant.
    let (new_access, _, _) = connect(&sb).await;
    assert_eq!(refresh(&sb, &refresh3).await, (400, invalid_token_body()));
    assert_124(api_get(&sb, &access2, "/users/me").await).await;
    assert_eq!(api_get(&sb, &new_access, "/users/me").await.status(), 200);
}

#[tokio::test]
async fn account_credentials_gives_a_token_without_refresh_token() {
    let sb = start(SandboxConfig::demo()).await;
    let master = sb.state.tenant.master_account_id().to_string();
    let (status, body) = token(
        &sb,
        &[
            ("grant_type", "account_credentials"),
            ("account_id", &master),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3599);
    let access = body["access_token"].as_str().unwrap();
    let r = api_get(&sb, access, "/users/me").await;
    assert_eq!(r.status().as_u16(), 200);

    // Server-to-server tokens coexist.
    let (status, body2) = token(
        &sb,
        &[
            ("grant_type", "account_credentials"),
            ("account_id", &master),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(body2["access_token"], body["access_token"]);
    assert_eq!(api_get(&sb, access, "/users/me").await.status(), 200);

    let (status, body) = token(
        &sb,
        &[
            ("grant_type", "account_credentials"),
            ("account_id", "nope"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(sb.state.stats.snapshot().grants("account_credentials"), 2);
}

#[tokio::test]
async fn revoke_kills_the_grant() {
    let sb = start(SandboxConfig::demo()).await;
    let (access, refresh_token, _) = connect(&sb).await;
    let r = http()
        .post(format!("{}/oauth/revoke", sb.base_url()))
        .basic_auth(client_id(&sb), Some(client_secret(&sb)))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "success"})
    );
    assert_124(api_get(&sb, &access, "/users/me").await).await;
    assert_eq!(
        refresh(&sb, &refresh_token).await,
        (400, invalid_token_body())
    );
    assert_eq!(sb.state.stats.snapshot().revocations, 1);

    // Revoking needs the client's credentials.
    let r = http()
        .post(format!("{}/oauth/revoke", sb.base_url()))
        .basic_auth(client_id(&sb), Some("wrong"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn expired_missing_and_query_string_tokens_get_code_124() {
    let sb = start(SandboxConfig::demo().with_access_token_ttl(60)).await;
    let (access, refresh_token, body) = connect(&sb).await;
    assert_eq!(body["expires_in"], 60);
    assert_eq!(api_get(&sb, &access, "/users/me").await.status(), 200);

    // Token in the query string: refused even when valid, with or without the header.
    let url = format!("{}/users/me", sb.api_base_url());
    assert_124(
        http()
            .get(&url)
            .query(&[("access_token", access.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_124(
        http()
            .get(&url)
            .query(&[("access_token", access.as_str())])
            .bearer_auth(&access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    // Missing, unknown, wrong scheme.
    assert_124(http().get(&url).send().await.unwrap()).await;
    assert_124(api_get(&sb, "zsb_at_unknown", "/users/me").await).await;
    assert_124(
        http()
            .get(&url)
            .header("authorization", format!("Basic {access}"))
            .send()
            .await
            .unwrap(),
    )
    .await;

    advance(&sb, 61).await;
    assert_124(api_get(&sb, &access, "/users/me").await).await;
    // The refresh token still works and gives a fresh access token.
    let (status, body) = refresh(&sb, &refresh_token).await;
    assert_eq!(status, 200);
    let fresh = body["access_token"].as_str().unwrap();
    assert_eq!(api_get(&sb, fresh, "/users/me").await.status(), 200);
    assert_eq!(sb.state.stats.snapshot().status(401), 6);
}

#[tokio::test]
async fn endpoints_enforce_the_apps_configured_scopes() {
    let granted = ["user:read:admin"];
    let sb = start(SandboxConfig::demo().with_scopes(&granted)).await;
    let (access, _, body) = connect(&sb).await;
    assert_eq!(body["scope"], "user:read:admin");
    assert_eq!(api_get(&sb, &access, "/users/me").await.status(), 200);

    let r = api_get(&sb, &access, "/accounts").await;
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 4711);
    let message = body["message"].as_str().unwrap();
    let named = message
        .strip_prefix("Invalid access token, does not contain scopes:[")
        .and_then(|m| m.strip_suffix("]."))
        .unwrap_or_else(|| panic!("Zoom's 4711 message: {message}"));
    assert!(named.contains("account"), "{named}");
    assert!(!granted.contains(&named));
}

#[tokio::test]
async fn authorize_as_the_standalone_account() {
    let sb = start(SandboxConfig::demo()).await;
    let (s, body) = control(
        &sb,
        Method::PUT,
        "authorize-as",
        Some(json!({"account": "standalone"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(body["account_id"], sb.state.tenant.standalone_account_id());
    let (access, _, _) = connect(&sb).await;
    let me: Value = api_get(&sb, &access, "/users/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["account_id"], sb.state.tenant.standalone_account_id());
    assert_eq!(me["id"], sb.state.tenant.standalone_owner_user_id());
}

#[tokio::test]
async fn test_helper_issues_usable_tokens() {
    let sb = start(SandboxConfig::demo()).await;
    let t = sb.state.issue_token_for_tests(&["user:read:admin"]);
    assert_eq!(t.scope, "user:read:admin");
    assert_eq!(t.api_url, sb.base_url());
    assert_eq!(
        api_get(&sb, &t.access_token, "/users/me").await.status(),
        200
    );
    assert_eq!(
        api_get(&sb, &t.access_token, "/accounts").await.status(),
        400
    );
    let (status, _) = refresh(&sb, t.refresh_token.as_deref().unwrap()).await;
    assert_eq!(status, 200);
    // Debug output never shows tokens.
    assert!(!format!("{t:?}").contains(&t.access_token));
}
