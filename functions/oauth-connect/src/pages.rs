//! The answers: small HTML pages for the admin's browser, JSON for `Accept: application/json`.
//! Everything interpolated into HTML is escaped.

use http::{HeaderMap, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use crate::error::Failure;
use crate::scopes::MissingScope;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

impl Format {
    /// JSON when the `Accept` header asks for `application/json` (and not for HTML first).
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let accept = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",")
            .to_ascii_lowercase();
        let json = accept.find("application/json");
        let html = accept.find("text/html");
        match (json, html) {
            (Some(j), Some(h)) if h < j => Self::Html,
            (Some(_), _) => Self::Json,
            _ => Self::Html,
        }
    }
}

/// What was connected (the success answer of the callback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connected {
    pub connection_id: String,
    pub zoom_account_id: String,
    pub account_name: String,
    pub sub_accounts: u64,
    /// `true` when an existing connection of this Zoom account was updated.
    pub reconnected: bool,
    pub settings: SettingsView,
    /// Optional scopes the app lacks: fields that will not be collected (also kept on the
    /// connection record as notes). Empty when the app has every scope.
    pub missing_scopes: Vec<NotCollected>,
}

/// Fields that will not be collected for lack of an optional scope, and the scope to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCollected {
    /// In plain words (the note's `not_collected`).
    pub not_collected: &'static str,
    /// The task(s) that leave them out.
    pub tasks: &'static str,
    /// Classic scopes, any one of which brings them.
    pub classic: Vec<&'static str>,
    /// Granular scopes the app lacks, all of which bring them.
    pub granular: Vec<&'static str>,
    /// Both in one line (the note's `scope`).
    pub scope: String,
}

impl From<&MissingScope> for NotCollected {
    fn from(m: &MissingScope) -> Self {
        Self {
            not_collected: m.fields(),
            tasks: m.requirement.tasks,
            classic: m.classic().to_vec(),
            granular: m.granular_missing.clone(),
            scope: m.to_string(),
        }
    }
}

/// `<code>a</code> or <code>b</code>` (`joiner` between the names).
fn code_list(names: &[&str], joiner: &str) -> String {
    names
        .iter()
        .map(|n| format!("<code>{}</code>", escape_html(n)))
        .collect::<Vec<_>>()
        .join(joiner)
}

/// The success page's section on fields that will not be collected ("" when none).
fn not_collected_html(missing: &[NotCollected]) -> String {
    if missing.is_empty() {
        return String::new();
    }
    let items: String = missing
        .iter()
        .map(|m| {
            format!(
                "<li><strong>{what}</strong> ({tasks}). To collect them, add {classic} (apps \
                 with classic scopes) or {granular} (apps with granular scopes).</li>",
                what = escape_html(m.not_collected),
                tasks = escape_html(m.tasks),
                classic = code_list(&m.classic, " or "),
                granular = code_list(&m.granular, " and "),
            )
        })
        .collect();
    let mut classic: Vec<String> = Vec::new();
    let mut granular: Vec<&str> = Vec::new();
    for m in missing {
        let c = code_list(&m.classic, " or ");
        if !classic.contains(&c) {
            classic.push(c);
        }
        for g in &m.granular {
            if !granular.contains(g) {
                granular.push(g);
            }
        }
    }
    let activity = missing
        .iter()
        .any(|m| m.tasks == crate::scopes::APPLICATION_ACCESS);
    format!(
        "\n<h2>Some fields will not be collected</h2>\n<p>The connection works, but the Zoom app \
         lacks scopes for the fields below: the scheduled tasks leave them empty until you add \
         the scopes to the app in the Zoom App Marketplace (your app &gt; Scopes) and connect \
         again.</p>\n<ul id=\"not-collected\">{items}</ul>\n<p id=\"scopes-to-add\">To collect \
         everything, add to an app with classic scopes: {classic}; to an app with granular \
         scopes: {granular}.</p>{paused}",
        classic = classic.join(", "),
        granular = code_list(&granular, ", "),
        paused = if activity {
            "\n<p id=\"reclamation-paused\">While Meeting Created or Meeting Joined dates are \
             not collected, the activity data is partial and reclamation will not deactivate \
             or downgrade anyone.</p>"
        } else {
            ""
        },
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsView {
    pub include_free_users: &'static str,
    pub include_on_premises: &'static str,
    pub inactivity_threshold_days: u32,
}

impl From<&ports::ConnectionSettings> for SettingsView {
    fn from(s: &ports::ConnectionSettings) -> Self {
        let yn = |v: sync_domain::YesNo| if v.is_yes() { "yes" } else { "no" };
        Self {
            include_free_users: yn(s.include_free_users),
            include_on_premises: yn(s.include_on_premises),
            inactivity_threshold_days: u32::from(s.inactivity_threshold.days()),
        }
    }
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;\
         padding:0 1rem;line-height:1.5}}dt{{font-weight:600}}code{{font-size:.95em}}</style>\
         </head><body>\n{body}\n</body></html>\n",
        title = escape_html(title),
    )
}

fn response(status: StatusCode, format: Format, body: String) -> Response<Body> {
    let content_type = match format {
        Format::Html => "text/html; charset=utf-8",
        Format::Json => "application/json",
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::X_FRAME_OPTIONS, "DENY")
        .header(header::REFERRER_POLICY, "no-referrer")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        )
        .body(Body::Text(body))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

