//! Sending e-mail (Django's e-mail backends): the [`EmailSender`] seam the password-reset view
//! sends through, [`ConsoleEmailSender`] (Django's console backend, the default),
//! [`MemoryEmailSender`] (Django's `locmem` backend, for tests) and, with the `smtp` feature,
//! [`SmtpEmailSender`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// A future an [`EmailSender`] returns.
pub type EmailFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send + 'a>>;

/// A plain-text e-mail (Django's `EmailMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmailMessage {
    /// The subject, on one line.
    pub subject: String,
    /// The body (plain text).
    pub body: String,
    /// The sender's address (`DEFAULT_FROM_EMAIL`).
    pub from_email: String,
    /// The recipients' addresses.
    pub to: Vec<String>,
}

impl EmailMessage {
    /// A message from `from_email` to `to`. Line breaks in `subject` are removed, as Django does
    /// for the password-reset subject (a header cannot hold them).
    pub fn new(
        subject: impl Into<String>,
        body: impl Into<String>,
        from_email: impl Into<String>,
        to: Vec<String>,
    ) -> Self {
        let subject: String = subject.into();
        Self {
            subject: subject.lines().collect(),
            body: body.into(),
            from_email: from_email.into(),
            to,
        }
    }
}

/// Where e-mails go (Django's `EMAIL_BACKEND`), set with
/// [`AuthConfig::with_email_sender`](crate::AuthConfig::with_email_sender).
///
/// An error is logged by the caller and not shown to the visitor: the password-reset form
/// answers the same whether an e-mail went out or not.
///
/// ```
/// use castellan_axum::{EmailFuture, EmailMessage, EmailSender};
///
/// /// Hands messages to the application's own mail queue.
/// struct Queue(tokio::sync::mpsc::UnboundedSender<EmailMessage>);
///
/// impl EmailSender for Queue {
///     fn send<'a>(&'a self, message: &'a EmailMessage) -> EmailFuture<'a> {
///         Box::pin(async move { Ok(self.0.send(message.clone())?) })
///     }
/// }
/// ```
pub trait EmailSender: Send + Sync + 'static {
    /// Sends `message`.
    fn send<'a>(&'a self, message: &'a EmailMessage) -> EmailFuture<'a>;
}

/// Django's console e-mail backend (the default): each message is logged with `tracing` (at
/// `info`, without its body, which holds the reset link) and written whole to stderr; nothing is
/// sent. For development: a production application configures a real sender.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsoleEmailSender;

impl EmailSender for ConsoleEmailSender {
    fn send<'a>(&'a self, message: &'a EmailMessage) -> EmailFuture<'a> {
        Box::pin(async move {
            tracing::info!(
                to = ?message.to,
                subject = %message.subject,
                "e-mail written to stderr (console sender; configure AuthConfig::with_email_sender to send)"
            );
            eprintln!(
                "Subject: {}\nFrom: {}\nTo: {}\n\n{}\n{}",
                message.subject,
                message.from_email,
                message.to.join(", "),
                message.body,
                "-".repeat(79)
            );
            Ok(())
        })
    }
}

/// Django's `locmem` e-mail backend: messages are kept in memory (cloning shares them), for tests
/// and for applications that deliver them themselves.
#[derive(Debug, Clone, Default)]
pub struct MemoryEmailSender {
    outbox: Arc<Mutex<Vec<EmailMessage>>>,
}

