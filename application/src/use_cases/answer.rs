//! How an inbound adapter hands a use case the answer to an idempotent request.

use crate::ports::{KeyClaim, Receipt, StoredResponse};

/// The claim an idempotent request holds, and how the inbound adapter turns the use case's
/// result into the response that request sends.
///
/// A use case that changes state renders the response from its result *before* saving and
/// passes it to `save` as a [`Receipt`], so the change and the answer its retries replay are
/// one transaction: a crash right after the commit cannot leave a change whose retry would
/// run it a second time. The use case never looks inside the response; what an answer is
/// (status, headers, bytes) stays the inbound adapter's business.
///
/// An outcome that changes nothing (a repeated verdict) saves nothing, so it has no receipt;
/// the adapter stores that answer itself afterwards, which is safe because there is no
/// change to keep it with.
pub struct Answer<'a, T> {
    claim: &'a KeyClaim,
    respond: &'a (dyn Fn(&T) -> StoredResponse + Send + Sync),
}

impl<'a, T> Answer<'a, T> {
    pub fn new(
        claim: &'a KeyClaim,
        respond: &'a (dyn Fn(&T) -> StoredResponse + Send + Sync),
    ) -> Self {
        Self { claim, respond }
    }

    /// The receipt to save with the change whose result is `result`.
    pub(crate) fn receipt(&self, result: &T) -> Receipt {
        Receipt {
            claim: self.claim.clone(),
            response: (self.respond)(result),
        }
    }
}

/// The receipt for `result`, when there is an answer to give.
pub(crate) fn receipt<T>(answer: Option<&Answer<'_, T>>, result: &T) -> Option<Receipt> {
    answer.map(|answer| answer.receipt(result))
}

#[cfg(test)]
pub(crate) mod tests {
    use domain::Identity;
    use uuid::Uuid;

    use super::*;
    use crate::ports::IdempotencyKey;

    /// A claim on `k-1` by `ci`, for use case tests that pass an answer.
    pub(crate) fn claim() -> KeyClaim {
        KeyClaim {
            scope: Identity::parse("ci").unwrap(),
            key: IdempotencyKey::parse("k-1").unwrap(),
            token: Uuid::nil(),
        }
    }

    /// The body of a saved receipt, as text ("" without one).
    pub(crate) fn answered(receipt: &Option<Receipt>) -> String {
        receipt
            .as_ref()
            .map(|r| String::from_utf8_lossy(&r.response.body).into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn a_receipt_carries_the_claim_and_the_response_rendered_from_the_result() {
        let claim = claim();
        let respond = |count: &u32| StoredResponse {
            status: 200,
            headers: vec![],
            body: count.to_string().into_bytes(),
        };
        let answer = Answer::new(&claim, &respond);

        let saved = receipt(Some(&answer), &7).unwrap();

        assert_eq!(saved.claim, claim);
        assert_eq!(saved.response.body, b"7");
        assert_eq!(receipt::<u32>(None, &7), None);
    }
}
