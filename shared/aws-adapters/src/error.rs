//! [`StoreError`]s from AWS SDK errors: the operation and AWS's error code and message only,
//! never a token or secret value.

use ports::StoreError;

pub(crate) fn dynamo_error(op: &'static str, err: impl std::error::Error) -> StoreError {
    StoreError::Dynamo {
        op,
        message: aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string(),
    }
}

pub(crate) fn secrets_error(op: &'static str, err: impl std::error::Error) -> StoreError {
    StoreError::Secrets {
        op,
        message: aws_sdk_secretsmanager::error::DisplayErrorContext(err).to_string(),
    }
}
