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
            "get": {"summary": f"Get one {what}", "responses": {**ok("the record", data(ref)), **errors(400, 401, 404)}},
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
            "summary": "Get one sale", "responses": {**ok("the sale", data("#/components/schemas/Sale")), **errors(400, 401, 404)}}},
        "/openapi/spec.json": {"get": {"summary": "This description", "security": [],
                                       "responses": {"200": {"description": "OpenAPI 3 document"}}}},
        "/healthz": {"get": {"summary": "Process and database health", "security": [],
                             "responses": {**ok("healthy", {"type": "object"}), "503": {"description": "database unavailable"}}}},
        "/eventsource": {"get": {
            "summary": "The event stream of the credential's RmSystem (text/event-stream)",
            "parameters": [{"$ref": "#/components/parameters/" + p} for p in
                           ["want", "format", "rve", "snapshot", "location", "LastEventID"]],
            "responses": {"200": {"description": "SSE stream: replay or snapshot, `ready`, then live events",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                          **errors(400, 401, 403, 404, 405, 429, 503)}}},
        "/eventsource_{RmSystem}": {"get": {
            "summary": "The event stream of RmSystem; the credential must belong to it",
            "parameters": [{"name": "RmSystem", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9A-Za-z_]{1,64}$"}}] +
                          [{"$ref": "#/components/parameters/" + p} for p in
                           ["want", "format", "rve", "snapshot", "location", "LastEventID"]],
            "responses": {"200": {"description": "SSE stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                          **errors(400, 401, 403, 404, 405, 429, 503)}}},
    },
    "components": {
        "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        "parameters": {
            "want": {"name": "want", "in": "query", "required": True, "description": "comma-separated event types",
                     "schema": {"type": "string", "example": "products,levels"}},
            "format": {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "xml"]}},
            "rve": {"name": "rve", "in": "query", "description": "resume point when no Last-Event-ID header is sent",
                    "schema": {"$ref": "#/components/schemas/RVEString"}},
            "snapshot": {"name": "snapshot", "in": "query", "description": "1: current state first, then changes",
                         "schema": {"type": "string", "enum": ["0", "1"]}},
            "location": {"name": "location", "in": "query", "description": "levels, sales and barcode of one location only",
                         "schema": {"type": "integer", "minimum": 1}},
            "LastEventID": {"name": "Last-Event-ID", "in": "header", "description": "resume point; wins over rve=",
                            "schema": {"$ref": "#/components/schemas/RVEString"}},
        },
        "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {
            "type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}}}},
        "schemas": {
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
