//! Harbor's list query language: `q=` filters and `sort=`.
//!
//! `q` is a comma-separated list of `key=value` terms, each value one of: `v` (exact), `~v`
//! (contains), `[a~b]` (range, either end may be empty), `{a b}` (any of) or `(a b)` (all of,
//! for multi-valued keys such as labels). `sort` lists fields, `-` in front for descending.
//! Each list endpoint declares its [`Field`]s; anything else is refused with 400.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Order};
use sea_orm::{Condition, Value};

use crate::error::ApiError;

/// One value test of a `q` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    Exact(String),
    Fuzzy(String),
    Range(Option<String>, Option<String>),
    AnyOf(Vec<String>),
    AllOf(Vec<String>),
}

/// A parsed `q` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub key: String,
    pub matcher: Matcher,
}

/// Parses a `q` parameter.
///
/// # Errors
/// A term without `=`, or unbalanced brackets.
pub fn parse(q: &str) -> Result<Vec<Term>, ApiError> {
    // Harbor decodes `q` once more after the query string itself, and its SDK relies on it:
    // harbor-cli sends `q` pre-encoded (`Level%3Dproject%2CProjectID%3D1`), which arrives here
    // still encoded. Unlike Go's QueryUnescape, a `+` stays a `+` (robot names hold one).
    let decoded = percent_encoding::percent_decode_str(q).decode_utf8_lossy();
    let q = decoded.as_ref();
    let mut terms = Vec::new();
    for raw in split_terms(q)? {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let (key, value) = raw
            .split_once('=')
            .ok_or_else(|| ApiError::bad_request(format!("q term {raw:?} is not key=value")))?;
        terms.push(Term {
            key: key.trim().to_owned(),
            matcher: matcher(value.trim()),
        });
    }
    Ok(terms)
}

fn split_terms(q: &str) -> Result<Vec<&str>, ApiError> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in q.char_indices() {
        match c {
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&q[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(ApiError::bad_request("q has an unbalanced bracket"));
        }
    }
    if depth != 0 {
        return Err(ApiError::bad_request("q has an unbalanced bracket"));
    }
    parts.push(&q[start..]);
    Ok(parts)
}

fn words(inner: &str) -> Vec<String> {
    inner.split_whitespace().map(str::to_owned).collect()
}

fn matcher(value: &str) -> Matcher {
    let bounded =
        |open: char, close: char| value.strip_prefix(open).and_then(|v| v.strip_suffix(close));
    if let Some(inner) = bounded('[', ']')
        && let Some((low, high)) = inner.split_once('~')
    {
        let side = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        return Matcher::Range(side(low), side(high));
    }
    if let Some(inner) = bounded('{', '}') {
        return Matcher::AnyOf(words(inner));
    }
    if let Some(inner) = bounded('(', ')') {
        return Matcher::AllOf(words(inner));
    }
    match value.strip_prefix('~') {
        Some(fuzzy) => Matcher::Fuzzy(fuzzy.to_owned()),
        None => Matcher::Exact(value.to_owned()),
    }
}

/// The type of a filterable field, which decides how its values are read.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Text,
    Int,
    Bool,
    Time,
}

/// A field a list endpoint lets clients filter or sort by.
pub struct Field {
    pub name: &'static str,
    pub column: Expr,
    pub kind: Kind,
}

impl Field {
    pub fn new(name: &'static str, column: impl IntoColumnRef, kind: Kind) -> Self {
        Self {
            name,
            column: Expr::col(column),
            kind,
        }
    }

    fn value(&self, raw: &str) -> Result<Value, ApiError> {
        let bad =
            |what: &str| ApiError::bad_request(format!("{}: {raw:?} is not {what}", self.name));
        Ok(match self.kind {
            Kind::Text => Value::from(raw.to_owned()),
            Kind::Int => Value::from(raw.parse::<i64>().map_err(|_| bad("an integer"))?),
            Kind::Bool => Value::from(raw.parse::<bool>().map_err(|_| bad("true or false"))?),
            Kind::Time => Value::from(parse_time(raw).ok_or_else(|| bad("a time"))?),
        })
    }
}

/// An RFC 3339 time, a `YYYY-MM-DD HH:MM:SS` UTC time, or seconds since the epoch.
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc());
    }
    raw.parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
}

