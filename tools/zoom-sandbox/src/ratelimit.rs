//! Zoom's rate limits: per account (the master's budget by default) and category.

/// Zoom's rate-limit categories; every endpoint is labelled with one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Category {
    Light,
    Medium,
    Heavy,
    #[serde(rename = "Resource-intensive")]
    ResourceIntensive,
}

impl Category {
    /// The name Zoom uses in `X-RateLimit-Category`.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Light => "Light",
            Self::Medium => "Medium",
            Self::Heavy => "Heavy",
            Self::ResourceIntensive => "Resource-intensive",
        }
    }
}
