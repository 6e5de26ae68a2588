//! Printer columns of the Gateway API kinds, as kube-apiserver prints a custom resource: the
//! CRD's `additionalPrinterColumns` (kubernetes-sigs/gateway-api v1.4
//! `config/crd/standard/gateway.networking.k8s.io_{gatewayclasses,gateways,httproutes,grpcroutes}.yaml`)
//! through apiextensions-apiserver's tableconvertor: a missing value is a null cell, a list or
//! map is printed as JSON, only the first result of a `[*]` path is kept, a date is an age.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Column, NAME, Row, at, col, creation_age, list, name, text};

// A CRD column without a description is described by its JSONPath (tableconvertor.New).

const AGE: Column = col(
    "Age",
    "date",
    "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp",
);

pub(super) const GATEWAY_CLASS_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Controller",
        "string",
        "Custom resource definition column (in JSONPath format): .spec.controllerName",
    ),
    col(
        "Accepted",
        "string",
        "Custom resource definition column (in JSONPath format): .status.conditions[?(@.type==\"Accepted\")].status",
    ),
    AGE,
    Column {
        priority: 1,
        ..col(
            "Description",
            "string",
            "Custom resource definition column (in JSONPath format): .spec.description",
        )
    },
];

pub(super) const GATEWAY_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Class",
        "string",
        "Custom resource definition column (in JSONPath format): .spec.gatewayClassName",
    ),
    col(
        "Address",
        "string",
        "Custom resource definition column (in JSONPath format): .status.addresses[*].value",
    ),
    col(
        "Programmed",
        "string",
        "Custom resource definition column (in JSONPath format): .status.conditions[?(@.type==\"Programmed\")].status",
    ),
    AGE,
];

/// HTTPRoute and GRPCRoute declare the same columns.
pub(super) const ROUTE_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Hostnames",
        "string",
        "Custom resource definition column (in JSONPath format): .spec.hostnames",
    ),
    AGE,
];

/// A string column's cell: strings as they are, lists and maps as compact JSON, null when
/// the path finds nothing.
fn cell(value: Option<&Value>) -> Value {
    match value {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(s),
        Some(v) => json!(v.to_string()),
    }
}

/// `.status.conditions[?(@.type=="<ty>")].status`.
fn condition_status(obj: &Value, ty: &str) -> Value {
    cell(
        list(obj, &["status", "conditions"])
            .iter()
            .find(|c| text(c, &["type"]) == ty)
            .and_then(|c| c.get("status")),
    )
}

pub(super) fn gateway_class_row(gc: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(gc)),
        cell(at(gc, &["spec", "controllerName"])),
        condition_status(gc, "Accepted"),
        json!(creation_age(gc, now)),
        cell(at(gc, &["spec", "description"])),
    ])
}

pub(super) fn gateway_row(gw: &Value, now: Timestamp) -> Row {
    let first_address = list(gw, &["status", "addresses"])
        .iter()
        .find_map(|a| a.get("value"));
    Row::new(vec![
        json!(name(gw)),
        cell(at(gw, &["spec", "gatewayClassName"])),
        cell(first_address),
        condition_status(gw, "Programmed"),
        json!(creation_age(gw, now)),
    ])
}

pub(super) fn route_row(route: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(route)),
        cell(at(route, &["spec", "hostnames"])),
        json!(creation_age(route, now)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_hostnames_print_as_json_and_missing_values_as_null() {
        let now = Timestamp::now();
        let route = json!({"metadata": {"name": "web"}, "spec": {"hostnames": ["a.example.com", "b.example.com"]}});
        assert_eq!(
            route_row(&route, now).cells[1],
            json!("[\"a.example.com\",\"b.example.com\"]")
        );
        let bare = json!({"metadata": {"name": "web"}, "spec": {}});
        assert_eq!(route_row(&bare, now).cells[1], Value::Null);
        let gw = json!({"metadata": {"name": "gw"}, "spec": {"gatewayClassName": "sim"},
            "status": {"addresses": [{"value": "10.0.0.1"}, {"value": "10.0.0.2"}],
                       "conditions": [{"type": "Accepted", "status": "True"}, {"type": "Programmed", "status": "False"}]}});
        let cells = gateway_row(&gw, now).cells;
        assert_eq!(
            cells[1..4],
            [json!("sim"), json!("10.0.0.1"), json!("False")]
        );
    }
}
