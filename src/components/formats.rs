//! What the form's format, time-zone and locale fields need from the browser: a preview of a date
//! in a PHP date format (App CRM's `date_format`/`time_format`), the browser's own list of IANA
//! time zones (`Intl.supportedValuesOf('timeZone')`) and its names of languages
//! (`Intl.DisplayNames`), so no time-zone or language table ships in the bundle.

use wasm_bindgen::prelude::wasm_bindgen;
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
/// Day names, Sunday first (PHP's `w` numbering, and App CRM's `first_day_of_week`).
pub const DAYS: [&str; 7] = [
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

/// The IANA time zones the browser knows, under the names the CRMs accept (`Asia/Kolkata`, not
/// the browser's `Asia/Calcutta`), sorted, with `UTC`; just `UTC` on a browser without
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
    userdeck_client::zones::accepted(list.unwrap_or_default())
}

#[wasm_bindgen]
extern "C" {
    /// `Intl.DisplayNames`, bound here rather than through js-sys so that both the constructor
    /// and `of` report a `RangeError` (a malformed code) as an `Err` instead of throwing through
    /// Rust frames.
    #[wasm_bindgen(js_namespace = Intl, js_name = DisplayNames)]
    type DisplayNames;

    #[wasm_bindgen(constructor, js_namespace = Intl, js_class = DisplayNames, catch)]
    fn new(locales: &js_sys::Array, options: &js_sys::Object) -> Result<DisplayNames, JsValue>;

    #[wasm_bindgen(method, catch, js_class = DisplayNames)]
    fn of(this: &DisplayNames, code: &str) -> Result<JsValue, JsValue>;
}

thread_local! {
    /// English names (the console's own language), `None` where the browser has no
    /// `Intl.DisplayNames`. Built once: a 100-row page may name a language in every row.
    static LANGUAGE_NAMES: Option<DisplayNames> = {
        let options = js_sys::Object::new();
        let set = |k: &str, v: &str| js_sys::Reflect::set(&options, &k.into(), &v.into()).is_ok();
        (set("type", "language") && set("fallback", "none"))
            .then(|| DisplayNames::new(&js_sys::Array::of1(&"en".into()), &options).ok())
            .flatten()
    };
}

/// The English name of the language a locale code names (`pt_BR` → "Brazilian Portuguese",
/// `it` → "Italian"), or `None` for a code the browser cannot name: malformed (`en_`), unknown
/// (`xx`), or a browser without `Intl.DisplayNames`. CRMs write `_` where BCP 47 has `-`.
pub fn language_name(code: &str) -> Option<String> {
    let code = code.trim();
    let tag = code.replace('_', "-");
    let well_formed = !code.is_empty()
        && tag.split('-').all(|part| {
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if !well_formed {
        return None;
    }
    LANGUAGE_NAMES
        .with(|names| names.as_ref()?.of(&tag).ok()?.as_string())
        // A browser that only echoes the code back names nothing.
        .filter(|name| !name.eq_ignore_ascii_case(&tag) && !name.is_empty())
}
