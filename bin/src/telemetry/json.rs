//! JSON log lines with the fields of every enclosing span lifted to the top level.
//!
//! tracing-subscriber's own JSON format nests span fields (`"span": {…}`, `"spans": […]`),
//! and with only the current span a line logged inside a use case carries the use case's
//! span but not the request's, so a log aggregator could not group it by `request_id`. Here
//! every line is one flat object: `timestamp`, `level`, `target`, then the fields of each
//! enclosing span from the outermost in (`method`, `route`, `request_id`, `client`, then the
//! use case's), then the event's own fields and its `message`. A name used twice keeps the
//! innermost value.

use std::error::Error;
use std::fmt;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The event format of the JSON logs. Pair it with [`JsonFields`], which keeps each span's
/// fields as a JSON object this format can merge.
pub(super) struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Utc::now()
                .to_rfc3339_opts(SecondsFormat::Micros, true)
                .into(),
        );
        line.insert("level".into(), metadata.level().as_str().into());
        line.insert("target".into(), metadata.target().into());
        for span in context
            .event_scope()
            .into_iter()
            .flat_map(|scope| scope.from_root())
        {
            let extensions = span.extensions();
            // A span without fields has no object to merge; nothing else fails to parse.
            if let Some(fields) = extensions.get::<FormattedFields<JsonFields>>()
                && let Ok(Value::Object(fields)) = serde_json::from_str(fields)
            {
                line.extend(fields);
            }
        }
        event.record(&mut EventFields(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields into its line.
struct EventFields<'a>(&'a mut Map<String, Value>);

impl EventFields<'_> {
    fn insert(&mut self, field: &Field, value: impl Into<Value>) {
        self.0.insert(field.name().to_owned(), value.into());
    }
}

impl Visit for EventFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, value);
    }

    /// Not finite (NaN, infinity) becomes `null`, which JSON can carry.
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.insert(field, value.to_string());
    }

    /// The message, and fields logged with `%` (Display) or `?` (Debug).
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Every line written, in memory.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn logged(scenario: impl FnOnce()) -> Vec<Value> {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(JsonFields::new())
                .event_format(FlatJson)
                .with_writer({
                    let lines = lines.clone();
                    move || lines.clone()
                }),
        );
        tracing::subscriber::with_default(subscriber, scenario);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn a_line_deep_inside_a_request_carries_the_fields_of_the_request() {
        let lines = logged(|| {
            let request = tracing::info_span!(
                "http_request",
                request_id = "r-42",
                client = tracing::field::Empty
            );
            let _request = request.enter();
            // Authentication fills in the client after the span was created.
            request.record("client", "ci");
            let use_case = tracing::info_span!("execute", requester = %"ci", approval_id = 7);
            let _use_case = use_case.enter();
            tracing::info!(status = "approved", count = 2, "decision recorded");
        });

        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["message"], "decision recorded");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["request_id"], "r-42");
        assert_eq!(line["client"], "ci");
        assert_eq!(line["requester"], "ci");
        assert_eq!(line["approval_id"], 7);
        assert_eq!(line["status"], "approved");
        assert_eq!(line["count"], 2);
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn the_innermost_value_wins_and_lines_outside_requests_have_no_request_id() {
        let lines = logged(|| {
            let outer = tracing::info_span!("outer", scope = "outer");
            let _outer = outer.enter();
            let inner = tracing::info_span!("inner", scope = "inner");
            inner.in_scope(|| tracing::warn!(ratio = f64::NAN, "inside"));
            drop(_outer);
            tracing::error!(
                error = &io::Error::other("disk full") as &dyn Error,
                "outside"
            );
        });

        assert_eq!(lines[0]["scope"], "inner");
        assert_eq!(lines[0]["ratio"], Value::Null);
        assert_eq!(lines[1]["message"], "outside");
        assert_eq!(lines[1]["error"], "disk full");
        assert!(lines[1].get("request_id").is_none());
        assert!(lines[1].get("scope").is_none());
    }
}
