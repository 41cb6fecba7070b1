//! Turning API values into text for people.

/// A byte count with a binary unit, e.g. `1.5 GiB`; negative means no limit.
pub fn bytes(value: i64) -> String {
    if value < 0 {
        return "unlimited".into();
    }
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut amount = value as f64;
    let mut unit = 0;
    while amount >= 1024.0 && unit + 1 < UNITS.len() {
        amount /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} B")
    } else {
        format!("{amount:.1} {}", UNITS[unit])
    }
}

/// An RFC 3339 timestamp shortened to date and minute, in UTC.
pub fn time(value: &str) -> String {
    match value.get(..16) {
        Some(prefix) => format!("{} UTC", prefix.replace('T', " ")),
        None => value.to_owned(),
    }
}

/// Seconds since the epoch as date and minute, in UTC.
pub fn epoch(seconds: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(seconds as f64 * 1000.0));
    time(&String::from(date.to_iso_string()))
}
