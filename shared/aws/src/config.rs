//! Configuration from the environment, and the AWS clients built once from it.

use aws_config::{BehaviorVersion, Region};

/// Default table name (infra names the real one per stack and passes it in `ZTS_TABLE_NAME`).
pub const DEFAULT_TABLE_NAME: &str = "zoom-tiered-sync";
pub const DEFAULT_TOKEN_SECRET_PREFIX: &str = "zoom-tiered-sync/tokens/";
pub const DEFAULT_APP_SECRET_ID: &str = "zoom-tiered-sync/app";

/// Names and endpoints only, never secret values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsConfig {
    /// `ZTS_AWS_ENDPOINT_URL`: send every AWS call there (moto); unset in AWS.
    pub endpoint_url: Option<String>,
    /// `ZTS_AWS_REGION`, else the SDK's chain (`AWS_REGION`, profile, Lambda environment).
    pub region: Option<String>,
    /// `ZTS_TABLE_NAME`.
    pub table_name: String,
    /// `ZTS_TOKEN_SECRET_PREFIX`: one secret per connection, named prefix + connection id.
    pub token_secret_prefix: String,
    /// `ZTS_APP_SECRET_ID`: OAuth app credentials per region and the webhook secret token.
    pub app_secret_id: String,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            endpoint_url: None,
            region: None,
            table_name: DEFAULT_TABLE_NAME.into(),
            token_secret_prefix: DEFAULT_TOKEN_SECRET_PREFIX.into(),
            app_secret_id: DEFAULT_APP_SECRET_ID.into(),
        }
    }
}

impl AwsConfig {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Self::from_env`], reading variables through `var` (for tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let defaults = Self::default();
        Self {
            endpoint_url: get("ZTS_AWS_ENDPOINT_URL"),
            region: get("ZTS_AWS_REGION"),
            table_name: get("ZTS_TABLE_NAME").unwrap_or(defaults.table_name),
            token_secret_prefix: get("ZTS_TOKEN_SECRET_PREFIX")
                .unwrap_or(defaults.token_secret_prefix),
            app_secret_id: get("ZTS_APP_SECRET_ID").unwrap_or(defaults.app_secret_id),
        }
    }

    /// The SDK configuration: default credential and region chains, with the endpoint and
    /// region overrides applied.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        loader.load().await
    }
}

/// AWS clients, built once per process (cold start) and shared.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl AwsClients {
    pub async fn new(config: &AwsConfig) -> Self {
        let sdk = config.sdk_config().await;
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            secrets: aws_sdk_secretsmanager::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_from_the_environment_with_defaults() {
        let cfg = AwsConfig::from_lookup(|name| match name {
            "ZTS_AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000".into()),
            "ZTS_TABLE_NAME" => Some("records".into()),
            "ZTS_AWS_REGION" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(cfg.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(cfg.table_name, "records");
        assert_eq!(cfg.region, None, "blank means unset");
        assert_eq!(cfg.token_secret_prefix, DEFAULT_TOKEN_SECRET_PREFIX);
        assert_eq!(cfg.app_secret_id, DEFAULT_APP_SECRET_ID);
        assert_eq!(AwsConfig::from_lookup(|_| None), AwsConfig::default());
    }
}
