//! [`Notifier`] on Amazon SES (v2 `SendEmail`): one message per notice, from the configured
//! sender identity (`ZTS_NOTIFY_FROM`, verified in SES), plain text and HTML. Errors carry
//! SES's code and message, never the message body.

use async_trait::async_trait;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use ports::{MessageId, Notice, Notifier, NotifyError};
use tracing::info;

/// Sends notices through SES from one sender address.
#[derive(Clone, Debug)]
pub struct SesNotifier {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesNotifier {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }

    /// The sender address.
    pub fn from_address(&self) -> &str {
        &self.from
    }
}

fn content(data: &str) -> Result<Content, NotifyError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| NotifyError::Rejected(e.to_string()))
}

#[async_trait]
impl Notifier for SesNotifier {
    #[tracing::instrument(skip_all)]
    async fn send(&self, notice: &Notice) -> Result<MessageId, NotifyError> {
        let message = Message::builder()
            .subject(content(&notice.subject)?)
            .body(
                Body::builder()
                    .text(content(&notice.text)?)
                    .html(content(&notice.html)?)
                    .build(),
            )
            .build();
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&notice.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| {
                let detail = aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string();
                match e.as_service_error() {
                    Some(
                        SendEmailError::TooManyRequestsException(_)
                        | SendEmailError::LimitExceededException(_)
                        | SendEmailError::SendingPausedException(_),
                    ) => NotifyError::Unavailable(detail),
                    Some(_) => NotifyError::Rejected(detail),
                    // Not answered (network, timeout, an unreadable answer): may work later.
                    None => NotifyError::Unavailable(detail),
                }
            })?;
        let id = sent.message_id().unwrap_or_default().to_owned();
        info!(message_id = %id, "notice sent");
        Ok(MessageId(id))
    }
}
