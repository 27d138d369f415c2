//! How a CRM's values read, in the table, on the detail and profile pages and in forms. The
//! schema's own kinds: code words as words (`SEND_AND_LOG` → "Send and log"), locale codes as
//! languages, another user by name, date-times in the browser's zone. And the fields a CRM sends
//! beyond its schema: wire names become labels ("createdByUser" → "Created by user"), a
//! reference to another record reads as that record's name (Zurmo's `{"id":4,"value":"Ms."}` →
//! "Ms."), a nested record becomes nested fields instead of a line of JSON, and a web address
//! becomes a link. Every value lands in a text node; HTML from the CRM loses its markup and is
//! never parsed as HTML.

use leptos::prelude::*;
use serde_json::{Map, Value};
use userdeck_client::{FieldSpec, User, html};

use crate::components::formats::{DAYS, language_name};

/// Records nested deeper than this are shown as their JSON text: the raw JSON below the fields
/// has them whole, and a page of boxes inside boxes helps nobody.
const MAX_DEPTH: u8 = 3;

/// Keys that name the record an object refers to, in the order they are preferred.
const NAME_KEYS: [&str; 6] = [
    "name",
    "display_name",
    "displayName",
    "username",
    "value",
    "label",
];

/// Initialisms that read in capitals inside a label.
const INITIALISMS: [&str; 7] = ["id", "url", "api", "ip", "uri", "sip", "utc"];

/// A wire key as a label: camelCase and snake_case split into words, the first capitalised,
/// known initialisms in capitals (`avatar_url` → "Avatar URL", `pictureURL` → "Picture URL").
/// Wire keys are ASCII identifiers, so only ASCII letters change case: Rust's Unicode case
/// tables added 14 KB to the gzipped bundle for no key any of the CRMs sends.
pub fn label_of(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if matches!(c, '_' | '-' | ' ') {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
        // A capital starts a word after a lower-case letter or a digit ("createdBy"), and
        // ends a run of capitals when a lower-case letter follows it ("URLPath" → URL, Path).
        let starts = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next_lower)
            });
        if starts && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut label = String::with_capacity(key.len() + words.len());
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            label.push(' ');
        }
        let lower = w.to_ascii_lowercase();
        let all_caps = w.len() > 1 && !w.bytes().any(|b| b.is_ascii_lowercase());
        if all_caps || INITIALISMS.contains(&lower.as_str()) {
            label.push_str(&w.to_ascii_uppercase());
        } else if i == 0 {
            let mut cs = lower.chars();
            if let Some(first) = cs.next() {
                label.push(first.to_ascii_uppercase());
                label.push_str(cs.as_str());
            }
        } else {
            label.push_str(&lower);
        }
    }
    label
}

/// `v` as one line of text when it reads as one: a scalar, a reference to another record (by
/// its name), or a list of those. `None` for a record or a list holding one, which are shown as
/// nested fields. Nothing (null, "", an empty list) is the empty string.
pub fn line_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::Bool(true) => Some("Yes".into()),
        Value::Bool(false) => Some("No".into()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(text_of(s)),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                if item.is_array() {
                    return None;
                }
                // Empty members (null, "") add nothing to the line.
                let text = line_of(item)?;
                if !text.is_empty() {
                    parts.push(text);
                }
            }
            Some(parts.join(", "))
        }
        Value::Object(map) => reference_name(map),
    }
}

/// The name an object refers to another record by (`{"id":1,"username":"super"}` → "super"), or
/// `#id` for a bare `{"id":…}`; `None` for anything else. An empty object is nothing.
fn reference_name(map: &Map<String, Value>) -> Option<String> {
    if map.is_empty() {
        return Some(String::new());
    }
    let id = map.get("id").filter(|i| i.is_number() || i.is_string())?;
    if map.len() == 1 {
        return line_of(id).map(|i| format!("#{i}"));
    }
    NAME_KEYS.iter().find_map(|k| match map.get(*k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(text_of(s)),
        _ => None,
    })
}

