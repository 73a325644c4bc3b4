//! What the OpenAPI document says beyond what the handlers' annotations derive: the rules
//! the server checks, as schemas a generated client (or a fuzzer) can follow, and what
//! holds for many operations at once.
//!
//! * Constrained values ([`AlgorandAddress`], [`DisplayName`], [`RegionName`], cursors,
//!   closed sets of names) are schema components here, so the pattern or the list lives
//!   next to the code that checks it, once. Where a rule cannot be a regular expression
//!   (an address's checksum), the schema says so in words and names a `format`
//!   (`algorand-address`) that tools can be taught.
//! * [`finish`] adds to every operation the answers its extractors can give (the caller's
//!   API key: 401; a JSON body: 400, 413, 415, 422; a query: 400, 422; an
//!   `Idempotency-Key`: 409, 422), and the links between operations: which field of an
//!   answer is the id that another operation takes.
//!
//! A request for a known path with a method it does not have is answered 405 with an
//! `Allow` header ([`MethodTable`]); OpenAPI has no place for that per operation.

use std::borrow::Cow;
use std::collections::BTreeMap;

use actix_web::http::Method;
use bitfox_domain::{ClusterStatus, GpuStatus, JobKind, JobState, RentalStatus};
use utoipa::openapi::link::Link;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, Required};
use utoipa::{PartialSchema, ToSchema};

use crate::error::{PROBLEM_JSON, Problem};

/// An Algorand address: 58 upper-case base32 characters. The last one carries two
/// padding bits, which must be zero; the checksum (the last 4 of the 36 bytes) is not a
/// regular language, so the schema names it in words and as the `algorand-address` format.
pub const ADDRESS_PATTERN: &str = "^[A-Z2-7]{57}[AEIMQUY4]$";

/// Whitespace as Rust's `str::trim` removes it (Unicode `White_Space`).
const SPACE: &str =
    r"\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// A character that is neither whitespace nor a control character (Unicode `Cc`).
const VISIBLE: &str =
    r"[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
/// A character that is not a control character.
const NOT_CONTROL: &str = r"[^\u0000-\u001F\u007F-\u009F]";

/// A display name (a GPU model, a cluster name) as the server checks it: after trimming
/// whitespace, 1 to 100 characters and no control characters.
pub fn display_name_pattern() -> String {
    format!("^[{SPACE}]*{VISIBLE}(?:{NOT_CONTROL}{{0,98}}{VISIBLE})?[{SPACE}]*$")
}

/// A region label as the server checks it: after trimming whitespace, 1 to 64 letters,
/// digits, `-`, `_` or spaces.
pub fn region_pattern() -> String {
    format!("^[{SPACE}]*[A-Za-z0-9_-](?:[A-Za-z0-9 _-]{{0,62}}[A-Za-z0-9_-])?[{SPACE}]*$")
}

/// Standard base64 with padding, canonical (unused trailing bits zero), as the server
/// decodes signed transactions.
pub const BASE64_PATTERN: &str =
    "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$";

/// A `GET /gpus` cursor: `{id}.{price_per_minute}.{vram_gb or -}` of the last GPU seen.
pub const GPU_CURSOR_PATTERN: &str = r"^[0-9]{1,18}\.[0-9]{1,18}\.(?:[0-9]{1,9}|-)$";

/// A `GET /rentals` cursor: the id of the last rental seen.
pub const RENTAL_CURSOR_PATTERN: &str = "^[0-9]{1,18}$";

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// The orders of `GET /gpus`.
pub const GPU_SORTS: [&str; 4] = ["oldest", "newest", "price", "vram"];

fn string_schema(description: &str, pattern: Option<String>) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description)).pattern(pattern)
}

fn names_schema<'a>(description: &str, names: impl IntoIterator<Item = &'a str>) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(names.into_iter().collect::<Vec<_>>()))
        .build()
        .into()
}

