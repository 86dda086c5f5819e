//! `serve` on databases it cannot use: read-only files and folders, as
//! root and as a user, each refused with one line saying what to do.

use super::*;

#[derive(Clone, Copy, PartialEq)]
enum RunAs {
    Me,
    Nobody,
    /// Root, and `nobody` cannot run it here: permissions cannot be tested.
    RootOnly,
}

impl RunAs {
    fn detect(dir: &Path) -> RunAs {
        use std::os::unix::fs::MetadataExt;
        // std has no geteuid: a new file is owned by the effective user.
        let probe = dir.join(".whoami");
        std::fs::write(&probe, b"").expect("write probe");
        let root = std::fs::metadata(&probe).expect("probe metadata").uid() == 0;
        std::fs::remove_file(&probe).expect("remove probe");
        if !root {
            return RunAs::Me;
        }
        let missing = dir.join("missing-probe").join("crm.db");
        let probe = RunAs::Nobody.run(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            &missing.display().to_string(),
        ]);
        match probe {
            Some(output) if String::from_utf8_lossy(&output.stderr).contains("does not exist") => {
                RunAs::Nobody
            }
            _ => RunAs::RootOnly,
        }
    }

    /// `None` when the binary cannot even be started.
    fn run(self, args: &[&str]) -> Option<Output> {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(BIN);
        command.args(args);
        if self == RunAs::Nobody {
            command.uid(65534).gid(65534);
        }
        command.output().ok()
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A database mockcrm made, closed again.
fn make_database(path: &Path) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let server = mockcrm::Server::start(mockcrm::ServerConfig {
            location: mockcrm::Location::File(path.to_owned()),
            ..mockcrm::ServerConfig::ephemeral()
        })
        .await
        .expect("database created");
        server.shutdown().await;
    });
}

/// A read-only database file, and a read-only directory with and without
/// the database in it.
fn read_only_cases(dir: &Path, writable: &Path, serve: &dyn Fn(&Path) -> Output) {
    let read_only = writable.join("read-only.db");
    make_database(&read_only);
    chmod(&read_only, 0o444);
    assert_one_line_failure(
        &serve(&read_only),
        "read-only.db is read-only; make it writable",
    );

    let read_only_dir = dir.join("ro");
    std::fs::create_dir(&read_only_dir).expect("mkdir");
    make_database(&read_only_dir.join("existing.db"));
    chmod(&read_only_dir.join("existing.db"), 0o666);
    chmod(&read_only_dir, 0o555);
    for name in ["new.db", "existing.db"] {
        let output = serve(&read_only_dir.join(name));
        assert_one_line_failure(&output, "is read-only, and mockcrm keeps");
    }
    chmod(&read_only_dir, 0o755);
}

#[test]
fn serve_refuses_unusable_databases_with_one_line_saying_what_to_do() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path();
    chmod(dir, 0o755);
    let run_as = RunAs::detect(dir);
    let serve = |db: &Path| {
        let db = db.display().to_string();
        run_as
            .run(&["serve", "--addr", "127.0.0.1:0", "--db", &db])
            .expect("mockcrm runs")
    };
    let writable = dir.join("rw");
    std::fs::create_dir(&writable).expect("mkdir");
    chmod(&writable, 0o777);

    let not_sqlite = writable.join("notes.db");
    std::fs::write(
        &not_sqlite,
        "not the tables you are looking for".repeat(200),
    )
    .expect("write");
    assert_one_line_failure(&serve(&not_sqlite), "is not a mockcrm database");

    // Someone else's SQLite database: refused, and left exactly as it was.
    let foreign = writable.join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .and_then(|conn| {
            conn.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")
        })
        .expect("foreign database");
    let before = std::fs::read(&foreign).expect("read");
    assert_one_line_failure(&serve(&foreign), "is a SQLite database but not mockcrm's");
    assert_eq!(std::fs::read(&foreign).expect("read"), before, "untouched");

    let damaged = writable.join("damaged.db");
    make_database(&damaged);
    let mut bytes = std::fs::read(&damaged).expect("read");
    bytes[100..2100].fill(0xA5);
    std::fs::write(&damaged, bytes).expect("write");
    assert_one_line_failure(&serve(&damaged), "is damaged");

    if run_as == RunAs::RootOnly {
        eprintln!("read-only cases skipped: running as root, and nobody cannot run {BIN} here");
    } else {
        read_only_cases(dir, &writable, &serve);
    }

    assert_one_line_failure(
        &serve(&dir.join("missing").join("crm.db")),
        "does not exist; create it",
    );
    assert_one_line_failure(&serve(&writable), "is a directory");
    assert_one_line_failure(&serve(Path::new("")), "--db: is empty");

    let held = writable.join("held.db");
    let held_name = held.display().to_string();
    let _served = Served::start(&["--addr", "127.0.0.1:0", "--db", &held_name]);
    assert_one_line_failure(&serve(&held), "is in use by another mockcrm");
}
