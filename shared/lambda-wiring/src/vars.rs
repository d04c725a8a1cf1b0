//! Reading configuration from the environment (or any lookup, in tests).

use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// The file store's bucket and how long its download links live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesConfig {
    pub bucket: String,
    pub link_ttl: std::time::Duration,
}

/// Environment variables through a lookup: blank values count as unset.
pub struct Vars<F>(F);

impl Vars<fn(&str) -> Option<String>> {
    pub fn from_env() -> Self {
        Self(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub fn from_lookup(var: F) -> Self {
        Self(var)
    }

    /// The variable, trimmed; `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str, what: &str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| ConfigError(format!("{name} ({what}) is not set")))
    }

    /// The variable parsed, or `default` when unset; a value that does not parse is an error
    /// that names the variable.
    pub fn parsed<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| ConfigError(format!("{name} {v:?}: {e}"))),
        }
    }

    /// A whole number in `range`, or `default` when unset.
    pub fn number_in(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
        default: i64,
    ) -> Result<i64, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "{name} must be a whole number from {} to {}, not {v:?}",
                        range.start(),
                        range.end()
                    ))
                }),
        }
    }

    /// Where reports and exports go: `ZTS_FILES_BUCKET` (required) and
    /// `ZTS_FILES_LINK_TTL_SECS`, how long a download link lives (60 s to 12 h, default 15 min).
    pub fn files(&self) -> Result<FilesConfig, ConfigError> {
        let max = i64::try_from(aws_adapters::files::MAX_LINK_TTL.as_secs()).unwrap_or(i64::MAX);
        let secs = self.number_in("ZTS_FILES_LINK_TTL_SECS", 60..=max, 900)?;
        Ok(FilesConfig {
            bucket: self.required(
                "ZTS_FILES_BUCKET",
                "the bucket reports and exports are written to",
            )?,
            link_ttl: std::time::Duration::from_secs(secs.unsigned_abs()),
        })
    }

    /// The AWS adapters' variables.
    pub fn aws(&self) -> aws_adapters::AwsConfig {
        aws_adapters::AwsConfig::from_lookup(|name| self.get(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(
        pairs: &'static [(&'static str, &'static str)],
    ) -> Vars<impl Fn(&str) -> Option<String>> {
        Vars::from_lookup(move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn blank_is_unset_and_bad_values_name_the_variable() {
        let v = vars(&[("A", "  "), ("B", " 7 "), ("C", "x")]);
        assert_eq!(v.get("A"), None);
        assert_eq!(v.parsed("B", 1u32), Ok(7));
        assert_eq!(v.parsed("A", 1u32), Ok(1));
        assert!(v.parsed::<u32>("C", 1).unwrap_err().0.contains("C \"x\""));
        assert_eq!(v.number_in("B", 1..=10, 3), Ok(7));
        assert!(
            v.number_in("B", 1..=5, 3)
                .unwrap_err()
                .0
                .contains("from 1 to 5")
        );
        assert!(
            v.required("A", "the thing")
                .unwrap_err()
                .0
                .contains("A (the thing)")
        );
    }

    #[test]
    fn files_need_a_bucket_and_a_link_lifetime_within_12_hours() {
        let f = vars(&[("ZTS_FILES_BUCKET", "b")]).files().unwrap();
        assert_eq!((f.bucket.as_str(), f.link_ttl.as_secs()), ("b", 900));
        let f = vars(&[
            ("ZTS_FILES_BUCKET", "b"),
            ("ZTS_FILES_LINK_TTL_SECS", "43200"),
        ])
        .files()
        .unwrap();
        assert_eq!(f.link_ttl.as_secs(), 43200);
        for ttl in ["59", "43201", "x"] {
            let pairs: &'static [(&str, &str)] = Box::leak(Box::new([
                ("ZTS_FILES_BUCKET", "b"),
                ("ZTS_FILES_LINK_TTL_SECS", ttl),
            ]));
            let e = vars(pairs).files().unwrap_err();
            assert!(e.0.contains("ZTS_FILES_LINK_TTL_SECS"), "{ttl}: {e}");
        }
        let e = vars(&[]).files().unwrap_err();
        assert!(e.0.contains("ZTS_FILES_BUCKET"), "{e}");
    }
}
