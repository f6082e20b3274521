//! Built-in plate formats per region, as data: a region is a list of patterns in the syntax
//! of [`super::patterns`] (`@` letter, `#` digit, `?` any, `[..]` set, `{n,m}` repetition;
//! spaces and dashes only show the layout). A reading that fits a pattern of the configured
//! region is preferred over free text by `pattern_bonus`; users add their own formats with
//! `patterns = [...]`. Sources: the national formats as published by each registration
//! authority (current scheme first, older schemes still on the road after it).

/// European Union and neighbours (country codes as on the plate's strip).
pub const EU: &[&str] = &[
    "@{1,2} #{3,5} @",
    "@{1,2} #{2,4} @@",
    "@{1,2} #{1,3} @@@", // AT
    "# @@@ ###",
    "@@@ ###",            // BE
    "@{1,2} #### @@",     // BG
    "@@ ###{1,2} @{1,2}", // HR
    "@@@ ###",            // CY, FI, LT, MT, SE (old)
    "# @? ####",          // CZ (current)
    "@@@ ##-##",
    "@@ ##-##", // CZ (before 2001)
    "@@ #####", // DK, NO
    "### @@@",  // EE
    "@@-###-@@",
    "###-@@-##",
    "####-@@-##", // FR (SIV, FNI)
    "@{1,3} @{1,2} #{1,4}",
    "@{1,3} @{1,2} #{1,3}[EH]", // DE
    "@@@-####",                 // GR
    "@@@-###",
    "@@ @@-###", // HU
    "### @{1,2} #{1,6}",
    "## @{1,2} #{1,6}", // IE
    "@@ ### @@",        // IT, SK
    "@@-####",
    "@@-###", // LV, LU
    "@@ #####",
    "@@ ####@",
    "@@ ###@@",
    "@@ #@###",
    "@@ #@@##", // PL, two-letter district
    "@@@ @###",
    "@@@ ##@@",
    "@@@ #@##",
    "@@@ ##@#",
    "@@@ #@@#",
    "@@@ @@##",
    "@@@ ####",
    "@@@ ###@", // PL, three-letter district
    "@@-##-@@",
    "##-##-@@",
    "##-@@-##",
    "@@-##-##",          // PT
    "@{1,2} #{2,3} @@@", // RO
    "@@ @@-###",
    "@@ ##-##@", // SI
    "#### @@@",
    "@{1,2} #### @{1,2}", // ES
    "@@@ ##[0-9A-Z]",     // SE
    "@@ #{1,6}",          // CH
    "@@## @@@",
    "@### @@@",
    "@@@ ###@", // GB
    "##-@@@-#",
    "#-@@@-##",
    "@@-###-@",
    "@-###-@@",
    "@@@-##-@",
    "#-@@-###",
    "###-@@-#", // NL
];

/// Brazil: the grey plates before 2018 and Mercosur.
pub const BR: &[&str] = &["@@@-####", "@@@ #@##"];

/// United States: state formats vary too much to list; any 2 to 8 symbols.
pub const US: &[&str] = &["?{2,8}"];

/// Every named region.
pub const REGIONS: &[(&str, &[&str])] = &[("eu", EU), ("br", BR), ("us", US)];

/// The regions `auto` combines (the US list accepts any text, so it adds nothing there).
pub const AUTO: &[&str] = &["eu", "br"];

/// The patterns of a region name: `auto`, `none`, or one of [`REGIONS`].
pub fn lookup(name: &str) -> Option<Vec<&'static str>> {
    let get = |n: &str| REGIONS.iter().find(|(r, _)| *r == n).map(|(_, p)| p.to_vec());
    match name {
        "none" => Some(Vec::new()),
        "auto" => Some(AUTO.iter().filter_map(|r| get(r)).flatten().collect()),
        other => get(other),
    }
}

/// The names [`lookup`] knows, for messages.
pub fn names() -> String {
    let mut all = vec!["auto", "none"];
    all.extend(REGIONS.iter().map(|(r, _)| *r));
    all.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plate::read::charset::DEFAULT_ALPHABET;
    use crate::plate::read::patterns::expand_all;

    #[test]
    fn every_builtin_pattern_parses() {
        let abc: Vec<char> = DEFAULT_ALPHABET.chars().collect();
        for (name, list) in REGIONS {
            let expanded = expand_all(list, &abc).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!expanded.is_empty(), "{name}");
        }
    }

    #[test]
    fn auto_is_europe_and_brazil_and_unknown_names_are_none() {
        let auto = lookup("auto").expect("auto");
        assert_eq!(auto.len(), EU.len() + BR.len());
        assert_eq!(lookup("none"), Some(Vec::new()));
        assert!(lookup("mars").is_none());
        assert!(names().contains("us"));
    }
}
