//! SQLite's quick check, as pyrad runs it at start and pyractl before a restore
//! (pyractl compiles this same file with `#[path]`).

use rusqlite::Connection;

/// `PRAGMA quick_check`: `None` when the database is sound, else its first complaints.
pub fn quick_check(conn: &Connection) -> Option<String> {
    let rows: Result<Vec<String>, rusqlite::Error> = conn
        .prepare("PRAGMA quick_check(5)")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get::<_, String>(0))?.collect());
    match rows {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => None,
        Ok(rows) => Some(rows.join("; ")),
        Err(e) => Some(e.to_string()),
    }
}
