//! `haul new stage NAME`: a ready stage crate (stage with options, its tests, a binary with
//! every haul command, a haul.toml route, a README), from the templates in
//! `pipeline/app/templates/stage/`.

use std::path::{Path, PathBuf};

/// The haul checkout this binary was built from (the new crate's path dependencies).
pub const BUILT_FROM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

const TEMPLATES: [(&str, &str); 5] = [
    ("Cargo.toml", include_str!("../templates/stage/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("../templates/stage/lib.rs.tmpl")),
    ("src/main.rs", include_str!("../templates/stage/main.rs.tmpl")),
    ("haul.toml", include_str!("../templates/stage/haul.toml.tmpl")),
    ("README.md", include_str!("../templates/stage/README.md.tmpl")),
];

/// Whether `name` can be a stage, crate and binary name: 1-40 of `a-z 0-9 -`, starting
/// with a letter, no `--`, not ending in `-`. The error names the rule broken.
pub fn check_name(name: &str) -> Result<(), String> {
    let rule = "1-40 characters of a-z, 0-9 and -, starting with a letter, no -- and no - at the end";
    let ok = (1..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.contains("--")
        && !name.ends_with('-');
    if !ok {
        return Err(format!("stage name {name:?} is not usable: {rule}"));
    }
    if ["haul", "test", "core", "std", "self"].contains(&name) || name.starts_with("haul-") {
        return Err(format!(
            "stage name {name:?} is taken (haul's own crates, Rust's reserved names)"
        ));
    }
    Ok(())
}

/// The files of the crate, relative to its folder.
pub fn stage_files(name: &str, haul_root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    check_name(name)?;
    let ident = name.replace('-', "_");
    let type_name: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let haul = haul_root.display().to_string().replace('\\', "/");
    Ok(TEMPLATES
        .iter()
        .map(|(path, text)| {
            let text = text
                .replace("{{name}}", name)
                .replace("{{ident}}", &ident)
                .replace("{{Type}}", &type_name)
                .replace("{{haul}}", &haul);
            (PathBuf::from(path), text)
        })
        .collect())
}

/// Writes the crate into `dir`, which must not exist yet or be empty.
pub fn write(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), String> {
    if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
        return Err(format!("{} already exists and is not an empty folder", dir.display()));
    }
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_crate_and_stage_rules() {
        assert!(check_name("door-events").is_ok());
        assert!(check_name("v2").is_ok());
        for bad in [
            "",
            "Door",
            "2door",
            "door_events",
            "door--x",
            "door-",
            "haul-x",
            "test",
            &"a".repeat(41),
        ] {
            let err = check_name(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn placeholders_are_all_filled() {
        let files = stage_files("door-events", Path::new("/src/haul")).unwrap();
        let lib = &files.iter().find(|(p, _)| p.ends_with("src/lib.rs")).unwrap().1;
        assert!(lib.contains("pub struct DoorEvents {") && lib.contains("\"door-events\""));
        let main = &files.iter().find(|(p, _)| p.ends_with("src/main.rs")).unwrap().1;
        assert!(main.contains("door_events::registry()"));
        let cargo = &files.iter().find(|(p, _)| p.ends_with("Cargo.toml")).unwrap().1;
        assert!(cargo.contains("path = \"/src/haul/pipeline/core\""));
        assert!(files.iter().all(|(_, text)| !text.contains("{{")), "a placeholder left");
    }
}
