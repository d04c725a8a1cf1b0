//! The answers: small HTML pages for the admin's browser, JSON for `Accept: application/json`.
//! Everything interpolated into HTML is escaped.

use http::{HeaderMap, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use crate::error::Failure;

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsView {
    pub include_free_users: &'static str,
    pub include_on_premises: &'static str,
    pub inactivity_threshold_days: u32,
}

impl From<&aws_adapters::ConnectionSettings> for SettingsView {
    fn from(s: &aws_adapters::ConnectionSettings) -> Self {
        let yn = |b: bool| if b { "yes" } else { "no" };
        Self {
            include_free_users: yn(s.include_free_users),
            include_on_premises: yn(s.include_on_premises),
            inactivity_threshold_days: s.inactivity_threshold_days,
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
                     </dl>\n<p>The scheduled tasks will include this account from their next run. \
                     You can close this page.</p>",
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
            settings: SettingsView::from(&aws_adapters::ConnectionSettings::default()),
        };
        let r = connected(Format::Html, &c);
        let Body::Text(text) = r.body() else {
            panic!("text body")
        };
        assert!(text.contains("&lt;b&gt;Acme &amp; Co&lt;/b&gt;"));
        assert!(!text.contains("<b>Acme"));
    }
}