/// Declares a schema component built by a function.
macro_rules! component {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T($schema)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

component!(
    /// An Algorand address (the schema of every address field and parameter).
    AlgorandAddress => string_schema(
        "An Algorand address: 58 upper-case base32 characters encoding a 32-byte public \
         key and the last 4 bytes of its SHA-512/256 digest (the checksum, which must \
         match; format `algorand-address`).",
        Some(ADDRESS_PATTERN.to_owned()),
    )
    .format(Some(SchemaFormat::Custom("algorand-address".to_owned())))
    .examples(["GD64YIY3TWGDMCNPP553DZPPR6LDUSFQOIJVFDPPXWEG3FVOJCCDBBHU5A"])
    .build()
    .into()
);

component!(
    /// A display name: a GPU model or a cluster name.
    DisplayName => string_schema(
        "1 to 100 characters after surrounding whitespace is trimmed (it is stored \
         trimmed), no control characters.",
        Some(display_name_pattern()),
    )
    .examples(["RTX 4090"])
    .build()
    .into()
);

component!(
    /// A region label.
    RegionName => string_schema(
        "1 to 64 letters, digits, `-`, `_` or spaces after surrounding whitespace is \
         trimmed (it is stored trimmed).",
        Some(region_pattern()),
    )
    .examples(["eu-west"])
    .build()
    .into()
);

component!(
    /// A signed transaction.
    SignedTransaction => string_schema(
        "Standard base64 (with padding) of a signed transaction's msgpack envelope.",
        Some(BASE64_PATTERN.to_owned()),
    )
    .build()
    .into()
);

component!(
    /// A position in `GET /gpus`.
    GpuCursor => string_schema(
        "A position in the listing, as `X-Next-Cursor` gives it: `{id}.{price_per_minute}.\
         {vram_gb or -}` of the last GPU seen, which continues any order from that GPU.",
        Some(GPU_CURSOR_PATTERN.to_owned()),
    )
    .build()
    .into()
);

component!(
    /// A position in `GET /rentals`.
    RentalCursor => string_schema(
        "A position in the listing, as `X-Next-Cursor` gives it: the id of the last \
         rental seen.",
        Some(RENTAL_CURSOR_PATTERN.to_owned()),
    )
    .build()
    .into()
);

component!(
    /// An `Idempotency-Key` header value.
    IdempotencyKey => string_schema(
        "Replay-safe retries: 1 to 255 visible ASCII characters, chosen by the client. A \
         retry with the same key and the same request gets the first answer back \
         (`Idempotent-Replayed: true`); the same key with another request is refused (409).",
        Some(IDEMPOTENCY_KEY_PATTERN.to_owned()),
    )
    .build()
    .into()
);

component!(
    /// The orders of `GET /gpus`.
    GpuSort => names_schema(
        "`oldest` (listing order), `newest`, `price` (cheapest first) or `vram` (most first).",
        GPU_SORTS,
    )
);

component!(
    /// A GPU status, or `all`.
    GpuStatusFilter => names_schema(
        "A GPU status, or `all`.",
        GpuStatus::ALL.iter().map(|s| s.as_str()).chain(["all"]),
    )
);

component!(
    /// A GPU listing's status.
    GpuStatusName => names_schema("A GPU listing's status.", GpuStatus::ALL.iter().map(|s| s.as_str()))
);

component!(
    /// A rental's status.
    RentalStatusName => names_schema("A rental's status.", RentalStatus::ALL.iter().map(|s| s.as_str()))
);

component!(
    /// A job's state.
    JobStateName => names_schema("A job's state.", JobState::ALL.iter().map(|s| s.as_str()))
);

component!(
    /// A job's kind.
    JobKindName => names_schema("The chain work a job does.", JobKind::ALL.iter().map(|s| s.as_str()))
);

component!(
    /// A cluster's status.
    ClusterStatusName => names_schema("A cluster's status.", ClusterStatus::ALL.iter().map(|s| s.as_str()))
);

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        Problem::name(),
                    ))))
                    .build(),
            )
            .build(),
    )
}

/// Documents `status` on `operation` unless it is already.
fn answer(operation: &mut Operation, status: &str, description: &str) {
    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
}

/// Every answer an operation's extractors can give, added where the handler's
/// annotation does not name it. `mutating`: the handler takes the caller (`auth::Caller`),
/// as every handler of a method other than GET does.
fn common_answers(operation: &mut Operation, mutating: bool) {
    if mutating {
        answer(
            operation,
            "401",
            "No valid API key: one is required in production, and one sent is checked in any mode",
        );
    }
    if let Some(body) = &operation.request_body {
        let required = matches!(body.required, Some(Required::True));
        answer(
            operation,
            "400",
            if required { "The body is missing or not JSON" } else { "The body is not JSON" },
        );
        answer(operation, "413", "The body is larger than the limit");
        answer(operation, "415", "The body is not `application/json`");
        answer(operation, "422", "A field breaks its rule");
    }
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let query = parameters.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let idempotent = parameters.iter().any(|p| p.name == crate::idempotency::HEADER);
    if query {
        answer(operation, "400", "The query string is not UTF-8");
        answer(operation, "422", "A parameter breaks its rule, is unknown, or is repeated");
    }
    if idempotent {
        answer(operation, "409", "The `Idempotency-Key` was used for another request");
        answer(operation, "422", "The `Idempotency-Key` is malformed");
    }
}

