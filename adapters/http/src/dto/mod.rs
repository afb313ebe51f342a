//! What the API's JSON shapes share: the rules of domain fields as OpenAPI schemas
//! (`rules.rs`) and the probes' body. Each aggregate's shapes, and their explicit mapping to
//! and from the domain, live beside its routes (`routes/<aggregate>/dto.rs`), under the
//! conventions below.
//!
//! The wire format belongs to this adapter, not to the domain: renaming a domain field or
//! variant must not silently change the API, so nothing here serializes a domain type
//! directly. Every mapping is written out, and the enum mappings are exhaustive `match`es the
//! compiler checks when the domain grows a variant.
//!
//! Request bodies and query strings deny unknown fields: a typo such as
//! `"requried_approvals": 2` must be an error, not a request silently opened with the default
//! of one approval. For the same reason a body may not repeat a key: serde's derived structs
//! refuse a repeated field, and the free-form `metadata` object is read by
//! [`strict_json`](crate::strict_json), which refuses repeats at any depth.
//!
//! The `ToSchema`/`IntoParams` derives put these shapes in the OpenAPI document; field doc
//! comments become the field descriptions there. A field that carries a domain rule gets its
//! schema from `rules.rs` instead, which writes the rule's bounds and character classes (and
//! the description stating them) from the domain's own constants.

pub(crate) mod rules;

use serde::Serialize;
use utoipa::ToSchema;

/// Body of `GET /healthz` and a successful `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Health)]
pub(crate) struct HealthResponse {
    pub(crate) status: &'static str,
}