impl MemoryEmailSender {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages sent so far (Django's `mail.outbox`), oldest first.
    pub fn outbox(&self) -> Vec<EmailMessage> {
        self.lock().clone()
    }

    /// Takes the messages sent so far, leaving the outbox empty.
    pub fn take(&self) -> Vec<EmailMessage> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<EmailMessage>> {
        self.outbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl EmailSender for MemoryEmailSender {
    fn send<'a>(&'a self, message: &'a EmailMessage) -> EmailFuture<'a> {
        self.lock().push(message.clone());
        Box::pin(async { Ok(()) })
    }
}

#[cfg(feature = "smtp")]
pub use smtp::SmtpEmailSender;

#[cfg(feature = "smtp")]
mod smtp {
    use lettre::message::{header::ContentType, Mailbox};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    use super::{EmailFuture, EmailMessage, EmailSender};

    /// Django's SMTP e-mail backend (feature `smtp`), on [`lettre`] with rustls: a pool of
    /// connections to one mail server.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use castellan_axum::{AuthConfig, SmtpEmailSender};
    ///
    /// // Implicit TLS on port 465, with a login (EMAIL_HOST, EMAIL_USE_SSL, EMAIL_HOST_USER…).
    /// let smtp = SmtpEmailSender::relay("smtp.example.org")?.with_credentials("app", "secret");
    /// let config = AuthConfig::new("…").with_email_sender(smtp).with_from_email("noreply@example.org");
    /// # let _ = config; Ok(()) }
    /// ```
    #[derive(Clone)]
    pub struct SmtpEmailSender {
        builder: lettre::transport::smtp::AsyncSmtpTransportBuilder,
        transport: AsyncSmtpTransport<Tokio1Executor>,
    }

    impl std::fmt::Debug for SmtpEmailSender {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("SmtpEmailSender").finish_non_exhaustive()
        }
    }

    impl SmtpEmailSender {
        fn from_builder(builder: lettre::transport::smtp::AsyncSmtpTransportBuilder) -> Self {
            Self {
                transport: builder.clone().build(),
                builder,
            }
        }

        /// A server reached with implicit TLS (port 465; Django's `EMAIL_USE_SSL`). An invalid
        /// host name is an error.
        pub fn relay(host: &str) -> Result<Self, lettre::transport::smtp::Error> {
            Ok(Self::from_builder(
                AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            ))
        }

        /// A server reached in plain text upgraded with STARTTLS, which is required (port 587;
        /// Django's `EMAIL_USE_TLS`).
        pub fn starttls_relay(host: &str) -> Result<Self, lettre::transport::smtp::Error> {
            Ok(Self::from_builder(
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            ))
        }

        /// A server reached without encryption (port 25 unless [`Self::with_port`]): for a relay
        /// on the same host or a test server only.
        pub fn unencrypted(host: &str) -> Self {
            Self::from_builder(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                host,
            ))
        }

        /// Another port (Django's `EMAIL_PORT`).
        pub fn with_port(self, port: u16) -> Self {
            Self::from_builder(self.builder.port(port))
        }

        /// Logs in with a user name and password (`EMAIL_HOST_USER`, `EMAIL_HOST_PASSWORD`).
        pub fn with_credentials(
            self,
            user: impl Into<String>,
            password: impl Into<String>,
        ) -> Self {
            Self::from_builder(
                self.builder
                    .credentials(Credentials::new(user.into(), password.into())),
            )
        }

        /// Gives up on a server that does not answer within `timeout` (`EMAIL_TIMEOUT`).
        pub fn with_timeout(self, timeout: std::time::Duration) -> Self {
            Self::from_builder(self.builder.timeout(Some(timeout)))
        }
    }

    impl EmailSender for SmtpEmailSender {
        fn send<'a>(&'a self, message: &'a EmailMessage) -> EmailFuture<'a> {
            Box::pin(async move {
                let from: Mailbox = message.from_email.parse().map_err(|e| {
                    format!(
                        "the sender address {:?} is invalid: {e}",
                        message.from_email
                    )
                })?;
                let mut builder = Message::builder()
                    .from(from)
                    .subject(message.subject.clone())
                    .header(ContentType::TEXT_PLAIN);
                for to in &message.to {
                    let to: Mailbox = to
                        .parse()
                        .map_err(|e| format!("the recipient address {to:?} is invalid: {e}"))?;
                    builder = builder.to(to);
                }
                let email = builder.body(message.body.clone())?;
                self.transport.send(email).await?;
                Ok(())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn memory_sender_keeps_messages_and_subjects_lose_line_breaks() {
        let sender = MemoryEmailSender::new();
        let m = EmailMessage::new("Reset\non site\r\n", "body", "a@b.c", vec!["x@y.z".into()]);
        assert_eq!(m.subject, "Reseton site");
        sender.send(&m).await.unwrap();
        ConsoleEmailSender.send(&m).await.unwrap();
        assert_eq!(sender.outbox(), vec![m.clone()]);
        assert_eq!(sender.take(), vec![m]);
        assert!(sender.outbox().is_empty());
    }
}
