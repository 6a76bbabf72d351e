use std::path::Path;

use super::*;

#[test]
fn stamps_are_utc_and_sort_by_time() {
    assert_eq!(stamp(0), "19700101-000000");
    assert_eq!(stamp(951_782_400 + 3661), "20000229-010101");
    assert_eq!(stamp(1_767_225_599), "20251231-235959");
}

#[test]
fn what_a_backup_leaves_out() {
    for rel in [
        "run",
        "run/pyrad.sock",
        "data/backups",
        "data/backups/pyra-20250101-000000.db",
        "data/pyra.db.replaced-20250101-000000",
        "data/pyra.db.replaced-20250101-000000-wal",
        "replaced-20250101-000000",
        "replaced-20250101-000000/config.toml",
        ".restore-20250101-000000",
        "pyra-backup.toml",
    ] {
        assert!(left_out(Path::new(rel)).is_some(), "{rel} is left out");
    }
    for rel in ["config.toml", "data", "data/pyra.db", "data/plugins/x/run", "memory/run", "bots/matrix", "vault"] {
        assert_eq!(left_out(Path::new(rel)), None, "{rel} is kept");
    }
}

#[test]
fn modes_follow_the_home_policy() {
    assert_eq!(mode_for(Path::new("memory"), true, false), 0o700);
    assert_eq!(mode_for(Path::new("config.toml"), false, true), 0o600);
    assert_eq!(mode_for(Path::new("vault/identity.txt"), false, false), 0o400);
    assert_eq!(mode_for(Path::new("vault/.vault_lock"), false, false), 0o400);
    assert_eq!(mode_for(Path::new("vault/secrets.age"), false, false), 0o600);
    assert_eq!(mode_for(Path::new("plugins/x/server.py"), false, true), 0o700);
    assert_eq!(mode_for(Path::new("plugins/x/plugin.toml"), false, false), 0o600);
    assert_eq!(mode_for(Path::new("data/plugins/x/tool"), false, true), 0o600);
}

#[test]
fn sizes_read_for_people() {
    assert_eq!(human_size(812), "812 bytes");
    assert_eq!(human_size(3 * 1024 + 512), "3.5 KiB");
    assert_eq!(human_size(12 * 1024 * 1024), "12.0 MiB");
}
