//! Pagination shared by every listing: `page_size`, page tokens, Zoom's pagination fields and the
//! two body layouts listings answer with (see the module docs of [`super`] for the rules).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::common::{Params, invalid_field};
use crate::error::ApiError;
use crate::state::SandboxState;
use crate::tenant::ids;

/// `page_size`: default 30, capped at 300; not a number → 400 code 300.
fn page_size(q: &Params) -> Result<usize, ApiError> {
    match q
        .get("page_size")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => Ok(30),
        Some(s) => {
            let n: i64 = s.parse().map_err(|_| invalid_field("page_size"))?;
            Ok(if n < 1 { 30 } else { n.min(300) as usize })
        }
    }
}

/// A page token: opaque, bound to one listing (`fingerprint`), expiring after 15 minutes.
const PAGE_TOKEN_TTL_SECS: i64 = 15 * 60;
const TOKEN_TAG: u64 = 0x0054_4F4B; // "TOK"

fn fingerprint(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// 400 code 300: a page token that is malformed, bound to another listing, or expired.
pub(super) fn token_expired() -> ApiError {
    ApiError::invalid_parameter("The next page token is invalid or expired.")
}

fn token_check(state: &SandboxState, key: &str, cursor: u64, issued: i64) -> u64 {
    ids::hash(
        state.tenant.seed(),
        &[TOKEN_TAG, fingerprint(key), cursor, issued as u64],
    )
}

fn encode_token(state: &SandboxState, key: &str, cursor: u64) -> String {
    let issued = state.clock.now().timestamp();
    let check = token_check(state, key, cursor, issued);
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&cursor.to_be_bytes());
    bytes[8..16].copy_from_slice(&issued.to_be_bytes());
    bytes[16..].copy_from_slice(&check.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cursor of `next_page_token` (0 when absent or empty), or 400 code 300.
fn decode_token(state: &SandboxState, key: &str, q: &Params) -> Result<u64, ApiError> {
    let Some(token) = q.get("next_page_token").filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| token_expired())?;
    if bytes.len() != 24 {
        return Err(token_expired());
    }
    let cursor = u64::from_be_bytes(bytes[..8].try_into().map_err(|_| token_expired())?);
    let issued = i64::from_be_bytes(bytes[8..16].try_into().map_err(|_| token_expired())?);
    let check = u64::from_be_bytes(bytes[16..].try_into().map_err(|_| token_expired())?);
    if check != token_check(state, key, cursor, issued)
        || state.clock.now().timestamp() - issued > PAGE_TOKEN_TTL_SECS
    {
        return Err(token_expired());
    }
    Ok(cursor)
}

/// Zoom's pagination fields.
#[derive(serde::Serialize)]
pub(super) struct PageInfo {
    page_count: u64,
    page_size: usize,
    total_records: u64,
    next_page_token: String,
}

impl PageInfo {
    /// The fields as a JSON object, for bodies that add fields of their own (serialised as a
    /// [`Value`], with their keys in alphabetical order).
    pub(super) fn into_value(self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// A listing with the pagination fields first, then `items` under `name`, in that order.
    pub(super) fn listing<T: Serialize>(self, name: &'static str, items: T) -> Listing<T> {
        Listing {
            info: self,
            name,
            items,
        }
    }
}

/// See [`PageInfo::listing`].
pub(super) struct Listing<T> {
    info: PageInfo,
    name: &'static str,
    items: T,
}

impl<T: Serialize> Serialize for Listing<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("page_count", &self.info.page_count)?;
        m.serialize_entry("page_size", &self.info.page_size)?;
        m.serialize_entry("total_records", &self.info.total_records)?;
        m.serialize_entry("next_page_token", &self.info.next_page_token)?;
        m.serialize_entry(self.name, &self.items)?;
        m.end()
    }
}

/// One request for a page of a listing: its `page_size`, and the cursor of its
/// `next_page_token`, which must have been issued for the same listing (`key`).
pub(super) struct Page {
    key: String,
    pub(super) size: usize,
    pub(super) cursor: u64,
}

impl Page {
    /// `page_size` first, then `next_page_token` (400 code 300 for either).
    pub(super) fn parse(state: &SandboxState, q: &Params, key: String) -> Result<Self, ApiError> {
        let size = page_size(q)?;
        let cursor = decode_token(state, &key, q)?;
        Ok(Self { key, size, cursor })
    }

    /// The cursor of a listing paged by position: how many items earlier pages held.
    pub(super) fn offset(&self) -> usize {
        self.cursor as usize
    }

    /// This page's items of a listing paged by position.
    pub(super) fn of<'a, T>(&self, all: &'a [T]) -> impl Iterator<Item = &'a T> {
        all.iter().skip(self.offset()).take(self.size)
    }

    /// The pagination fields of a listing paged by position that holds `total` items.
    pub(super) fn info(&self, state: &SandboxState, total: u64) -> PageInfo {
        let end = self.offset() + self.size;
        self.info_next(state, total, (end < total as usize).then_some(end as u64))
    }

    /// The pagination fields when the listing names its next cursor itself (`None`: last page).
    pub(super) fn info_next(
        &self,
        state: &SandboxState,
        total: u64,
        next: Option<u64>,
    ) -> PageInfo {
        PageInfo {
            page_count: total.div_ceil(self.size.max(1) as u64),
            page_size: self.size,
            total_records: total,
            next_page_token: self.token(state, next),
        }
    }

    /// The `next_page_token` leading to `next` ("" on the last page).
    pub(super) fn token(&self, state: &SandboxState, next: Option<u64>) -> String {
        next.map(|c| encode_token(state, &self.key, c))
            .unwrap_or_default()
    }
}