/// A CRM's code word as words: `SEND_AND_LOG` → "Send and log", `ACTIVE` → "Active". Anything
/// that is not one (lower case, spaces, punctuation) is already written for people and stays.
pub fn code_text(s: &str) -> String {
    let is_code = s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !is_code {
        return s.to_string();
    }
    let mut text = s
        .split('_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

/// A day of the week by its number, Sunday 0 (App CRM's `first_day_of_week`): `1` → "Monday".
/// Anything else stays as it came.
pub fn weekday_text(day: &str) -> String {
    match day.trim().parse::<usize>() {
        Ok(n) if n < DAYS.len() => DAYS[n].to_string(),
        _ => day.to_string(),
    }
}

/// A locale code as the language it names, with the code the CRM keeps beside it:
/// `pt_BR` → "Brazilian Portuguese (pt_BR)". A code the browser cannot name stays as it is.
pub fn locale_text(code: &str) -> String {
    match language_name(code) {
        Some(name) => format!("{name} ({})", code.trim()),
        None => code.to_string(),
    }
}

/// The user a reference field (`manager.id`) points at: its id, and the name the CRM sends
/// beside the id in the record that holds it (Zurmo's `"manager":{"id":3,"username":"smith45"}`)
/// when it sends one. `None` when the field is empty.
pub fn user_ref(spec: &FieldSpec, user: &User) -> Option<(String, Option<String>)> {
    let id = spec.display(user).filter(|i| !i.is_empty())?;
    let name = spec
        .key
        .rsplit_once('.')
        .and_then(|(holder, _)| user.raw_text(holder))
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| match v {
            Value::Object(map) if map.len() > 1 => reference_name(&map),
            _ => None,
        })
        .filter(|n| !n.is_empty());
    Some((id, name))
}

/// How a reference reads: the user's name, or `#id` when the CRM sent only the id.
pub fn user_ref_text(id: &str, name: Option<&str>) -> String {
    name.map_or_else(|| format!("#{id}"), str::to_string)
}

/// A string as it reads: markup dropped, a date-time as [`datetime_text`] shows it (the full
/// value stays in the element's title).
fn text_of(s: &str) -> String {
    if s.contains('<') {
        return html::text_of(s);
    }
    datetime_text(s).unwrap_or_else(|| s.to_string())
}

/// A date-time as the admin reads it, to the minute: one that names its zone (App CRM's and
/// Capsule's `…Z`, or `±hh:mm`) in the browser's own time zone, one that does not (Zurmo's
/// server-local `2023-04-27 06:53:35`) as it is. `None` for a string that is not a date-time.
pub fn datetime_text(s: &str) -> Option<String> {
    let short = short_datetime(s)?;
    let Some(ms) = epoch_ms(s) else {
        return Some(short);
    };
    // The browser knows the zone's offset at that instant (daylight saving included), so no
    // zone table ships here. The rest is arithmetic: a sorted 100-row page runs this for every
    // date cell, and asking the browser for each local field instead cost 2-4 ms per re-render.
    let offset =
        js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).get_timezone_offset();
    if !offset.is_finite() {
        return Some(short);
    }
    let local = ms - (offset * 60_000.0).round() as i64;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400_000));
    let minutes = local.rem_euclid(86_400_000) / 60_000;
    Some(format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        minutes / 60,
        minutes % 60
    ))
}

