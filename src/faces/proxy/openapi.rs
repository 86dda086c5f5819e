//! The served configs' routes in `GET /openapi.json`: built once, when the
//! server starts, by adding to the native document an operation for each
//! method and path the configs serve, with the security scheme each
//! config's `auth` builds, the parameters and body schema its templates
//! imply (`proxy::route::openapi`), the answers its mappings imply
//! (`proxy::answer::schema`), and the error answers these routes really
//! give, as references to the native document's own responses.
//!
//! Operations that share a method and path (a config's call and message
//! logs on one `POST /activities`) are one OpenAPI operation: the body is
//! either's, the answer either's. A served route with a native route's
//! method and path (a config whose `baseUrl` names the server's root on
//! purpose) replaces it: it is what answers. No SQL, no HTTP: JSON in,
//! bytes out.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::auth;
use crate::proxy::answer::schema::answer_schema;
use crate::proxy::config::{AuthConfig, ProxyConfig};
use crate::proxy::needs::{self, Need};
use crate::proxy::route::openapi::{BodySchema, Param};
use crate::proxy::route::{Plan, Route};
use crate::proxy::Operation;

/// The sentence of the native document that says configs are not listed.
pub const NOT_LISTED: &str = "This server serves no App Connect proxy-connector config (--proxy-config); when it does, their routes are listed here too.";
const LISTED: &str = "This server also serves App Connect proxy-connector configs (--proxy-config): their routes are listed here too, tagged with each config's file. Those routes read a request by running the config's templates backwards and store what does not fit them as it came, so their schemas require only what an operation cannot do without (README.md, \"Serving your CRM from an App Connect proxy config\"); their answers hold every path the config's responseMapping reads.";

/// One served operation, described.
struct Described<'c> {
    config: &'c ProxyConfig,
    route: Route,
    /// The OpenAPI path and its parameters.
    path: String,
    path_params: Vec<Param>,
    query: Vec<Param>,
    body: Option<BodySchema>,
    needs: Vec<String>,
    /// The expression that names the log, for an operation that names one.
    log_id: Option<String>,
    /// Security requirements, any one of which will do.
    security: Vec<Value>,
}

impl Described<'_> {
    fn op(&self) -> Operation {
        self.route.operation
    }
}

/// The served operations on one method and path: one OpenAPI operation.
struct Group<'d, 'c> {
    /// Lower-case, as the document keys it.
    method: String,
    /// The path as the document keys it.
    key: String,
    operation_id: String,
    members: Vec<&'d Described<'c>>,
}

/// `{name}` segments replaced by `{}`: paths OpenAPI treats as one.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('{');
            }
            '}' => {
                inside = false;
                out.push('}');
            }
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

/// The `{name}`s of an OpenAPI path, in order.
fn names(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// A config's name in identifiers: its file name without the folder and
/// `.json`, in `[A-Za-z0-9._-]`.
fn stem(config: &ProxyConfig) -> String {
    let file = config.file.rsplit(['/', '\\']).next().unwrap_or_default();
    let file = file.strip_suffix(".json").unwrap_or(file);
    crate::proxy::route::openapi::param_name(file)
}

fn is_log_create(op: Operation) -> bool {
    matches!(op, Operation::CreateCallLog | Operation::CreateMessageLog)
}

fn success_status(op: Operation) -> &'static str {
    match op {
        Operation::CreateCallLog | Operation::CreateMessageLog | Operation::CreateContact => "201",
        _ => "200",
    }
}

/// Whether the operation is served without credentials (they are checked
/// when sent): App Connect sends none for these.
fn open(op: Operation) -> bool {
    matches!(op, Operation::GetLicenseStatus | Operation::UnAuthorize)
}