pub fn connected(format: Format, c: &Connected) -> Response<Body> {
    let body = match format {
        Format::Json => json!({ "status": "connected", "connection": c }).to_string(),
        Format::Html => {
            let e = escape_html;
            let name = if c.account_name.is_empty() {
                c.zoom_account_id.as_str()
            } else {
                c.account_name.as_str()
            };
            page(
                "Zoom account connected",
                &format!(
                    "<h1>Zoom account connected</h1>\n<p id=\"summary\">{verb} <strong>{name}</strong> \
                     with {subs} sub account{plural}.</p>\n<dl>\
                     <dt>Zoom account id</dt><dd id=\"account-id\">{id}</dd>\
                     <dt>Sub accounts</dt><dd id=\"sub-accounts\">{subs}</dd>\
                     <dt>Include Free Users</dt><dd id=\"include-free-users\">{free}</dd>\
                     <dt>Include On Premises</dt><dd id=\"include-on-premises\">{onprem}</dd>\
                     <dt>Inactivity threshold</dt><dd id=\"inactivity-threshold\">{days} days</dd>\
                     <dt>Connection id</dt><dd id=\"connection-id\"><code>{cid}</code></dd>\
                     </dl>{not_collected}\n<p>The scheduled tasks will include this account \
                     from their next run. You can close this page.</p>",
                    verb = if c.reconnected {
                        "Reconnected"
                    } else {
                        "Connected"
                    },
                    name = e(name),
                    subs = c.sub_accounts,
                    plural = if c.sub_accounts == 1 { "" } else { "s" },
                    id = e(&c.zoom_account_id),
                    free = c.settings.include_free_users,
                    onprem = c.settings.include_on_premises,
                    days = c.settings.inactivity_threshold_days,
                    cid = e(&c.connection_id),
                    not_collected = not_collected_html(&c.missing_scopes),
                ),
            )
        }
    };
    response(StatusCode::OK, format, body)
}

pub fn failure(format: Format, f: &Failure, request_id: &str) -> Response<Body> {
    let body = match format {
        Format::Json => json!({
            "error": f.code,
            "message": f.message,
            "request_id": request_id,
        })
        .to_string(),
        Format::Html => page(
            f.title,
            &format!(
                "<h1>{title}</h1>\n<p id=\"message\">{message}</p>\n\
                 <p id=\"request-id\">Request id: <code>{rid}</code></p>",
                title = escape_html(f.title),
                message = escape_html(&f.message),
                rid = escape_html(request_id),
            ),
        ),
    };
    response(f.status, format, body)
}

/// A JSON answer to Zoom (webhooks).
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    response(status, Format::Json, value.to_string())
}

/// `302 Found` to `location`.
pub fn redirect(location: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(Body::Empty)
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;"
        );
    }

    #[test]
    fn negotiates_json_only_when_asked() {
        let mut h = HeaderMap::new();
        assert_eq!(Format::negotiate(&h), Format::Html);
        h.insert(header::ACCEPT, "application/json".parse().unwrap());
        assert_eq!(Format::negotiate(&h), Format::Json);
        h.insert(
            header::ACCEPT,
            "text/html,application/xhtml+xml,application/json;q=0.9"
                .parse()
                .unwrap(),
        );
        assert_eq!(Format::negotiate(&h), Format::Html);
    }

    #[test]
    fn connected_page_escapes_the_account_name() {
        let c = Connected {
            connection_id: "c1".into(),
            zoom_account_id: "A1".into(),
            account_name: "<b>Acme & Co</b>".into(),
            sub_accounts: 2,
            reconnected: false,
            settings: SettingsView::from(&ports::ConnectionSettings::default()),
            missing_scopes: Vec::new(),
        };
        let r = connected(Format::Html, &c);
        let Body::Text(text) = r.body() else {
            panic!("text body")
        };
        assert!(text.contains("&lt;b&gt;Acme &amp; Co&lt;/b&gt;"));
        assert!(!text.contains("<b>Acme"));
        assert!(!text.contains("not be collected"));
    }

    #[test]
    fn connected_page_names_fields_not_collected_and_the_scopes_to_add() {
        let settings = ports::ConnectionSettings::default();
        let check = crate::scopes::check(
            "account:master user:master report:master meeting:master user:write:admin",
            &settings,
        );
        let c = Connected {
            connection_id: "c1".into(),
            zoom_account_id: "A1".into(),
            account_name: "Acme".into(),
            sub_accounts: 2,
            reconnected: false,
            settings: SettingsView::from(&settings),
            missing_scopes: check.optional.iter().map(NotCollected::from).collect(),
        };
        let r = connected(Format::Html, &c);
        let Body::Text(text) = r.body() else {
            panic!("text body")
        };
        assert!(text.contains("Some fields will not be collected"), "{text}");
        assert!(text.contains(
            "<li><strong>Meeting Joined dates (past meeting participants)</strong> \
             (Application Access). To collect them, add <code>meeting:read:admin</code> (apps \
             with classic scopes) or <code>meeting:read:list_past_participants:admin</code> \
             (apps with granular scopes).</li>"
        ));
        assert!(text.contains(
            "add to an app with classic scopes: <code>meeting:read:admin</code>, \
             <code>report:read:admin</code>, <code>account:read:admin</code> or \
             <code>billing:master</code>;"
        ));
        assert!(text.contains(
            "<code>report:read:list_users:admin</code> and <code>report:read:user:admin</code>"
        ));
        assert!(text.contains("reclamation will not deactivate"));
        let r = connected(Format::Json, &c);
        let Body::Text(text) = r.body() else {
            panic!("text body")
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let m = &v["connection"]["missing_scopes"];
        assert_eq!(m.as_array().unwrap().len(), 5);
        assert_eq!(m[0]["classic"][0], "meeting:read:admin");
        assert_eq!(
            m[0]["granular"][0],
            "meeting:read:list_past_participants:admin"
        );
    }
}
