//! Create an approval request.

use std::collections::BTreeSet;
use std::sync::Arc;

use domain::{
    ApprovalId, ApprovalRequest, CallbackUrl, ChatDestination, Description, Identity, Metadata,
    NewApproval, Policy, RemindAfter, RequiredApprovals, Title, Ttl, ValidationError,
};

use super::answer::{Answer, receipt};
use crate::ports::{
    ApprovalRepository, CallbackUrlGuard, CallbackUrlRefused, ChatPlatforms, Clock, IdGenerator,
    PlatformNotConnected, RepositoryError,
};

/// The raw input of a new request, as any inbound adapter received it. Validation happens
/// here, once, for every adapter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateApprovalInput {
    pub title: String,
    pub description: Option<String>,
    pub destination: String,
    pub metadata: Option<serde_json::Value>,
    pub callback_url: Option<String>,
    pub required_approvals: Option<i64>,
    pub allowed_approvers: Vec<String>,
    pub allow_self_approval: bool,
    pub expires_in_seconds: Option<i64>,
    /// Remind the approvers this often while the request waits; `None`: never.
    pub remind_after_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateApprovalError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The destination is on a chat platform this service is not connected to.
    #[error(transparent)]
    PlatformNotConnected(#[from] PlatformNotConnected),
    /// The callback URL is well formed but may not be called (its scheme, or where it
    /// resolves to).
    #[error(transparent)]
    CallbackUrlRefused(#[from] CallbackUrlRefused),
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct CreateApproval {
    approvals: Arc<dyn ApprovalRepository>,
    platforms: Arc<dyn ChatPlatforms>,
    callback_urls: Arc<dyn CallbackUrlGuard>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl CreateApproval {
    pub fn new(
        approvals: Arc<dyn ApprovalRepository>,
        platforms: Arc<dyn ChatPlatforms>,
        callback_urls: Arc<dyn CallbackUrlGuard>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            approvals,
            platforms,
            callback_urls,
            clock,
            ids,
        }
    }

    /// Validates the input, opens the request and stores it with its `Requested` event and,
    /// for an idempotent request, its `answer`.
    ///
    /// # Errors
    /// `Invalid` naming the first field that broke a rule, `PlatformNotConnected` for a
    /// destination on a platform without credentials, `CallbackUrlRefused` for a callback
    /// URL the service may not call (nothing is stored for any of them), or `Store`.
    #[tracing::instrument(skip_all, fields(requester = %requester))]
    pub async fn execute(
        &self,
        requester: Identity,
        input: CreateApprovalInput,
        answer: Option<Answer<'_, ApprovalRequest>>,
    ) -> Result<ApprovalRequest, CreateApprovalError> {
        let new = parse(requester, input)?;
        self.platforms.check(&new.destination)?;
        if let Some(url) = &new.callback_url {
            self.callback_urls.check(url).await?;
        }
        let mut approval = ApprovalRequest::open(
            ApprovalId::from_uuid(self.ids.new_id()),
            new,
            self.clock.now(),
        );
        let events = approval.take_events();
        self.approvals
            .save(&approval, &events, receipt(answer.as_ref(), &approval))
            .await
            .map_err(CreateApprovalError::Store)?;
        tracing::info!(approval_id = %approval.id(), "approval requested");
        Ok(approval)
    }
}

fn parse(requester: Identity, input: CreateApprovalInput) -> Result<NewApproval, ValidationError> {
    let allowed_approvers = input
        .allowed_approvers
        .iter()
        .map(|raw| {
            Identity::parse(raw).map_err(|e| ValidationError {
                field: "allowed_approvers",
                ..e
            })
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    let required = input
        .required_approvals
        .map(RequiredApprovals::new)
        .transpose()?
        .unwrap_or_default();
    Ok(NewApproval {
        title: Title::parse(&input.title)?,
        description: Description::parse(input.description.as_deref().unwrap_or_default())?,
        destination: ChatDestination::parse(&input.destination)?,
        metadata: input
            .metadata
            .map(Metadata::parse)
            .transpose()?
            .unwrap_or_default(),
        callback_url: input
            .callback_url
            .as_deref()
            .map(CallbackUrl::parse)
            .transpose()?,
        policy: Policy::new(
            required,
            allowed_approvers,
            input.allow_self_approval,
            &requester,
        )?
        .with_remind_after(
            input
                .remind_after_seconds
                .map(RemindAfter::from_seconds)
                .transpose()?,
        ),
        ttl: input
            .expires_in_seconds
            .map(Ttl::from_seconds)
            .transpose()?
            .unwrap_or_default(),
        requester,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use domain::{Status, Violation};
    use mockall::predicate::always;

    use super::*;
    use crate::ports::{
        MockApprovalRepository, MockCallbackUrlGuard, MockChatPlatforms, MockClock,
        MockIdGenerator, Receipt, StoredResponse,
    };
    use crate::use_cases::answer;

    fn input() -> CreateApprovalInput {
        CreateApprovalInput {
            title: "Deploy model v7 to prod?".into(),
            destination: "C0123456789".into(),
            ..Default::default()
        }
    }

    fn use_case(repo: MockApprovalRepository) -> CreateApproval {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().return_const(uuid::Uuid::nil());
        let mut platforms = MockChatPlatforms::new();
        platforms.expect_check().returning(|destination| {
            match destination.as_str().strip_prefix("discord:") {
                Some(_) => Err(PlatformNotConnected {
                    platform: "discord".into(),
                    destination: destination.as_str().into(),
                }),
                None => Ok(()),
            }
        });
        let mut callback_urls = MockCallbackUrlGuard::new();
        callback_urls.expect_check().returning(|url| {
            if url.as_str().contains("127.0.0.1") {
                Err(CallbackUrlRefused {
                    reason: "loopback".into(),
                })
            } else {
                Ok(())
            }
        });
        CreateApproval::new(
            Arc::new(repo),
            Arc::new(platforms),
            Arc::new(callback_urls),
            Arc::new(clock),
            Arc::new(ids),
        )
    }

    #[tokio::test]
    async fn a_refused_callback_url_is_refused_before_anything_is_stored() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_save().never();
        let input = CreateApprovalInput {
            callback_url: Some("http://127.0.0.1:8080/hook".into()),
            ..input()
        };
        let result = use_case(repo)
            .execute(Identity::parse("ci").unwrap(), input, None)
            .await;
        assert!(matches!(
            result,
            Err(CreateApprovalError::CallbackUrlRefused(_))
        ));
    }

    #[tokio::test]
    async fn a_destination_on_a_platform_not_connected_is_refused_and_nothing_stored() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_save().never();
        let input = CreateApprovalInput {
            destination: "discord:80351110224678912".into(),
            ..input()
        };
        let error = use_case(repo)
            .execute(Identity::parse("ci").unwrap(), input, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, CreateApprovalError::PlatformNotConnected(e) if e.platform == "discord"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn stores_the_request_with_exactly_its_requested_event() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_save()
            .withf(|approval, events, receipt| {
                approval.version() == 1
                    && approval.status() == Status::Pending
                    && events.len() == 1
                    && events[0].event_type() == "approval.requested"
                    && receipt.is_none()
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let created = use_case(repo)
            .execute(Identity::parse("ci").unwrap(), input(), None)
            .await
            .unwrap();
        assert_eq!(created.title().as_str(), "Deploy model v7 to prod?");
    }

    #[tokio::test]
    async fn an_idempotent_create_saves_its_answer_with_the_request() {
        let claim = answer::tests::claim();
        let respond = |approval: &ApprovalRequest| StoredResponse {
            status: 201,
            headers: vec![],
            body: approval.id().to_string().into_bytes(),
        };
        let mut repo = MockApprovalRepository::new();
        let expected = Receipt {
            claim: claim.clone(),
            response: respond(&ApprovalRequest::open(
                ApprovalId::from_uuid(uuid::Uuid::nil()),
                parse(Identity::parse("ci").unwrap(), input()).unwrap(),
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            )),
        };
        repo.expect_save()
            .withf(move |_, _, receipt| receipt.as_ref() == Some(&expected))
            .times(1)
            .returning(|_, _, _| Ok(()));

        use_case(repo)
            .execute(
                Identity::parse("ci").unwrap(),
                input(),
                Some(Answer::new(&claim, &respond)),
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn invalid_input_stores_nothing() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_save()
            .with(always(), always(), always())
            .never();
        let err = use_case(repo)
            .execute(
                Identity::parse("ci").unwrap(),
                CreateApprovalInput {
                    allowed_approvers: vec!["not valid".into()],
                    ..input()
                },
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            CreateApprovalError::Invalid(ValidationError {
                field: "allowed_approvers",
                violation: Violation::Format(_)
            })
        ));
    }

    #[tokio::test]
    async fn store_failure_is_reported() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_save()
            .returning(|_, _, _| Err(RepositoryError::Unavailable("down".into())));
        let err = use_case(repo)
            .execute(Identity::parse("ci").unwrap(), input(), None)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            CreateApprovalError::Store(RepositoryError::Unavailable("down".into()))
        );
    }
}