/// The security scheme a config's auth builds, named `name`, and what it
/// is: http bearer or basic where the header is exactly that, else an API
/// key in the header the config names, described as the config builds it.
fn security_scheme(auth: Option<&AuthConfig>) -> Value {
    let header = auth::header_name(auth);
    let scheme = auth
        .and_then(|a| a.scheme.as_deref())
        .filter(|s| !s.is_empty());
    let template = auth
        .and_then(|a| a.credential_template.as_ref())
        .map(|t| t.source().trim().to_owned())
        .filter(|t| !t.is_empty());
    let encoded = auth.and_then(|a| a.encode.as_deref()) != Some("none");
    let key_alone = |t: &str| t == "{{apiKey}}" || t == "{{user.accessToken}}";
    let authorization = header.eq_ignore_ascii_case("authorization");
    let scheme_is = |name: &str| scheme.is_some_and(|s| s.eq_ignore_ascii_case(name));
    let described = auth::expected(auth);
    match template.as_deref() {
        Some(t) if authorization && scheme_is("Bearer") && !encoded && key_alone(t) => {
            json!({"type": "http", "scheme": "bearer", "description": format!("The API key as the config sends it: {described}.")})
        }
        Some(t)
            if authorization
                && scheme_is("Basic")
                && encoded
                && t.strip_suffix(':').is_some_and(key_alone) =>
        {
            json!({"type": "http", "scheme": "basic", "description": format!("The API key as the user name and an empty password, as the config sends it: {described}.")})
        }
        None if authorization && (scheme.is_none() || scheme_is("Bearer")) => {
            let oauth = auth.and_then(|a| a.auth_type.as_deref()) == Some("oauth");
            if oauth {
                json!({"type": "http", "scheme": "bearer", "description": "The API key as App Connect sends an OAuth token: Authorization: Bearer <api key> (Basic base64(\"<api key>:\") is taken too)."})
            } else {
                json!({"type": "http", "scheme": "basic", "description": "App Connect's own API-key header: Authorization: Basic base64(\"<api key>:\") (Bearer <api key> is taken too)."})
            }
        }
        _ => json!({"type": "apiKey", "in": "header", "name": header,
            "description": format!("The API key in the header the config builds: {described}.")}),
    }
}

/// The error answers of the native document, by status.
fn error_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// Every served operation of every config, described.
fn describe<'c>(
    configs: &'c [ProxyConfig],
    schemes: &mut Map<String, Value>,
) -> Vec<Described<'c>> {
    let mut described = Vec::new();
    for config in configs {
        let mut base = format!("proxy.{}", stem(config));
        let mut n = 2;
        while schemes
            .keys()
            .any(|k| k == &base || k.starts_with(&format!("{base}.")))
        {
            base = format!("proxy.{}.{n}", stem(config));
            n += 1;
        }
        for route in Plan::new(config).routes {
            let op = config.operation(route.operation);
            let own = op.and_then(|o| o.auth.as_ref());
            let name = match own {
                Some(_) => format!("{base}.{}", route.operation),
                None => base.clone(),
            };
            let auth = op.and_then(|o| auth::auth_for(config, o));
            schemes
                .entry(name.clone())
                .or_insert_with(|| security_scheme(auth));
            let mut requirement = Map::new();
            requirement.insert(name, json!([]));
            let mut security = vec![Value::Object(requirement)];
            if open(route.operation) {
                security.insert(0, json!({}));
            }
            let expressions = route.expressions();
            let needs: Vec<Need<'_>> = needs::needs(route.operation, &expressions);
            let (path, path_params) = route.openapi_path(&needs);
            let query = route.query_params(&needs);
            let body = route.body_schema(&needs);
            let log_id = needs::names_a_log(route.operation)
                .then(|| needs.last().map(|n| n.expr.to_owned()))
                .flatten();
            let needs = needs.iter().map(|n| n.expr.to_owned()).collect();
            described.push(Described {
                config,
                route,
                path,
                path_params,
                query,
                body,
                needs,
                log_id,
                security,
            });
        }
    }
    described
}

/// `anyOf` of the distinct schemas, or the one schema.
fn either(schemas: Vec<Value>) -> Value {
    let mut distinct: Vec<Value> = Vec::new();
    for schema in schemas {
        if !distinct.contains(&schema) {
            distinct.push(schema);
        }
    }
    match distinct.len() {
        1 => distinct.pop().unwrap_or_default(),
        _ => json!({ "anyOf": distinct }),
    }
}

