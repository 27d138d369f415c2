//! What the form's format and time-zone pickers need from the browser: a preview of a date in a
//! PHP date format (App CRM's `date_format`/`time_format`), and the browser's own list of IANA
//! time zones (`Intl.supportedValuesOf('timeZone')`), so no time-zone table ships in the bundle.

use wasm_bindgen::{JsCast, JsValue};

/// The parts of a moment a PHP format can print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    pub year: i32,
    /// 1–12.
    pub month: u32,
    pub day: u32,
    /// 0 = Sunday.
    pub weekday: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Renders `format` the way PHP's `date()` does for the characters App CRM's formats use
/// (`d j D l m n F M Y y H G h g i s A a`); a backslash escapes the next character.
pub fn php_date(format: &str, m: Moment) -> String {
    let month = MONTHS
        .get(m.month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("");
    let day = DAYS.get(m.weekday as usize).copied().unwrap_or("");
    let h12 = match m.hour % 12 {
        0 => 12,
        h => h,
    };
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            'd' => out.push_str(&format!("{:02}", m.day)),
            'j' => out.push_str(&m.day.to_string()),
            'D' => out.push_str(day.get(..3).unwrap_or(day)),
            'l' => out.push_str(day),
            'm' => out.push_str(&format!("{:02}", m.month)),
            'n' => out.push_str(&m.month.to_string()),
            'F' => out.push_str(month),
            'M' => out.push_str(month.get(..3).unwrap_or(month)),
            'Y' => out.push_str(&m.year.to_string()),
            'y' => out.push_str(&format!("{:02}", m.year.rem_euclid(100))),
            'H' => out.push_str(&format!("{:02}", m.hour)),
            'G' => out.push_str(&m.hour.to_string()),
            'h' => out.push_str(&format!("{h12:02}")),
            'g' => out.push_str(&h12.to_string()),
            'i' => out.push_str(&format!("{:02}", m.minute)),
            's' => out.push_str(&format!("{:02}", m.second)),
            'A' => out.push_str(if m.hour < 12 { "AM" } else { "PM" }),
            'a' => out.push_str(if m.hour < 12 { "am" } else { "pm" }),
            other => out.push(other),
        }
    }
    out
}

/// Now, in the browser's local time.
pub fn now() -> Moment {
    let d = js_sys::Date::new_0();
    Moment {
        year: d.get_full_year() as i32,
        month: d.get_month() + 1,
        day: d.get_date(),
        weekday: d.get_day(),
        hour: d.get_hours(),
        minute: d.get_minutes(),
        second: d.get_seconds(),
    }
}

/// The IANA time zones the browser knows, sorted; just `UTC` on a browser without
/// `Intl.supportedValuesOf`.
pub fn time_zones() -> Vec<String> {
    let list = (|| -> Option<Vec<String>> {
        let intl = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Intl")).ok()?;
        let f = js_sys::Reflect::get(&intl, &JsValue::from_str("supportedValuesOf")).ok()?;
        let f: js_sys::Function = f.dyn_into().ok()?;
        let arr = f.call1(&intl, &JsValue::from_str("timeZone")).ok()?;
        let arr: js_sys::Array = arr.dyn_into().ok()?;
        Some(arr.iter().filter_map(|v| v.as_string()).collect())
    })();
    let mut zones = list.unwrap_or_default();
    if !zones.iter().any(|z| z == "UTC") {
        zones.push("UTC".into());
    }
    zones.sort();
    zones
}