/// The links of the document: from an operation's answer (by operation id and status) to
/// the operations that take an id it holds, as `(name, target operation, parameters)`
/// where each parameter is `(name, runtime expression)`.
type LinkSpec = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

const GPU_BODY: &[(&str, &str)] = &[("id", "$response.body#/id")];
const RENTAL_GPU: &[(&str, &str)] = &[("id", "$response.body#/gpu_id")];

const FROM_GPU: &[LinkSpec] = &[
    ("GetGpu", "get_gpu", GPU_BODY),
    ("UpdateGpu", "update_gpu", GPU_BODY),
    ("DeleteGpu", "delete_gpu", GPU_BODY),
    ("Heartbeat", "heartbeat", GPU_BODY),
    ("RentGpu", "rent_gpu", GPU_BODY),
    ("StopGpu", "stop_gpu", GPU_BODY),
    ("AnnounceRetirement", "announce_retirement", GPU_BODY),
    ("OwnerGpus", "list_gpus", &[("owner", "$response.body#/owner_address")]),
    ("OwnerPortfolio", "portfolio", &[("address", "$response.body#/owner_address")]),
];

const FROM_RENTAL: &[LinkSpec] = &[
    ("GetRental", "get_rental", &[("id", "$response.body#/id")]),
    ("GetGpu", "get_gpu", RENTAL_GPU),
    ("StopGpu", "stop_gpu", RENTAL_GPU),
    ("RenterRentals", "list_rentals", &[("renter", "$response.body#/renter_address")]),
    ("ProviderRentals", "list_rentals", &[("provider", "$response.body#/provider_address")]),
    ("RenterPortfolio", "portfolio", &[("address", "$response.body#/renter_address")]),
];

const CLUSTER_BODY: &[(&str, &str)] = &[("id", "$response.body#/id")];

const FROM_CLUSTER: &[LinkSpec] = &[
    ("GetCluster", "get_cluster", CLUSTER_BODY),
    ("ListHolders", "list_holders", CLUSTER_BODY),
    ("AttachGpu", "attach_gpu", CLUSTER_BODY),
    ("BuyShares", "buy_shares", CLUSTER_BODY),
    ("TransferShares", "transfer_shares", CLUSTER_BODY),
    ("Claim", "claim", CLUSTER_BODY),
    ("OperatorPortfolio", "portfolio", &[("address", "$response.body#/operator_address")]),
];

const FROM_JOB: &[LinkSpec] = &[
    ("GetJob", "get_job", &[("id", "$response.body#/id")]),
    ("SignJob", "sign_job", &[("id", "$response.body#/id")]),
];

const FROM_CLUSTER_JOB: &[LinkSpec] = &[
    ("GetJob", "get_job", &[("id", "$response.body#/id")]),
    ("GetCluster", "get_cluster", &[("id", "$response.body#/cluster_id")]),
];

/// `(operation id, status, links)`.
const LINKS: &[(&str, &str, &[LinkSpec])] = &[
    ("create_gpu", "201", FROM_GPU),
    ("get_gpu", "200", FROM_GPU),
    ("update_gpu", "200", FROM_GPU),
    ("heartbeat", "200", FROM_GPU),
    ("announce_retirement", "202", &[("GetGpu", "get_gpu", GPU_BODY)]),
    ("attach_gpu", "202", &[("GetGpu", "get_gpu", GPU_BODY)]),
    ("rent_gpu", "202", FROM_RENTAL),
    ("stop_gpu", "202", FROM_RENTAL),
    ("get_rental", "200", FROM_RENTAL),
    ("create_cluster", "202", FROM_CLUSTER),
    ("get_cluster", "200", FROM_CLUSTER),
    ("buy_shares", "202", FROM_CLUSTER_JOB),
    ("transfer_shares", "202", FROM_CLUSTER_JOB),
    ("claim", "202", FROM_CLUSTER_JOB),
    ("get_job", "200", FROM_JOB),
    ("sign_job", "202", FROM_JOB),
];

fn add_links(operation: &mut Operation) {
    let Some(id) = operation.operation_id.as_deref() else { return };
    for (_, status, links) in LINKS.iter().filter(|(from, ..)| *from == id) {
        let Some(RefOr::T(response)) = operation.responses.responses.get_mut(*status) else {
            panic!("link from {id} {status}: no such documented answer");
        };
        for (name, target, parameters) in *links {
            // utoipa 5.5 serialises `Link::operation_id` as `operation_id`, not OpenAPI's
            // `operationId`; the extensions map is written as it is.
            let link = parameters
                .iter()
                .fold(Link::builder(), |link, (name, value)| link.parameter(*name, *value))
                .extensions(Some([("operationId", *target)].into_iter().collect()))
                .build();
            response.links.insert((*name).to_owned(), RefOr::T(link));
        }
    }
}

