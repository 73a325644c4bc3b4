//! Prometheus metrics: request counts and latency per route, rendered in the text
//! exposition format (version 0.0.4) together with gauges read from the database.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

/// A gauge family: `(name, help, label name, [(label value, reading)])`.
pub type Gauge<'a> = (&'a str, &'a str, &'a str, Vec<(String, i64)>);

/// Request metrics shared by all workers.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one request to `route` (the matched pattern, e.g. `/gpus/{id}`).
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *inner.requests.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        let h = inner.latency.entry((method.to_owned(), route.to_owned())).or_default();
        h.count += 1;
        h.sum_seconds += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
    }

    /// Renders the request metrics followed by `gauges`.
    pub fn render(&self, gauges: &[Gauge<'_>]) -> String {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        out.push_str(
            "# HELP bitfox_http_requests_total HTTP requests served, by route and status.\n",
        );
        out.push_str("# TYPE bitfox_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "bitfox_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str(
            "# HELP bitfox_http_request_duration_seconds HTTP request latency, by route.\n",
        );
        out.push_str("# TYPE bitfox_http_request_duration_seconds histogram\n");
        for ((method, route), h) in &inner.latency {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "bitfox_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "bitfox_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "bitfox_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum_seconds
            );
            let _ =
                writeln!(out, "bitfox_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
        drop(inner);
        for (name, help, label, values) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            for (value, n) in values {
                let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {n}", escape(value));
            }
        }
        out
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.observe("GET", "/gpus", 200, Duration::from_millis(3));
        m.observe("GET", "/gpus", 200, Duration::from_millis(30));
        let text = m.render(&[(
            "bitfox_gpus",
            "GPUs by status.",
            "status",
            vec![("available".into(), 4)],
        )]);
        assert!(
            text.contains(
                "bitfox_http_requests_total{method=\"GET\",route=\"/gpus\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("le=\"0.05\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2"), "{text}");
        assert!(text.contains("bitfox_gpus{status=\"available\"} 4"), "{text}");
    }
}
