//! Reading configuration from the environment (or any lookup, in tests).

use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

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
}
