//! Cheap deterministic hashing (splitmix64) and the reversible, Zoom-looking identifiers of the
//! synthetic tenant: user ids, meeting numbers, meeting instance UUIDs.
//!
//! Every identifier encodes the position it was generated from (account index, user index,
//! meeting index) together with a keyed check value, so the sandbox can find any user or meeting
//! from its id without holding a table of them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The splitmix64 finalizer: a fast, well-mixed 64-bit hash step.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash a seed and a few parts into one well-mixed value.
pub fn hash(seed: u64, parts: &[u64]) -> u64 {
    parts.iter().fold(mix(seed), |acc, p| {
        mix(acc ^ mix(*p ^ 0xA5A5_5A5A_0F0F_F0F0))
    })
}

/// A uniform value in `[0, 1)` from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A value in `0..n` from a hash (`n > 0`).
pub fn below(h: u64, n: u64) -> u64 {
    ((h as u128 * n as u128) >> 64) as u64
}

/// Salts of the tenant's hashes: one per kind of thing derived (accounts, users, meetings,
/// participants, simulated days).
pub(super) const SALT_ACCOUNT: u64 = 1;
pub(super) const SALT_USER: u64 = 2;
pub(super) const SALT_MEETING: u64 = 3;
pub(super) const SALT_PART: u64 = 4;
pub(super) const SALT_SIM: u64 = 5;

const TAG_USER: u64 = 0x5553_4552; // "USER"
const TAG_ACCOUNT: u64 = 0x4143_4354; // "ACCT"
const TAG_MEETING: u64 = 0x4D45_4554; // "MEET"
const TAG_UUID: u64 = 0x5555_4944; // "UUID"

/// A 22-character Zoom-style id (base64url of 16 bytes) for a user.
pub fn user_id(seed: u64, account: u32, user: u32) -> String {
    packed_id(seed, TAG_USER, ((account as u64) << 32) | user as u64)
}

/// The (account index, user index) a user id was generated from, if it is one of ours.
pub fn parse_user_id(seed: u64, id: &str) -> Option<(u32, u32)> {
    let v = parse_packed_id(seed, TAG_USER, id)?;
    Some(((v >> 32) as u32, v as u32))
}

/// A 22-character Zoom-style account id.
pub fn account_id(seed: u64, account: u32) -> String {
    packed_id(seed, TAG_ACCOUNT, account as u64)
}

