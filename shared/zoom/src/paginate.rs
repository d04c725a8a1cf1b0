//! Listings as streams over `next_page_token` pages.
//!
//! - An empty or absent `next_page_token` ends the listing.
//! - A token the listing has already seen is an error ([`ZoomError::RepeatedPageToken`]), never
//!   a loop.
//! - An expired token (code 300, tokens live 15 minutes, e.g. behind a slow consumer) restarts the
//!   listing from page 1; items already yielded (by id, or email for pending users) are skipped,
//!   so the stream never yields duplicates; a consumer that drops repeats itself can ask for
//!   them instead ([`Paged::repeats_allowed`]), and then the listing keeps no per-item state.

use std::collections::{HashSet, VecDeque};
use std::marker::PhantomData;

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};

use crate::client::{ApiRequest, ZoomClient};
use crate::error::ZoomError;

/// How many times one listing may start over after expired page tokens.
const MAX_RESTARTS: u32 = 5;

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Page<T> {
    #[serde(default, deserialize_with = "token")]
    next_page_token: Option<String>,
    #[serde(
        default = "Vec::new",
        alias = "users",
        alias = "accounts",
        alias = "meetings",
        alias = "participants",
        deserialize_with = "null_vec"
    )]
    items: Vec<T>,
}

/// A page token's 64-bit hash (a collision between two tokens of one listing is out of
/// reach).
fn token_hash(token: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    token.hash(&mut hasher);
    hasher.finish()
}

fn token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|t| !t.is_empty()))
}

fn null_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A listing not yet started. Adjust it, then call [`Paged::stream`] (or
/// [`Paged::collect_all`]).
#[must_use = "a listing does nothing until streamed"]
pub struct Paged<T> {
    client: ZoomClient,
    request: ApiRequest,
    page_size: u32,
    key: fn(&T) -> String,
    distinct: bool,
    _items: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Paged<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paged")
            .field("endpoint", &self.request.endpoint.template)
            .field("page_size", &self.page_size)
            .finish()
    }
}

struct State<T> {
    client: ZoomClient,
    request: ApiRequest,
    page_size: u32,
    key: fn(&T) -> String,
    distinct: bool,
    buf: VecDeque<T>,
    next_token: Option<String>,
    /// Hashes of the page tokens of this pass: a token seen again is a loop. Hashes, not the
    /// tokens: a listing of 200,000 users has hundreds of pages.
    tokens_seen: HashSet<u64>,
    yielded: HashSet<String>,
    restarts: u32,
    pending_error: Option<ZoomError>,
    done: bool,
}

impl<T> Paged<T>
where
    T: DeserializeOwned + Send + 'static,
{
    pub(crate) fn new(client: ZoomClient, request: ApiRequest, key: fn(&T) -> String) -> Self {
        let page_size = client.page_size();
        Self {
            client,
            request,
            page_size,
            key,
            distinct: true,
            _items: PhantomData,
        }
    }

    /// After an expired page token the listing starts over and yields again what it yielded
    /// before, instead of remembering every item's key (memory flat in the listing's size).
    /// For consumers that keep one item per key themselves.
    pub fn repeats_allowed(mut self) -> Self {
        self.distinct = false;
        self
    }

    /// Items per page (default: the client's, 300). Zoom may cap it; its answer is trusted.
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Add a query parameter, identical on every page.
    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.request.query.push((name, value.into()));
        self
    }

    /// Every item, page by page (the next page is fetched when the buffer runs empty).
    pub fn stream(self) -> BoxStream<'static, Result<T, ZoomError>> {
        let state = State {
            client: self.client,
            request: self.request,
            page_size: self.page_size,
            key: self.key,
            distinct: self.distinct,
            buf: VecDeque::new(),
            next_token: None,
            tokens_seen: HashSet::new(),
            yielded: HashSet::new(),
            restarts: 0,
            pending_error: None,
            done: false,
        };
        futures::stream::unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.buf.pop_front() {
                    return Some((Ok(item), st));
                }
                if let Some(e) = st.pending_error.take() {
                    st.done = true;
                    return Some((Err(e), st));
                }
                if st.done {
                    return None;
                }
                let mut req = st.request.clone();
                req.query.push(("page_size", st.page_size.to_string()));
                if let Some(t) = &st.next_token {
                    req.query.push(("next_page_token", t.clone()));
                }
                match st.client.json::<Page<T>>(req).await {
                    Ok(page) => {
                        for item in page.items {
                            if !st.distinct || st.yielded.insert((st.key)(&item)) {
                                st.buf.push_back(item);
                            }
                        }
                        match page.next_page_token {
                            None => st.done = true,
                            Some(t) => {
                                if st.tokens_seen.insert(token_hash(&t)) {
                                    st.next_token = Some(t);
                                } else {
                                    st.pending_error = Some(ZoomError::RepeatedPageToken {
                                        endpoint: st.request.endpoint.template,
                                    });
                                }
                            }
                        }
                    }
                    Err(e) if st.next_token.is_some() && e.is_expired_page_token() => {
                        st.restarts += 1;
                        if st.restarts > MAX_RESTARTS {
                            st.done = true;
                            let e = ZoomError::TooManyRestarts {
                                endpoint: st.request.endpoint.template,
                                restarts: st.restarts - 1,
                            };
                            return Some((Err(e), st));
                        }
                        tracing::info!(
                            endpoint = st.request.endpoint.template,
                            restarts = st.restarts,
                            already_yielded = st.yielded.len(),
                            "page token expired; restarting the listing from page 1"
                        );
                        st.client.note_page_restart();
                        st.next_token = None;
                        st.tokens_seen.clear();
                    }
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                }
            }
        })
        .boxed()
    }

    /// Every item in a `Vec` (stops at the first error).
    pub async fn collect_all(self) -> Result<Vec<T>, ZoomError> {
        self.stream().try_collect().await
    }
}