/// Turns the `q` terms whose keys are among `fields` into a condition; terms named in `skip`
/// are left for the handler (for keys that are not plain columns).
///
/// # Errors
/// An unknown key, or a value of the wrong type.
pub fn condition(terms: &[Term], fields: &[Field], skip: &[&str]) -> Result<Condition, ApiError> {
    let mut all = Condition::all();
    for term in terms.iter().filter(|t| !skip.contains(&t.key.as_str())) {
        let field = fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(&term.key))
            .ok_or_else(|| {
                let known: Vec<&str> = fields
                    .iter()
                    .map(|f| f.name)
                    .chain(skip.iter().copied())
                    .collect();
                ApiError::bad_request(format!(
                    "cannot filter by {:?}; use one of: {}",
                    term.key,
                    known.join(", ")
                ))
            })?;
        let column = field.column.clone();
        all = all.add(match &term.matcher {
            Matcher::Exact(v) => Condition::all().add(column.eq(field.value(v)?)),
            Matcher::Fuzzy(v) => Condition::all().add(column.like(format!("%{}%", escape_like(v)))),
            Matcher::Range(low, high) => {
                let mut range = Condition::all();
                if let Some(low) = low {
                    range = range.add(column.clone().gte(field.value(low)?));
                }
                if let Some(high) = high {
                    range = range.add(column.lte(field.value(high)?));
                }
                range
            }
            Matcher::AnyOf(values) | Matcher::AllOf(values) => {
                let values = values
                    .iter()
                    .map(|v| field.value(v))
                    .collect::<Result<Vec<_>, _>>()?;
                Condition::all().add(column.is_in(values))
            }
        });
    }
    Ok(all)
}

fn escape_like(value: &str) -> String {
    value.replace(['%', '_'], "")
}

/// Parses `sort` into column orders; `default` applies when it is absent.
///
/// # Errors
/// A field that cannot be sorted by.
pub fn order(
    sort: Option<&str>,
    fields: &[Field],
    default: (&str, Order),
) -> Result<Vec<(Expr, Order)>, ApiError> {
    let mut orders = Vec::new();
    let sort = sort.filter(|s| !s.trim().is_empty());
    let items: Vec<(String, Order)> = match sort {
        Some(sort) => sort
            .split(',')
            .map(|item| {
                let item = item.trim();
                match item.strip_prefix('-') {
                    Some(name) => (name.to_owned(), Order::Desc),
                    None => (item.to_owned(), Order::Asc),
                }
            })
            .collect(),
        None => vec![(default.0.to_owned(), default.1)],
    };
    for (name, direction) in items {
        let field = fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| ApiError::bad_request(format!("cannot sort by {name:?}")))?;
        orders.push((field.column.clone(), direction));
    }
    Ok(orders)
}

/// The values of key `key` among `terms`, for keys a handler interprets itself.
pub fn term<'t>(terms: &'t [Term], key: &str) -> Option<&'t Matcher> {
    terms
        .iter()
        .find(|t| t.key.eq_ignore_ascii_case(key))
        .map(|t| &t.matcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_matcher_form() {
        let terms =
            parse("name=~app,level=project,op_time=[2024-01-01 00:00:00~],id={1 2 3},labels=(a b)")
                .expect("parse");
        let matchers: Vec<_> = terms
            .iter()
            .map(|t| (t.key.as_str(), t.matcher.clone()))
            .collect();
        assert_eq!(
            matchers,
            vec![
                ("name", Matcher::Fuzzy("app".into())),
                ("level", Matcher::Exact("project".into())),
                (
                    "op_time",
                    Matcher::Range(Some("2024-01-01 00:00:00".into()), None)
                ),
                (
                    "id",
                    Matcher::AnyOf(vec!["1".into(), "2".into(), "3".into()])
                ),
                ("labels", Matcher::AllOf(vec!["a".into(), "b".into()])),
            ]
        );
        assert!(parse("name").is_err());
        assert!(parse("id={1 2").is_err());
        assert!(parse("").expect("empty").is_empty());
    }

    #[test]
    fn a_pre_encoded_q_is_decoded_once_more() {
        assert_eq!(
            parse("Level%3Dproject%2CProjectID%3D1%2Cname%3Dp%2Bci").expect("parse"),
            parse("Level=project,ProjectID=1,name=p+ci").expect("parse")
        );
        assert_eq!(
            term(&parse("name=p+ci").expect("parse"), "name"),
            Some(&Matcher::Exact("p+ci".into())),
            "a plus stays a plus"
        );
    }

    #[test]
    fn times_take_three_forms() {
        assert!(parse_time("2024-01-02T03:04:05Z").is_some());
        assert!(parse_time("2024-01-02 03:04:05").is_some());
        assert_eq!(parse_time("0"), DateTime::from_timestamp(0, 0));
        assert!(parse_time("yesterday").is_none());
    }
}