fn packed_id(seed: u64, tag: u64, value: u64) -> String {
    let check = hash(seed, &[tag, value]);
    let masked = value ^ hash(seed, &[tag, check]);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&masked.to_be_bytes());
    bytes[8..].copy_from_slice(&check.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn parse_packed_id(seed: u64, tag: u64, id: &str) -> Option<u64> {
    if id.len() != 22 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    if bytes.len() != 16 {
        return None;
    }
    let masked = u64::from_be_bytes(bytes[..8].try_into().ok()?);
    let check = u64::from_be_bytes(bytes[8..].try_into().ok()?);
    let value = masked ^ hash(seed, &[tag, check]);
    (hash(seed, &[tag, value]) == check).then_some(value)
}

/// Bits of a meeting key: account (14) | user (22) | meeting index within the user (10).
const ACCOUNT_BITS: u32 = 14;
const USER_BITS: u32 = 22;
const MEETING_BITS: u32 = 10;
const KEY_BITS: u32 = ACCOUNT_BITS + USER_BITS + MEETING_BITS;
const KEY_MASK: u64 = (1u64 << KEY_BITS) - 1;
/// Meeting numbers start at ten digits, as Zoom's do.
const MEETING_NUMBER_BASE: u64 = 10_000_000_000;

/// The largest account index / user index / per-user meeting index a tenant may use.
pub const MAX_ACCOUNTS: u32 = 1 << ACCOUNT_BITS;
pub const MAX_USERS_PER_ACCOUNT: u32 = 1 << USER_BITS;
pub const MAX_MEETINGS_PER_USER: u32 = 1 << MEETING_BITS;

fn meeting_key(account: u32, user: u32, meeting: u32) -> u64 {
    ((account as u64) << (USER_BITS + MEETING_BITS))
        | ((user as u64) << MEETING_BITS)
        | meeting as u64
}

fn unpack_meeting_key(key: u64) -> (u32, u32, u32) {
    (
        (key >> (USER_BITS + MEETING_BITS)) as u32 & ((1 << ACCOUNT_BITS) - 1),
        (key >> MEETING_BITS) as u32 & ((1 << USER_BITS) - 1),
        key as u32 & ((1 << MEETING_BITS) - 1),
    )
}

/// The meeting number (Zoom's int64 `id`, 11 to 14 digits) of a user's meeting.
pub fn meeting_number(seed: u64, account: u32, user: u32, meeting: u32) -> i64 {
    let mask = hash(seed, &[TAG_MEETING]) & ((1u64 << KEY_BITS) - 1);
    (MEETING_NUMBER_BASE + (meeting_key(account, user, meeting) ^ mask)) as i64
}

/// The (account, user, meeting index) a meeting number was generated from (ranges unchecked).
pub fn parse_meeting_number(seed: u64, number: i64) -> Option<(u32, u32, u32)> {
    let n = u64::try_from(number)
        .ok()?
        .checked_sub(MEETING_NUMBER_BASE)?;
    if n >> KEY_BITS != 0 {
        return None;
    }
    let mask = hash(seed, &[TAG_MEETING]) & ((1u64 << KEY_BITS) - 1);
    Some(unpack_meeting_key(n ^ mask))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// How a meeting UUID's first four characters look; Zoom UUIDs that start with `/` or contain
/// `//` must be double-encoded in paths, so the tenant makes a share of them on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UuidStyle {
    Plain,
    LeadingSlash,
    DoubleSlash,
}

/// Bits of the occurrence (instance) number of a recurring meeting inside an instance UUID.
const OCCURRENCE_BITS: u32 = 3;
/// The largest number of occurrences (instances) a meeting may have.
pub const MAX_OCCURRENCES: u32 = 1 << OCCURRENCE_BITS;
const INSTANCE_KEY_BITS: u32 = KEY_BITS + OCCURRENCE_BITS;
const INSTANCE_KEY_MASK: u64 = (1u64 << INSTANCE_KEY_BITS) - 1;

/// A 24-character meeting-instance UUID (standard base64 of 16 bytes, `==`-padded, may hold
/// `+` and `/`), e.g. `"/kUzE3Bi9TgeT1JuuW0J8A=="`. Every instance (occurrence) of a meeting
/// has its own UUID: `occurrence` is 0 for single-instance meetings.
pub fn meeting_uuid(
    seed: u64,
    account: u32,
    user: u32,
    meeting: u32,
    occurrence: u32,
    style: UuidStyle,
) -> String {
    let key = meeting_key(account, user, meeting)
        | (((occurrence as u64) & (MAX_OCCURRENCES as u64 - 1)) << KEY_BITS);
    let check = hash(seed, &[TAG_UUID, key]);
    let h = hash(seed, &[TAG_UUID, key, 1]);
    // The first 4 characters (3 bytes' worth) are free-form; the last 20 are base64 of 13 bytes.
    let mut prefix = [0u8; 4];
    for (i, c) in prefix.iter_mut().enumerate() {
        // No '/' in the plain part (letters, digits, '+').
        *c = B64[below(mix(h ^ i as u64), 63) as usize];
    }
    match style {
        UuidStyle::Plain => {}
        UuidStyle::LeadingSlash => prefix[0] = b'/',
        UuidStyle::DoubleSlash => {
            prefix[1] = b'/';
            prefix[2] = b'/';
        }
    }
    let mut payload = [0u8; 13];
    payload[..8].copy_from_slice(&(key ^ (check & !INSTANCE_KEY_MASK)).to_be_bytes());
    payload[8..].copy_from_slice(&check.to_be_bytes()[3..]);
    let mut out = String::with_capacity(24);
    out.push_str(std::str::from_utf8(&prefix).unwrap_or("AAAA"));
    out.push_str(&STANDARD.encode(payload));
    out
}

/// The (account, user, meeting index, occurrence) a meeting UUID was generated from (the caller
/// checks the whole UUID against a regenerated one, which also checks the prefix).
pub fn parse_meeting_uuid(seed: u64, uuid: &str) -> Option<(u32, u32, u32, u32)> {
    if uuid.len() != 24 || !uuid.is_ascii() {
        return None;
    }
    let payload = STANDARD.decode(&uuid[4..]).ok()?;
    if payload.len() != 13 {
        return None;
    }
    let mut tail = [0u8; 8];
    tail[3..].copy_from_slice(&payload[8..]);
    let check_low = u64::from_be_bytes(tail);
    let masked = u64::from_be_bytes(payload[..8].try_into().ok()?);
    // The bits above the 49-bit instance key carry the high bits of `check`; recover the key
    // from the low bits and check the whole hash.
    let key = masked & INSTANCE_KEY_MASK;
    let check = hash(seed, &[TAG_UUID, key]);
    if check & 0xFF_FFFF_FFFF != check_low || key ^ (check & !INSTANCE_KEY_MASK) != masked {
        return None;
    }
    let (a, u, j) = unpack_meeting_key(key & KEY_MASK);
    Some((a, u, j, (key >> KEY_BITS) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for (a, u) in [(0, 0), (3, 17), (16_000, 4_000_000)] {
            let id = user_id(7, a, u);
            assert_eq!(id.len(), 22);
            assert_eq!(parse_user_id(7, &id), Some((a, u)));
            assert_eq!(parse_user_id(8, &id), None);
        }
        assert_eq!(parse_user_id(7, "KDcuGIm1QgePTO8WbOqwIQ"), None);
        let n = meeting_number(7, 5, 123_456, 9);
        assert!(n >= 10_000_000_000);
        assert_eq!(parse_meeting_number(7, n), Some((5, 123_456, 9)));
        for style in [
            UuidStyle::Plain,
            UuidStyle::LeadingSlash,
            UuidStyle::DoubleSlash,
        ] {
            for occ in [0, 1, 5, MAX_OCCURRENCES - 1] {
                let uuid = meeting_uuid(7, 5, 123_456, 9, occ, style);
                assert_eq!(uuid.len(), 24);
                assert!(uuid.ends_with("=="));
                assert_eq!(parse_meeting_uuid(7, &uuid), Some((5, 123_456, 9, occ)));
                assert_eq!(parse_meeting_uuid(8, &uuid), None);
            }
        }
        assert_ne!(
            meeting_uuid(7, 1, 1, 1, 0, UuidStyle::Plain),
            meeting_uuid(7, 1, 1, 1, 1, UuidStyle::Plain)
        );
        assert!(meeting_uuid(7, 1, 1, 1, 0, UuidStyle::LeadingSlash).starts_with('/'));
        assert!(meeting_uuid(7, 1, 1, 1, 0, UuidStyle::DoubleSlash).contains("//"));
    }
}
