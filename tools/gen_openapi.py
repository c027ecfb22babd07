#!/usr/bin/env python3
"""Writes src/http/openapi.json, the OpenAPI 3 description of posfeed's HTTP API.

Kept as a generator so that the shared pieces (errors, credentials, paging) are written once.
Run it after changing a route; tests check the result against the server's route table.
"""
import json
import pathlib

err = {"$ref": "#/components/responses/Error"}


def errors(*codes):
    return {str(c): err for c in codes}


def ok(desc, schema, status="200"):
    return {status: {"description": desc, "content": {"application/json": {"schema": schema}}}}


def data(ref):
    return {"type": "object", "properties": {"data": {"$ref": ref}}, "required": ["data"]}


def page(ref):
    return {"type": "object", "required": ["data", "next"], "properties": {
        "data": {"type": "array", "items": {"$ref": ref}},
        "next": {"type": ["string", "null"], "description": "cursor for `after`; null on the last page"}}}


def body(ref):
    return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}


list_params = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
    {"name": "since", "in": "query", "description": "RVE: only records changed after it, deletes included",
     "schema": {"$ref": "#/components/schemas/RVEString"}},
    {"name": "after", "in": "query", "description": "the `next` cursor of the previous page",
     "schema": {"type": "string"}},
]


def pid(name):
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}]


def record_paths(coll, single, idname, schema, inschema, what):
    ref = "#/components/schemas/" + schema
    return {
        f"/openapi/{coll}": {
            "get": {"summary": f"List {what}s, paged, or changes since an RVE", "parameters": list_params,
                    "responses": {**ok("a page", page(ref)), **errors(400, 401, 403)}},
            "post": {"summary": f"Create a {what}; fires `{coll.lower()}`", "requestBody": body("#/components/schemas/" + inschema),
                     "responses": {**ok("created", data(ref), "201"), **errors(400, 401, 403, 413)}},
        },
        f"/openapi/{coll}/{{{idname}}}": {
            "parameters": pid(idname),
            "get": {"summary": f"Get one {what}", "responses": {**ok("the record", data(ref)), **errors(400, 401, 403, 404)}},
            "patch": {"summary": f"Change a {what}; fires `{coll.lower()}` only when something changes",
                      "requestBody": body("#/components/schemas/" + inschema),
                      "responses": {**ok("the record as it now stands", data(ref)), **errors(400, 401, 403, 404)}},
            "delete": {"summary": f"Delete a {what} (kept as a tombstone, fires `{coll.lower()}` with Deleted: 1)",
                       "responses": {**ok("the tombstone", data(ref)), **errors(400, 401, 403, 404)}},
        },
    }


