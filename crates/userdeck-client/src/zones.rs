//! Time-zone names as the CRMs accept them. Browsers list zones by their CLDR names, which keep
//! some names IANA has since replaced (`Asia/Calcutta`, `Europe/Kiev`); App CRM validates against
//! PHP's `timezone_identifiers_list()`, which has only the current ones (`Asia/Kolkata`,
//! `Europe/Kyiv`) and answers the old ones with "The timezone must be a valid timezone.".

/// Old names a browser lists, beside the IANA name that replaced each (IANA's `backward` links).
const RENAMED: [(&str, &str); 19] = [
    ("Africa/Asmera", "Africa/Asmara"),
    ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("America/Catamarca", "America/Argentina/Catamarca"),
    ("America/Coral_Harbour", "America/Atikokan"),
    ("America/Cordoba", "America/Argentina/Cordoba"),
    ("America/Godthab", "America/Nuuk"),
    ("America/Indianapolis", "America/Indiana/Indianapolis"),
    ("America/Jujuy", "America/Argentina/Jujuy"),
    ("America/Louisville", "America/Kentucky/Louisville"),
    ("America/Mendoza", "America/Argentina/Mendoza"),
    ("Asia/Calcutta", "Asia/Kolkata"),
    ("Asia/Katmandu", "Asia/Kathmandu"),
    ("Asia/Rangoon", "Asia/Yangon"),
    ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
    ("Atlantic/Faeroe", "Atlantic/Faroe"),
    ("Europe/Kiev", "Europe/Kyiv"),
    ("Pacific/Enderbury", "Pacific/Kanton"),
    ("Pacific/Ponape", "Pacific/Pohnpei"),
    ("Pacific/Truk", "Pacific/Chuuk"),
];

/// The current IANA name of a zone a browser lists; any other name as it is.
pub fn current_name(name: &str) -> &str {
    RENAMED
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name, |(_, new)| new)
}

/// A browser's zone list as the CRMs accept it: old names replaced by current ones, `UTC` added
/// (browsers leave it out, and App CRM defaults to it), sorted, each once.
pub fn accepted(browser: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut zones: Vec<String> = browser
        .into_iter()
        .map(|z| current_name(&z).to_string())
        .chain(std::iter::once("UTC".to_string()))
        .collect();
    zones.sort();
    zones.dedup();
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The zones PHP accepts, as the sandbox holds them (the same list App CRM validates with).
    fn php_zones() -> Vec<&'static str> {
        include_str!("../../userdeck-sandbox/src/timezones.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[test]
    fn every_renamed_zone_becomes_one_php_accepts() {
        let php = php_zones();
        for (old, new) in RENAMED {
            assert!(!php.contains(&old), "{old} is current after all");
            assert!(php.contains(&current_name(old)), "{old} -> {new}");
        }
        assert_eq!(current_name("Europe/Lisbon"), "Europe/Lisbon");
        assert_eq!(current_name("Not/A_Zone"), "Not/A_Zone");
    }

    #[test]
    fn the_list_is_sorted_once_each_with_utc() {
        let browser = [
            "Europe/Kiev",
            "Asia/Calcutta",
            "Europe/Kyiv",
            "America/Nuuk",
        ];
        assert_eq!(
            accepted(browser.map(String::from)),
            ["America/Nuuk", "Asia/Kolkata", "Europe/Kyiv", "UTC"]
        );
    }
}
