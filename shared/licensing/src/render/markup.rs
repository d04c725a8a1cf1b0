//! What makes the page safe to open: HTML/SVG escaping, and the page's one style sheet with
//! the Content-Security-Policy that lets only it apply.

use sha2::{Digest, Sha256};

/// Escapes text for HTML and SVG (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem;color:#1d2330;background:#fff}\
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}\
.meta{color:#566;margin:0 0 1rem}.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}\
.card{border:1px solid #d8dde6;border-radius:8px;padding:.75rem 1rem;min-width:10rem}\
.card b{display:block;font-size:1.4rem}.card span{color:#566;font-size:.85rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}\
th,td{border-bottom:1px solid #e3e7ee;padding:.3rem .6rem;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f4f6fa}\
tr.total td{font-weight:600;border-top:2px solid #c9d0db}\
.charts{display:flex;flex-wrap:wrap;gap:2rem}.chart{display:block}\
figure{margin:0}figcaption{font-weight:600;margin-bottom:.25rem}\
.note{color:#8a5a00;font-size:.8rem}.muted{color:#778}\
td.differs{color:#b3261e;font-weight:600}\
svg text{font-family:inherit;font-size:12px;fill:#1d2330}\
.legend rect{stroke:none}";

/// The page's Content-Security-Policy: nothing may load or run; only the page's own style
/// block (by its hash) applies.
pub fn content_security_policy() -> String {
    let digest = Sha256::digest(STYLE.as_bytes());
    format!(
        "default-src 'none'; style-src 'sha256-{}'; img-src 'none'; font-src 'none'; \
         connect-src 'none'; script-src 'none'; object-src 'none'; media-src 'none'; \
         frame-src 'none'; base-uri 'none'; form-action 'none'",
        base64_std(&digest)
    )
}

fn base64_std(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