rve_num = {"type": "number", "description": "RVE as a number literal with 9 decimals (YYYYMMDD.HHmmSSCCC); keep the SSE id string, a double cannot hold it exactly"}
spec = {
    "openapi": "3.1.0",
    "info": {"title": "posfeed", "version": "0.1.0",
             "description": "Realtime change feed for retail POS data. Records API under /openapi/ and the Server-Sent Events feed at /eventsource. See docs/protocol.md."},
    "servers": [{"url": "/"}],
    "security": [{"ApiKey": []}],
    "paths": {
        **record_paths("Products", "Product", "Pid", "Product", "ProductInput", "product"),
        **record_paths("Customers", "Customer", "Cid", "Customer", "CustomerInput", "customer"),
        "/openapi/StockLevels": {"get": {
            "summary": "List stock levels, optionally of one product or location",
            "parameters": list_params + [
                {"name": "pid", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "location", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
            "responses": {**ok("a page", page("#/components/schemas/Level")), **errors(400, 401, 403)}}},
        "/openapi/StockAdjustments": {"post": {
            "summary": "Change a stock level by Delta or Set it (a count); fires `levels` when it changes",
            "requestBody": body("#/components/schemas/StockAdjustment"),
            "responses": {**ok("the level as it now stands", data("#/components/schemas/Level")),
                          **errors(400, 401, 403)}}},
        "/openapi/Sales": {
            "get": {"summary": "List completed sales", "parameters": list_params + [
                {"name": "location", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                "responses": {**ok("a page", page("#/components/schemas/Sale")), **errors(400, 401, 403)}},
            "post": {"summary": "Record a completed sale: one transaction group firing `sales` and `levels` with one RVE",
                     "requestBody": body("#/components/schemas/SaleInput"),
                     "responses": {**ok("the sale", data("#/components/schemas/Sale"), "201"), **errors(400, 401, 403)}}},
        "/openapi/Sales/{Sid}": {"parameters": pid("Sid"), "get": {
            "summary": "Get one sale", "responses": {**ok("the sale", data("#/components/schemas/Sale")), **errors(400, 401, 403, 404)}}},
        "/openapi/login": {"post": {
            "summary": "Log in a POS user: a session (also set as an HttpOnly cookie) and its UrlToken",
            "security": [], "requestBody": body("#/components/schemas/Login"),
            "responses": {**ok("the session", data("#/components/schemas/Session")), **errors(400, 401)}}},
        "/openapi/logout": {"post": {
            "summary": "End the session; every stream it opened closes", "security": [{"Session": []}],
            "responses": {**ok("ended", {"type": "object"}), **errors(401, 403)}}},
        "/openapi/ActiveSession/AboutMe": {"get": {
            "summary": "The session: UrlToken, RmSystem, User, Session", "security": [{"Session": []}],
            "responses": {**ok("the session", data("#/components/schemas/AboutMe")), **errors(401, 403)}}},
        "/openapi/ActiveSession/Sale": {"get": {
            "summary": "The session's current sale", "security": [{"Session": []}],
            "responses": {**ok("the sale", data("#/components/schemas/ActiveSale")), **errors(401, 403, 404)}}},
        "/openapi/ActiveSession/Sale/Items": {"post": {
            "summary": "Add an item by Pid or Barcode (starts a sale); an unknown barcode answers 404 and sends the terminal a usermessage",
            "security": [{"Session": []}], "requestBody": body("#/components/schemas/SaleItem"),
            "responses": {**ok("the sale", data("#/components/schemas/ActiveSale")), **errors(400, 401, 403, 404)}}},
        "/openapi/ActiveSession/Sale/Items/{n}": {"parameters": pid("n"), "delete": {
            "summary": "Remove line n (1-based, the line's `Line`)", "security": [{"Session": []}],
            "responses": {**ok("the sale", data("#/components/schemas/ActiveSale")), **errors(400, 401, 403, 404)}}},
        "/openapi/ActiveSession/Sale/Payments": {"post": {
            "summary": "Record a payment", "security": [{"Session": []}], "requestBody": body("#/components/schemas/Payment"),
            "responses": {**ok("the sale", data("#/components/schemas/ActiveSale")), **errors(400, 401, 403, 404)}}},
        "/openapi/ActiveSession/Sale/Complete": {"post": {
            "summary": "Complete the fully paid sale: sales + levels for the retail feed, sale (completed) for the session",
            "security": [{"Session": []}],
            "responses": {**ok("the sale", data("#/components/schemas/ActiveSale")), **errors(401, 403, 404, 409)}}},
        "/openapi/ActiveSession/Sale/Void": {"post": {
            "summary": "Void the open sale", "security": [{"Session": []}],
            "responses": {**ok("the sale", data("#/components/schemas/ActiveSale")), **errors(401, 403, 404)}}},
        "/openapi/ActiveSession/Prompts/{PromptId}": {"parameters": pid("PromptId"), "post": {
            "summary": "Answer a prompt put to this session", "security": [{"Session": []}],
            "requestBody": body("#/components/schemas/Answer"),
            "responses": {**ok("the prompt with its answer", data("#/components/schemas/Prompt")), **errors(400, 401, 403, 404, 409)}}},
        "/openapi/Sessions/{Session}/Messages": {"parameters": [{"name": "Session", "in": "path", "required": True, "schema": {"type": "string"}}], "post": {
            "summary": "Send a usermessage to a session", "requestBody": body("#/components/schemas/Message"),
            "responses": {**ok("the message", data("#/components/schemas/UserMessage"), "201"), **errors(400, 401, 403, 404)}}},
        "/openapi/Sessions/{Session}/Prompts": {"parameters": [{"name": "Session", "in": "path", "required": True, "schema": {"type": "string"}}], "post": {
            "summary": "Put a question to a session (userprompt)", "requestBody": body("#/components/schemas/PromptInput"),
            "responses": {**ok("the prompt", data("#/components/schemas/Prompt"), "201"), **errors(400, 401, 403, 404)}}},
        "/openapi/Prompts/{PromptId}": {"parameters": pid("PromptId"), "get": {
            "summary": "A prompt with its answer (empty until answered)",
            "responses": {**ok("the prompt", data("#/components/schemas/Prompt")), **errors(400, 401, 403, 404)}}},
        "/openapi/Barcodes": {"post": {
            "summary": "Report a scan: a barcode event to every subscriber wanting barcodes, Owner per subscriber",
            "requestBody": body("#/components/schemas/Scan"),
            "responses": {**ok("the scan as classified", data("#/components/schemas/Barcode"), "201"), **errors(400, 401, 403, 404)}}},
        "/openapi/spec.json": {"get": {"summary": "This description", "security": [],
                                       "responses": {"200": {"description": "OpenAPI 3 document"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (counts only, no tenant data)", "security": [],
                             "responses": {"200": {"description": "Prometheus text exposition",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/healthz": {"get": {"summary": "Process and database health", "security": [],
                             "responses": {**ok("healthy", {"type": "object"}), "503": {"description": "database unavailable"}}}},
        "/eventsource": {"get": {
            "summary": "The event stream of the credential's RmSystem (text/event-stream)",
            "parameters": [{"$ref": "#/components/parameters/" + p} for p in
                           ["want", "format", "rve", "snapshot", "location", "session", "token", "LastEventID"]],
            "responses": {"200": {"description": "SSE stream: replay or snapshot, `ready`, then live events",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                          **errors(400, 401, 403, 404, 405, 429, 503)}}},
        "/eventsource_{RmSystem}": {"get": {
            "summary": "The event stream of RmSystem; the credential must belong to it",
            "parameters": [{"name": "RmSystem", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9A-Za-z_]{1,64}$"}}] +
                          [{"$ref": "#/components/parameters/" + p} for p in
                           ["want", "format", "rve", "snapshot", "location", "session", "token", "LastEventID"]],
            "responses": {"200": {"description": "SSE stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                          **errors(400, 401, 403, 404, 405, 429, 503)}}},
    },
    "components": {
        "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                            "Session": {"type": "apiKey", "in": "cookie", "name": "posfeed_session",
                                        "description": "or the session id as session= in the query"}},
        "parameters": {
            "want": {"name": "want", "in": "query", "description": "comma-separated event types; required unless a session is given (then default sale)",
                     "schema": {"type": "string", "example": "products,levels"}},
            "format": {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "xml"]}},
            "rve": {"name": "rve", "in": "query", "description": "resume point when no Last-Event-ID header is sent",
                    "schema": {"$ref": "#/components/schemas/RVEString"}},
            "snapshot": {"name": "snapshot", "in": "query", "description": "1: current state first, then changes",
                         "schema": {"type": "string", "enum": ["0", "1"]}},
            "location": {"name": "location", "in": "query", "description": "levels, sales and barcode of one location only",
                         "schema": {"type": "integer", "minimum": 1}},
            "session": {"name": "session", "in": "query", "description": "a session id: credential, and whose sale/usermessage/userprompt are sent (want then defaults to sale)",
                        "schema": {"type": "string"}},
            "token": {"name": "token", "in": "query", "description": "a UrlToken from AboutMe (read-only credential for EventSource URLs)",
                      "schema": {"type": "string"}},
            "LastEventID": {"name": "Last-Event-ID", "in": "header", "description": "resume point; wins over rve=",
                            "schema": {"$ref": "#/components/schemas/RVEString"}},
        },
        "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {
            "type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}}}},
        "schemas": {
            "Login": {"type": "object", "additionalProperties": False, "required": ["User", "Password"], "properties": {
                "User": {"type": "string"}, "Password": {"type": "string"},
                "Location": {"type": "integer", "minimum": 1, "description": "the terminal's location (default 1)"},
                "Terminal": {"type": "string"}}},
            "Session": {"type": "object", "properties": {"Session": {"type": "string"}, "UrlToken": {"type": "string"},
                                                          "RmSystem": {"type": "string"}}},
            "AboutMe": {"type": "object", "properties": {"UrlToken": {"type": "string"}, "RmSystem": {"type": "string"},
                                                          "User": {"type": "string"}, "Session": {"type": "string"}}},
            "SaleItem": {"type": "object", "additionalProperties": False, "description": "exactly one of Pid and Barcode",
                         "properties": {"Pid": {"type": "integer", "minimum": 1}, "Barcode": {"type": "string"},
                                        "Qty": {"type": "number", "exclusiveMinimum": 0, "default": 1}}},
            "Payment": {"type": "object", "additionalProperties": False, "required": ["Amount"], "properties": {
                "Amount": {"type": "number", "exclusiveMinimum": 0}, "Method": {"type": "string", "default": "cash"}}},
            "ActiveSale": {"type": "object", "properties": {
                "Sid": {"type": "integer"}, "State": {"type": "string", "enum": ["open", "completed", "voided"]},
                "Location": {"type": "integer"}, "Lines": {"type": "array", "items": {"type": "object"}},
                "Payments": {"type": "array", "items": {"type": "object"}}, "Total": {"type": "number"},
                "Paid": {"type": "number"}, "Balance": {"type": "number"}, "RVE": rve_num}},
            "Answer": {"type": "object", "additionalProperties": False, "required": ["Answer"],
                       "properties": {"Answer": {"type": "string", "minLength": 1}}},
            "Message": {"type": "object", "additionalProperties": False, "required": ["Text"], "properties": {
                "Text": {"type": "string"}, "Severity": {"type": "string", "enum": ["info", "warning", "error"]}}},
            "UserMessage": {"type": "object", "properties": {"Id": {"type": "integer"}, "Text": {"type": "string"},
                                                              "Severity": {"type": "string"}, "RVE": rve_num}},
            "PromptInput": {"type": "object", "additionalProperties": False, "required": ["Text"], "properties": {
                "Text": {"type": "string"}, "Options": {"type": "array", "maxItems": 20, "items": {"type": "string"}}}},
            "Prompt": {"type": "object", "properties": {"PromptId": {"type": "integer"}, "Text": {"type": "string"},
                                                         "Options": {"type": "array", "items": {"type": "string"}},
                                                         "Answer": {"type": "string"}, "RVE": rve_num}},
            "Scan": {"type": "object", "additionalProperties": False, "required": ["RawScan"], "properties": {
                "RawScan": {"type": "string"}, "Session": {"type": "string"}, "Location": {"type": "integer", "minimum": 1}}},
            "Barcode": {"type": "object", "properties": {
                "RawScan": {"type": "string"}, "TypeCode": {"type": "integer"}, "TypeStr": {"type": "string"},
                "Pid": {"type": "integer"}, "Location": {"type": "integer"}, "RVE": rve_num}},
            "RVEString": {"type": "string", "pattern": "^(0|[0-9]{8}\\.[0-9]{1,9})$", "example": "20210727.091105994"},
            "Product": {"type": "object", "properties": {
                "Pid": {"type": "integer"}, "Physkey": {"type": "string"}, "Description": {"type": "string"},
                "Price": {"type": "number"}, "Colour": {"type": "string"}, "Barcode": {"type": "string"},
                "Publish": {"type": "integer", "enum": [0, 1]}, "Deleted": {"type": "integer", "enum": [0, 1]}, "RVE": rve_num}},
            "ProductInput": {"type": "object", "additionalProperties": False, "properties": {
                "Physkey": {"type": "string", "maxLength": 40, "description": "create only; random when absent"},
                "Description": {"type": "string", "maxLength": 1000}, "Price": {"type": "number", "minimum": 0},
                "Colour": {"type": "string", "maxLength": 100}, "Barcode": {"type": "string", "maxLength": 64},
                "Publish": {"oneOf": [{"type": "integer", "enum": [0, 1]}, {"type": "boolean"}]}}},
            "Customer": {"type": "object", "properties": {
                "Cid": {"type": "integer"}, "Name": {"type": "string"}, "Email": {"type": "string"},
                "Phone": {"type": "string"}, "Deleted": {"type": "integer", "enum": [0, 1]}, "RVE": rve_num}},
            "CustomerInput": {"type": "object", "additionalProperties": False, "properties": {
                "Name": {"type": "string", "minLength": 1, "maxLength": 200, "description": "required on create"},
                "Email": {"type": "string", "maxLength": 200}, "Phone": {"type": "string", "maxLength": 50}}},
            "Level": {"type": "object", "properties": {
                "Pid": {"type": "integer"}, "Location": {"type": "integer"}, "Qty": {"type": "number"},
                "Reason": {"type": "string"}, "RVE": rve_num}},
            "StockAdjustment": {"type": "object", "additionalProperties": False, "required": ["Pid", "Location"],
                                "description": "exactly one of Delta and Set", "properties": {
                "Pid": {"type": "integer", "minimum": 1}, "Location": {"type": "integer", "minimum": 1},
                "Delta": {"type": "number"}, "Set": {"type": "number", "minimum": 0},
                "Reason": {"type": "string", "maxLength": 100, "description": "default adjustment (Delta) or count (Set)"}}},
            "SaleLine": {"type": "object", "additionalProperties": False, "required": ["Pid", "Qty"], "properties": {
                "Pid": {"type": "integer", "minimum": 1}, "Qty": {"type": "number", "exclusiveMinimum": 0},
                "Price": {"type": "number", "minimum": 0, "description": "the product's price when absent"}}},
            "SaleInput": {"type": "object", "additionalProperties": False, "required": ["Location", "Lines"], "properties": {
                "Location": {"type": "integer", "minimum": 1}, "Cid": {"type": "integer", "minimum": 1},
                "Lines": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"$ref": "#/components/schemas/SaleLine"}}}},
            "Sale": {"type": "object", "properties": {
                "Sid": {"type": "integer"}, "Location": {"type": "integer"}, "Completed": {"type": "string", "format": "date-time"},
                "Total": {"type": "number"}, "Cid": {"type": "integer", "description": "0 when none"},
                "Lines": {"type": "array", "items": {"$ref": "#/components/schemas/SaleLine"}}, "RVE": rve_num}},
        },
    },
}

out = pathlib.Path(__file__).resolve().parent.parent / "src" / "http" / "openapi.json"
out.write_text(json.dumps(spec, indent=1) + "\n")
print(f"wrote {out}")