/// Milliseconds since 1970 of `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]]` followed by its zone (`Z`,
/// `±HH:MM`, `±HHMM` or `±HH`); `None` without a zone or with a field out of range.
fn epoch_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // Digits only (`parse` alone would take a sign).
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b.get(r)?.iter().try_fold(0, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = b.get(16..)?;
    // Seconds and their fraction, read as whole milliseconds: parsing text as a float would
    // bring the standard library's float parser into the bundle (15 KB gzipped).
    let mut millis = 0;
    if let [b':', tail @ ..] = rest {
        let seconds = num(17..19)?;
        let mut at = 2;
        if tail.get(2) == Some(&b'.') {
            at = 3;
            let mut scale = 100;
            while let Some(d) = tail.get(at).filter(|c| c.is_ascii_digit()) {
                millis += i64::from(d - b'0') * scale;
                scale /= 10;
                at += 1;
            }
        }
        if seconds > 60 {
            return None;
        }
        millis += seconds * 1000;
        rest = tail.get(at..)?;
    }
    let offset_minutes = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), zone @ ..] => {
            let digits: Vec<i64> = zone
                .iter()
                .filter(|c| **c != b':')
                .map(|c| c.is_ascii_digit().then(|| i64::from(c - b'0')))
                .collect::<Option<_>>()?;
            let minutes = match digits[..] {
                [h1, h2] => (h1 * 10 + h2) * 60,
                [h1, h2, m1, m2] => (h1 * 10 + h2) * 60 + m1 * 10 + m2,
                _ => return None,
            };
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (counting years from
/// March, so the leap day falls at the end of a year).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01, as (year, month, day): [`days_from_civil`] inverted.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2023-07-14T15:39:14.000000Z` or `2023-07-14 15:39:14` → `2023-07-14 15:39`; `None` for a
/// string that does not start with a date and a time.
fn short_datetime(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shaped = b.len() >= 16
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16);
    shaped.then(|| format!("{} {}", &s[..10], &s[11..16]))
}

/// One field of a record: its label from the wire name (the name itself in the title), and its
/// value as one line, or as nested fields on a row of its own for a record or a list of them.
pub fn pair_view(key: &str, value: &Value) -> AnyView {
    pair_at(key, value, 0)
}

fn pair_at(key: &str, value: &Value, depth: u8) -> AnyView {
    let line = line_of(value);
    // A record takes a whole row: its nested fields need the width.
    let class = if line.is_some() { "pair" } else { "pair wide" };
    view! {
        <div class=class><dt title=key.to_string()>{label_of(key)}</dt><dd>{value_at(value, line, depth)}</dd></div>
    }
    .into_any()
}

/// `v`, whose [`line_of`] is `line`: that line ("—" for nothing), or a list or nested fields.
fn value_at(v: &Value, line: Option<String>, depth: u8) -> AnyView {
    if let Some(line) = line {
        // A shortened date-time keeps its full value a hover away (stripped markup does not).
        let title = match v {
            Value::String(s) if line != *s && !s.contains('<') => Some(s.clone()),
            _ => None,
        };
        if let Some(url) = web_link(v) {
            return view! { <a href=url rel="noopener noreferrer" target="_blank">{line}</a> }
                .into_any();
        }
        let line = if line.is_empty() { "—".into() } else { line };
        return view! { <span title=title>{line}</span> }.into_any();
    }
    if depth >= MAX_DEPTH {
        return view! { <code>{v.to_string()}</code> }.into_any();
    }
    match v {
        Value::Array(items) => view! {
            <ol class="value-list">
                {items.iter().map(|item| view! { <li>{value_at(item, line_of(item), depth + 1)}</li> }).collect_view()}
            </ol>
        }
        .into_any(),
        Value::Object(map) => view! {
            <dl class="nested">
                {map.iter().map(|(k, item)| pair_at(k, item, depth + 1)).collect_view()}
            </dl>
        }
        .into_any(),
        // Scalars always have a line.
        _ => ().into_any(),
    }
}

/// A value that is a web address (Capsule's `pictureURL`, App CRM's `avatar_url`), to be shown
/// as a link. Only `http(s)` with a host and no spaces or markup: a CRM's `javascript:` or
/// `data:` text stays text.
fn web_link(v: &Value) -> Option<String> {
    let Value::String(s) = v else { return None };
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))?;
    let plain = !rest.is_empty()
        && !rest.starts_with('/')
        && !s.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'));
    plain.then(|| s.clone())
}
