//! The OpenAPI 3.1 description of the execution API (`GET /v1/openapi.json`). A test checks
//! it against the router: a `/v1` route missing here, or described here but absent, fails.

use serde_json::{Value, json};

/// A JSON error answer, for every refusal.
fn error(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// The document, with `server` as its server's URL.
pub fn document(server: &str) -> Value {
    let auth_errors = |mut responses: serde_json::Map<String, Value>| {
        responses.insert("401".into(), error("No API key, or one that is unknown or revoked."));
        responses.insert("403".into(), error("The key lacks the scope this call needs."));
        responses.insert(
            "429".into(),
            json!({
                "description": "Too many calls with this key: wait the seconds Retry-After says.",
                "headers": { "Retry-After": { "schema": { "type": "integer" } } },
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
            }),
        );
        Value::Object(responses)
    };
    let responses =
        |pairs: Vec<(&str, Value)>| auth_errors(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Campaign Console execution API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Trigger API-triggered campaigns, follow their executions and report interaction events."
        },
        "servers": [{ "url": server }],
        "security": [{ "bearer": [] }],
        "paths": {
            "/v1/campaigns/{id}/trigger": {
                "post": {
                    "operationId": "triggerCampaign",
                    "summary": "Send an API-triggered campaign's message to 1–100 recipients.",
                    "description": "The call is answered as soon as it is checked and kept: every recipient is then queued. Just after, each recipient is resolved in the campaign's identity namespace (created when missing, when the campaign allows it; else not_found), its message made with its context and sent: follow it at status_url. The same request_id again sends nothing new and answers with the same execution as it stands (header Idempotent-Replayed: true). Scope: trigger.",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/TriggerRequest" } } } },
                    "responses": responses(vec![
                        ("202", json!({ "description": "Accepted and kept: the execution, each recipient queued (or, for a request_id seen before, where it stands).", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Execution" } } } })),
                        ("404", error("No such campaign, or not an API-triggered one.")),
                        ("409", error("The campaign is not live, or cannot send as it is.")),
                        ("422", error("Outside the campaign's start and end, or a field is wrong (pointer says which).")),
                        ("503", error("Too many accepted calls wait to be sent: try again after Retry-After seconds (nothing was kept).")),
                    ])
                }
            },
            "/v1/executions/{id}": {
                "get": {
                    "operationId": "getExecution",
                    "summary": "Where each recipient of an execution stands.",
                    "description": "Scope: trigger.",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "responses": responses(vec![
                        ("200", json!({ "description": "The execution.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Execution" } } } })),
                        ("404", error("No such execution.")),
                    ])
                }
            },
            "/v1/events": {
                "post": {
                    "operationId": "ingestEvents",
                    "summary": "Report 1–1,000 interaction events the app does not see itself.",
                    "description": "Counted once by event_id. One wrong event refuses the call (nothing is written). Scope: events.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Events" } } } },
                    "responses": responses(vec![
                        ("202", json!({ "description": "What was written.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/IngestReport" } } } })),
                        ("422", error("A field is wrong (pointer says which).")),
                    ])
                }
            },
            "/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "security": [],
                    "responses": { "200": { "description": "The OpenAPI document.", "content": { "application/json": {} } } }
                }
            }
        },
        "components": components()
    })
}

/// The security scheme and the bodies' schemas.
fn components() -> Value {
    json!({
        "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "An API key (Settings → API keys, or campaign-console apikey create)." } },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": { "type": "string" },
                    "pointer": { "type": "string", "description": "JSON pointer to the wrong field." },
                    "request_id": { "type": ["string", "null"] }
                }
            },
            "TriggerRequest": {
                "type": "object",
                "required": ["request_id", "recipients"],
                "properties": {
                    "request_id": { "type": "string", "minLength": 1, "maxLength": 200 },
                    "recipients": { "type": "array", "minItems": 1, "maxItems": 100, "items": { "$ref": "#/components/schemas/Recipient" } }
                }
            },
            "Recipient": {
                "type": "object",
                "required": ["namespace", "id"],
                "properties": {
                    "namespace": { "type": "string", "examples": ["email", "phone", "crm_id"] },
                    "id": { "type": "string" },
                    "context": { "type": "object", "additionalProperties": { "type": "string" } }
                }
            },
            "Execution": {
                "type": "object",
                "required": ["execution_id", "campaign_id", "request_id", "created_at", "recipients"],
                "properties": {
                    "execution_id": { "type": "string" },
                    "campaign_id": { "type": "integer" },
                    "request_id": { "type": "string" },
                    "created_at": { "type": "string", "format": "date-time" },
                    "status_url": { "type": "string" },
                    "recipients": { "type": "array", "items": {
                        "type": "object",
                        "required": ["namespace", "id", "status"],
                        "properties": {
                            "namespace": { "type": "string" },
                            "id": { "type": "string" },
                            "status": { "enum": ["sending", "queued", "sent", "delivered", "failed", "excluded", "unconfirmed", "not_found"] },
                            "reason": { "type": "string" },
                            "profile": { "type": "string" },
                            "created": { "type": "boolean" }
                        }
                    } }
                }
            },
            "Events": {
                "type": "object",
                "required": ["events"],
                "properties": { "events": { "type": "array", "minItems": 1, "maxItems": 1000, "items": {
                    "type": "object",
                    "required": ["event_id", "kind", "namespace", "id", "campaign_id"],
                    "properties": {
                        "event_id": { "type": "string" },
                        "kind": { "enum": crate::model::api::INGESTED_KINDS },
                        "namespace": { "type": "string" },
                        "id": { "type": "string" },
                        "campaign_id": { "type": "integer" },
                        "at": { "type": "string", "format": "date-time" },
                        "message": { "type": "string" },
                        "link_alias": { "type": "string" },
                        "name": { "type": "string", "description": "A conversion's name." }
                    }
                } } }
            },
            "IngestReport": {
                "type": "object",
                "properties": {
                    "accepted": { "type": "integer" },
                    "duplicates": { "type": "integer" },
                    "not_found": { "type": "array", "items": { "type": "integer" } }
                }
            }
        }
    })
}