fn param_json(param: &Param, location: &str) -> Value {
    let mut out = json!({
        "name": param.name,
        "in": location,
        "required": param.required,
        "description": param.description,
        "schema": param.schema,
    });
    if let Some(example) = &param.example {
        out["example"] = example.clone();
    }
    out
}

/// A JSON pointer into the answer for a mapped path (`body.activity.id`).
fn pointer(path: &str) -> Option<String> {
    let rest = path.strip_prefix("body")?;
    Some(
        rest.split('.')
            .skip(1)
            .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
            .collect(),
    )
}

/// The OpenAPI operation for the operations sharing one method and path.
fn operation(group: &[&Described<'_>], path_names: &[String], operation_id: &str) -> Value {
    let first = group[0];
    let ops: Vec<&str> = group.iter().map(|d| d.op().name()).collect();
    let file = &first.config.file;
    let mut parameters: Vec<Value> = first
        .path_params
        .iter()
        .zip(path_names)
        .map(|(param, name)| {
            let mut param = param.clone();
            param.name = name.clone();
            param_json(&param, "path")
        })
        .collect();
    let mut query: Vec<Param> = Vec::new();
    for d in group {
        for param in &d.query {
            match query.iter_mut().find(|q| q.name == param.name) {
                Some(q) => q.required &= param.required,
                None => query.push(param.clone()),
            }
        }
    }
    for q in query.iter_mut() {
        // Required only where every operation on the route needs it.
        q.required &= group
            .iter()
            .all(|d| d.query.iter().any(|p| p.name == q.name && p.required));
    }
    parameters.extend(query.iter().map(|q| param_json(q, "query")));
    if group.iter().any(|d| is_log_create(d.op())) {
        parameters.push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
    }
    let mut security: Vec<Value> = Vec::new();
    for d in group {
        for requirement in &d.security {
            if !security.contains(requirement) {
                security.push(requirement.clone());
            }
        }
    }
    let mut out = json!({
        "operationId": operation_id,
        "tags": [format!("proxy: {file}")],
        "summary": format!("{} ({file})", ops.join(" or ")),
        "description": format!(
            "Served from the App Connect proxy-connector config {file}{}.",
            if group.len() > 1 {
                ": a request goes to the operation whose templates it fits, carrying what that operation needs, then with the fewest contradicted literals, then the most literal text; a tie goes to the call log"
            } else {
                ""
            }
        ),
        "security": security,
        "parameters": parameters,
    });
    let bodies: Vec<&BodySchema> = group.iter().filter_map(|d| d.body.as_ref()).collect();
    if !bodies.is_empty() {
        let mut content =
            json!({"schema": either(bodies.iter().map(|b| b.schema.clone()).collect())});
        if let Some(example) = bodies.iter().find_map(|b| b.example.clone()) {
            content["example"] = example;
        }
        out["requestBody"] = json!({
            "required": bodies.len() == group.len() && bodies.iter().all(|b| b.required),
            "content": {"application/json": content},
        });
    }
    let mut responses = Map::new();
    for status in ["200", "201"] {
        let answering: Vec<&&Described<'_>> = group
            .iter()
            .filter(|d| success_status(d.op()) == status)
            .collect();
        if answering.is_empty() {
            continue;
        }
        let names: Vec<&str> = answering.iter().map(|d| d.op().name()).collect();
        let schema = either(
            answering
                .iter()
                .map(|d| answer_schema(d.config, d.op()))
                .collect(),
        );
        let mut response = json!({
            "description": format!("What {} answers: every path its responseMapping reads holds a value (null where mockcrm holds none), beside the record's stored fields.", names.join(" or ")),
            "content": {"application/json": {"schema": schema}},
        });
        if answering.iter().any(|d| is_log_create(d.op())) {
            response["headers"] =
                json!({"Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}});
        }
        responses.insert(status.to_owned(), response);
    }
    let any = |f: &dyn Fn(&Described<'_>) -> bool| group.iter().any(|d| f(d));
    let mut errors: Vec<(&str, &str)> = Vec::new();
    if any(&|d| !d.needs.is_empty() || is_log_create(d.op())) {
        errors.push(("400", "InvalidField"));
    }
    errors.push(("401", "Unauthorized"));
    if any(&|d| needs::names_a_log(d.op())) {
        errors.push(("404", "NotFound"));
    }
    if any(&|d| !open(d.op())) {
        errors.push(("413", "PayloadTooLarge"));
    }
    if any(&|d| is_log_create(d.op())) {
        errors.push(("422", "IdempotencyMismatch"));
    }
    errors.extend([
        ("429", "RateLimited"),
        ("500", "Internal"),
        ("503", "Overloaded"),
    ]);
    for (status, name) in errors {
        responses.insert(status.to_owned(), error_ref(name));
    }
    out["responses"] = Value::Object(responses);
    out
}

/// How a link hands the created log's id to an operation that names the
/// log: a path or query parameter, or a body field (merged into a
/// generated body); `None` where it cannot (a list position).
fn link_to(d: &Described<'_>, key: &str, operation_id: &str, id: &str) -> Option<Value> {
    let log_id = d.log_id.as_deref()?;
    let mut link = json!({"operationId": operation_id});
    if let Some(at) = d
        .path_params
        .iter()
        .position(|p| p.expr.as_deref() == Some(log_id))
    {
        let name = names(key).get(at)?.clone();
        let mut parameters = Map::new();
        parameters.insert(name, Value::from(id));
        link["parameters"] = Value::Object(parameters);
        return Some(link);
    }
    let location = d.route.location_of(log_id)?;
    if let Some(name) = location.strip_prefix("query.") {
        let mut parameters = Map::new();
        parameters.insert(format!("query.{name}"), Value::from(id));
        link["parameters"] = Value::Object(parameters);
        return Some(link);
    }
    let fields = location.strip_prefix("body.")?;
    if fields.contains('[') {
        return None;
    }
    let mut body = Value::from(id);
    for field in fields.rsplit('.') {
        let mut object = Map::new();
        object.insert(field.to_owned(), body);
        body = Value::Object(object);
    }
    link["requestBody"] = body;
    Some(link)
}

/// Links from a log create's answer to the operations of its config that
/// name a log, for clients that follow them (schemathesis's stateful runs).
fn links(create: &Described<'_>, groups: &[Group<'_, '_>]) -> Option<Value> {
    let id_path = crate::proxy::answer::layout::layout(create.config, create.op())
        .slots
        .first()
        .map(|s| s.path)?;
    let id = format!("$response.body#{}", pointer(id_path)?);
    let mut links = Map::new();
    for group in groups {
        for d in &group.members {
            if !std::ptr::eq(d.config, create.config) || !needs::names_a_log(d.op()) {
                continue;
            }
            if let Some(link) = link_to(d, &group.key, &group.operation_id, &id) {
                links.insert(d.op().name().to_owned(), link);
            }
        }
    }
    (!links.is_empty()).then_some(Value::Object(links))
}

/// The native document with the served configs' routes added, as served.
pub fn document(native: &str, configs: &[ProxyConfig]) -> Bytes {
    let Ok(mut doc) = serde_json::from_str::<Value>(native) else {
        return Bytes::copy_from_slice(native.as_bytes());
    };
    if configs.is_empty() {
        return Bytes::copy_from_slice(native.as_bytes());
    }
    if let Some(description) = doc.pointer_mut("/info/description") {
        if let Some(text) = description.as_str() {
            *description = Value::from(text.replace(NOT_LISTED, LISTED));
        }
    }
    let mut schemes = Map::new();
    let described = describe(configs, &mut schemes);
    // Group by method and the path's shape; the first path written names
    // the parameters (a native path's, when it has that shape).
    let native_paths: Vec<String> = doc["paths"]
        .as_object()
        .map(|paths| paths.keys().cloned().collect())
        .unwrap_or_default();
    let mut groups: Vec<Group<'_, '_>> = Vec::new();
    for d in &described {
        let method = d.route.method.to_ascii_lowercase();
        let found = groups
            .iter_mut()
            .find(|g| g.method == method && shape(&g.key) == shape(&d.path));
        match found {
            Some(group) => group.members.push(d),
            None => {
                let key = native_paths
                    .iter()
                    .chain(groups.iter().map(|g| &g.key))
                    .find(|key| shape(key) == shape(&d.path))
                    .cloned()
                    .unwrap_or_else(|| d.path.clone());
                groups.push(Group {
                    method,
                    key,
                    operation_id: String::new(),
                    members: vec![d],
                });
            }
        }
    }
    let mut ids: Vec<String> = Vec::new();
    for group in groups.iter_mut() {
        let ops: Vec<&str> = group.members.iter().map(|d| d.op().name()).collect();
        let stem = stem(group.members[0].config);
        let mut candidate = format!("{stem}.{}", ops.join("."));
        let mut n = 2;
        while ids.contains(&candidate) {
            candidate = format!("{stem}.{}.{n}", ops.join("."));
            n += 1;
        }
        ids.push(candidate.clone());
        group.operation_id = candidate;
    }
    let mut tags: Vec<String> = Vec::new();
    for group in &groups {
        let mut op = operation(&group.members, &names(&group.key), &group.operation_id);
        if let Some(create) = group.members.iter().find(|d| is_log_create(d.op())) {
            if let Some(links) = links(create, &groups) {
                if let Some(created) =
                    op.pointer_mut(&format!("/responses/{}", success_status(create.op())))
                {
                    created["links"] = links;
                }
            }
        }
        let tag = format!("proxy: {}", group.members[0].config.file);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
        if let Some(paths) = doc["paths"].as_object_mut() {
            let item = paths.entry(group.key.clone()).or_insert_with(|| json!({}));
            item[group.method.as_str()] = op;
        }
    }
    if let Some(list) = doc["tags"].as_array_mut() {
        for tag in tags {
            list.push(json!({"name": tag, "description": "Routes of an App Connect proxy-connector config served with --proxy-config."}));
        }
    }
    if let Some(existing) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        existing.extend(schemes);
    }
    match serde_json::to_vec_pretty(&doc) {
        Ok(bytes) => Bytes::from(bytes),
        Err(_) => Bytes::copy_from_slice(native.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(json: &str) -> AuthConfig {
        let text = format!(
            r#"{{"auth": {json}, "operations": {{"getUserInfo": {{"url": "https://crm.example/me"}}}}}}"#
        );
        crate::proxy::load("test.json", &text)
            .expect("loads")
            .config
            .auth
            .expect("auth")
    }

    #[test]
    fn each_auth_is_described_as_the_header_it_builds() {
        let scheme = |json: &str| security_scheme(Some(&auth(json)));
        assert_eq!(
            scheme(r#"{"scheme": "Bearer", "credentialTemplate": "{{apiKey}}", "encode": "none"}"#)
                ["scheme"],
            "bearer"
        );
        assert_eq!(
            scheme(r#"{"scheme": "Basic", "credentialTemplate": "{{apiKey}}:"}"#)["scheme"],
            "basic"
        );
        assert_eq!(scheme(r#"{"type": "oauth"}"#)["scheme"], "bearer");
        assert_eq!(scheme(r#"{"type": "apiKey"}"#)["scheme"], "basic");
        let sample = scheme(r#"{"scheme": "Basic", "credentialTemplate": "{{apiKey}}"}"#);
        assert_eq!(
            (&sample["type"], &sample["name"]),
            (&json!("apiKey"), &json!("Authorization"))
        );
        let own = scheme(
            r#"{"headerName": "X-Api-Key", "credentialTemplate": "{{apiKey}}", "encode": "none"}"#,
        );
        assert_eq!(
            (&own["type"], &own["name"]),
            (&json!("apiKey"), &json!("X-Api-Key"))
        );
    }

    #[test]
    fn paths_are_one_when_only_their_parameter_names_differ() {
        assert_eq!(
            shape("/activity/{id}"),
            shape("/activity/{thirdPartyLogId}")
        );
        assert_ne!(shape("/activity/{id}"), shape("/activities/{id}"));
        assert_eq!(names("/a/{x}/b/{y}"), ["x", "y"]);
        assert_eq!(pointer("body.activity.id").as_deref(), Some("/activity/id"));
        assert_eq!(pointer("body").as_deref(), Some(""));
        assert_eq!(pointer("data.id"), None);
    }
}