/// A query or header parameter is never `null`: one left out is absent. The tuple form of
/// `params(...)` makes an `Option<T>` parameter's schema `oneOf: [null, T]`; this keeps `T`.
fn not_null(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let Some(RefOr::T(Schema::OneOf(one_of))) = &parameter.schema
            && let [first, second] = one_of.items.as_slice()
            && matches!(first, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into())
        {
            parameter.schema = Some(second.clone());
        }
    }
}

/// Finishes the document built from the handlers: common answers and links.
pub fn finish(doc: &mut OpenApi) {
    // utoipa 5.5 writes `#[schema(min_properties = 1)]` as `maxProperties`, so it is set here.
    if let Some(RefOr::T(Schema::Object(update))) =
        doc.components.as_mut().and_then(|c| c.schemas.get_mut("UpdateGpu"))
    {
        update.min_properties = Some(1);
    }
    for item in doc.paths.paths.values_mut() {
        let mutating = [
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        let reading = item.get.iter_mut().map(|operation| (operation, false));
        for (operation, mutating) in
            reading.chain(mutating.into_iter().flatten().map(|operation| (operation, true)))
        {
            not_null(operation);
            common_answers(operation, mutating);
            add_links(operation);
        }
    }
}

/// Which methods each documented path answers, for 405 answers with an `Allow` header.
#[derive(Debug, Clone, Default)]
pub struct MethodTable {
    /// `(segments of the path template, methods)`; a `{...}` segment matches any segment.
    routes: Vec<(Vec<String>, Vec<Method>)>,
}

impl MethodTable {
    /// The table of `doc`'s paths.
    pub fn new(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let methods = [
                    (item.get.is_some(), Method::GET),
                    (item.put.is_some(), Method::PUT),
                    (item.post.is_some(), Method::POST),
                    (item.delete.is_some(), Method::DELETE),
                    (item.options.is_some(), Method::OPTIONS),
                    (item.head.is_some(), Method::HEAD),
                    (item.patch.is_some(), Method::PATCH),
                    (item.trace.is_some(), Method::TRACE),
                ]
                .into_iter()
                .filter_map(|(present, method)| present.then_some(method))
                .collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods `path` answers, if it is a documented path.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        let segments: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .find(|(template, _)| {
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| if t.starts_with('{') { !s.is_empty() } else { t == s })
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

/// Every link's target operation exists and takes the parameters it sets.
pub fn check_links(doc: &OpenApi) -> Result<(), String> {
    let mut operations: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for item in doc.paths.paths.values() {
        for operation in [
            &item.get,
            &item.put,
            &item.post,
            &item.delete,
            &item.options,
            &item.head,
            &item.patch,
            &item.trace,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(id) = &operation.operation_id {
                let names =
                    operation.parameters.iter().flatten().map(|p| p.name.as_str()).collect();
                operations.insert(id, names);
            }
        }
    }
    for (from, status, links) in LINKS {
        for (name, target, parameters) in *links {
            let Some(taken) = operations.get(target) else {
                return Err(format!("{from} {status} {name}: no operation {target}"));
            };
            for (parameter, _) in *parameters {
                if !taken.contains(parameter) {
                    return Err(format!("{from} {status} {name}: {target} takes no {parameter}"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_method_table_matches_templates_segment_by_segment() {
        let table = MethodTable::new(&crate::openapi());
        assert_eq!(table.allowed("/gpus"), Some(&[Method::GET, Method::POST][..]));
        assert_eq!(
            table.allowed("/gpus/x"),
            Some(&[Method::GET, Method::DELETE, Method::PATCH][..])
        );
        assert_eq!(table.allowed("/gpus/1/rent"), Some(&[Method::POST][..]));
        assert_eq!(table.allowed("/gpus//rent"), None, "an empty segment is no id");
        assert_eq!(table.allowed("/gpus/1/rent/x"), None);
        assert_eq!(table.allowed("/nope"), None);
    }

    #[test]
    fn patterns_are_anchored() {
        for pattern in [
            ADDRESS_PATTERN.to_owned(),
            display_name_pattern(),
            region_pattern(),
            BASE64_PATTERN.to_owned(),
            GPU_CURSOR_PATTERN.to_owned(),
            RENTAL_CURSOR_PATTERN.to_owned(),
            IDEMPOTENCY_KEY_PATTERN.to_owned(),
        ] {
            assert!(pattern.starts_with('^') && pattern.ends_with('$'), "{pattern}");
        }
    }
}
