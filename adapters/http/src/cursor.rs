//! The opaque pagination cursor of `GET /v1/approvals`.
//!
//! A cursor is the base64url encoding (no padding) of the 16 bytes of the last id on the
//! page. It is opaque on purpose: clients pass it back and never build one, so the keyset
//! behind it can change (say, to creation time plus id) without breaking anybody.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::ApprovalId;
use uuid::Uuid;

use crate::problem::{Problem, ProblemType};

/// The text was not a cursor this API handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidCursor;

pub(crate) fn encode(last: ApprovalId) -> String {
    URL_SAFE_NO_PAD.encode(last.as_uuid().as_bytes())
}

/// # Errors
/// `InvalidCursor` unless `cursor` is exactly what [`encode`] produces for some id. The
/// engine refuses padding and non-zero trailing bits, so every id has one cursor only.
pub(crate) fn decode(cursor: &str) -> Result<ApprovalId, InvalidCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
    let bytes: [u8; 16] = bytes.try_into().map_err(|_| InvalidCursor)?;
    Ok(ApprovalId::from_uuid(Uuid::from_bytes(bytes)))
}

impl From<InvalidCursor> for Problem {
    fn from(_: InvalidCursor) -> Self {
        Problem::new(
            ProblemType::INVALID_CURSOR,
            "cursor must be a `next_cursor` value returned by this endpoint",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_an_id() {
        let id = ApprovalId::from_uuid(Uuid::from_u128(0x0192_7c1e_8e5f_7a4b_9c3d_2e1f_0a9b_8c7d));
        let cursor = encode(id);
        assert_eq!(cursor.len(), 22);
        assert_eq!(decode(&cursor), Ok(id));
    }

    #[test]
    fn refuses_anything_it_did_not_produce() {
        let valid = encode(ApprovalId::from_uuid(Uuid::from_u128(1)));
        let too_short = URL_SAFE_NO_PAD.encode([1u8; 15]);
        let padded = format!("{valid}==");
        for garbage in ["", "!!!", "not a cursor", &too_short, &padded] {
            assert_eq!(decode(garbage), Err(InvalidCursor), "{garbage:?}");
        }
    }
}
