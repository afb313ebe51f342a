//! Where an event is published: `<prefix>.<aggregate>.<event>`, e.g.
//! `<service>.events.approval.approved`, so a consumer subscribes to exactly the events it
//! reacts to (`<service>.events.approval.approved`, `<service>.events.approval.>`).

/// The subject of an event whose stable name is `event_type` (`approval.approved`: the
/// aggregate, a dot, the event). `None` when the name would not make a literal subject
/// (empty tokens, whitespace, wildcards), which the domain's names never do.
pub(crate) fn for_event(prefix: &str, event_type: &str) -> Option<String> {
    is_literal(event_type).then(|| format!("{prefix}.{event_type}"))
}

/// A prefix is a literal subject too: the stream's filter is the prefix plus `.>`.
pub(crate) fn is_valid_prefix(prefix: &str) -> bool {
    is_literal(prefix)
}

/// Whether a stream subject `pattern` (`<service>.>`, `*.events.>`) captures every subject
/// `filter` (`<service>.events.>`) captures.
pub(crate) fn covers(pattern: &str, filter: &str) -> bool {
    let mut pattern = pattern.split('.');
    let mut filter = filter.split('.');
    loop {
        match (pattern.next(), filter.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(token)) if token != ">" => {}
            (Some(wanted), Some(token)) if wanted == token => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Dot-separated, non-empty tokens of printable characters that are not wildcards.
fn is_literal(subject: &str) -> bool {
    subject.split('.').all(|token| {
        !token.is_empty()
            && token
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && c != '*' && c != '>')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_lands_under_the_prefix_by_aggregate_and_name() {
        assert_eq!(
            for_event("svc.events", "approval.approved").as_deref(),
            Some("svc.events.approval.approved")
        );
        assert_eq!(
            for_event("acme", "invoice.paid").as_deref(),
            Some("acme.invoice.paid")
        );
    }

    #[test]
    fn a_stream_subject_covers_the_events_when_it_matches_all_of_them() {
        for pattern in ["svc.events.>", "svc.>", ">", "*.events.>"] {
            assert!(covers(pattern, "svc.events.>"), "{pattern}");
        }
        for pattern in [
            "svc.events.*",
            "svc.events",
            "other.>",
            "svc.events.approval.>",
        ] {
            assert!(!covers(pattern, "svc.events.>"), "{pattern}");
        }
    }

    #[test]
    fn names_that_are_not_literal_subjects_have_no_subject() {
        for bad in [
            "",
            "approval.",
            ".approved",
            "approval.*",
            "approval.>",
            "a b",
            "a\tb",
        ] {
            assert_eq!(for_event("svc.events", bad), None, "{bad:?}");
        }
    }
}
