"""Where a durable create's bytes go, B-tree by B-tree (benches/README.md,
"Bytes per create").

Replays creates shaped like `cargo bench --bench load`'s (the store's own two
INSERTs per keyed create, 1-4 KiB bodies, sixteen connections' increasing
session ids and keys, four contacts) against a copy of a fresh mockcrm
database, BATCH creates per commit as group commit makes them, and counts
every WAL frame each commit writes by the B-tree that owns its page
(SQLite's dbstat). CHECKPOINT_EVERY commits it also counts the distinct
pages a checkpoint would copy. Python's own sqlite3 does the writing, so no
server runs; nothing here is a test.

Usage: python3 benches/wal_frames.py FRESH_DB FILL BATCH COMMITS CHECKPOINT_EVERY [PAGE_SIZE]
  FRESH_DB: a database `mockcrm serve --db FRESH_DB` made and was stopped on
  FILL: creates to make first, unmeasured; PAGE_SIZE: copy the database at
  another page size first (default: keep its own; a database made by this
  mockcrm has 1 KiB pages, one made before it 4 KiB). The copy is left in
  FRESH_DB.frames."""
import collections, hashlib, os, random, shutil, sqlite3, struct, sys, time

src, FILL, B, COMMITS, CK = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
PS = int(sys.argv[6]) if len(sys.argv) > 6 else 0
CONNS = 16
db = src + ".frames"
for f in (db, db + "-wal", db + "-shm"):
    if os.path.exists(f): os.remove(f)
if not PS:
    shutil.copy(src, db)
else:  # same schema and rows, another page size
    s = sqlite3.connect(src); s.execute(f"VACUUM INTO '{db}'"); s.close()
    t = sqlite3.connect(db); t.execute("PRAGMA journal_mode=DELETE"); t.execute(f"PRAGMA page_size={PS}"); t.execute("VACUUM"); t.close()
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL"); con.execute("PRAGMA synchronous=OFF")
con.execute("PRAGMA wal_autocheckpoint=0")
ps = con.execute("PRAGMA page_size").fetchone()[0]
org = con.execute("SELECT id FROM organisations").fetchone()[0]
rng = random.Random(1)
words = "the call was about renewal pricing and the customer asked for a follow up next week with a quote".split()
def body():
    n = rng.randint(1024, 4096); out = []
    while sum(map(len, out)) < n: out.append(rng.choice(words) + " ")
    return "".join(out)[:n]
counters = [0] * CONNS
conn_i = 0
wal = db + "-wal"
off = 32
def newframes():
    global off
    with open(wal, "rb") as f:
        f.seek(off); data = f.read()
    pages = []; i = 0
    while i + 24 + ps <= len(data):
        pages.append(struct.unpack(">I", data[i:i+4])[0]); i += 24 + ps
    off += i
    return pages
def create(tag):
    global conn_i
    k = conn_i % CONNS; conn_i += 1
    n = counters[k]; counters[k] += 1
    session = f"bench-{tag}{k}-{n}"; key = f"call-{session}"
    con.execute("SAVEPOINT w")
    con.execute("SELECT request_hash FROM idempotency_keys WHERE organisation_id=? AND key=?", (org, key)).fetchall()
    aid = "act_%016x%016x" % (time.time_ns(), rng.getrandbits(64))
    ts = "2026-12-07T08:%02d:%02d.%06dZ" % (rng.randint(0,59), rng.randint(0,59), rng.randint(0,999999))
    con.execute("""INSERT INTO activities (id, organisation_id, subject, body, body_format, type,
        received_at, contact_id, session_id, direction, duration, extra, created_at, updated_at,
        idempotency_key, conversation_log_id, message_ids, note, revision, request_id, via)
        VALUES (?,?,?,?,'text/plain','PhoneCommunication','2024-01-15T15:30:00Z',?,?,'Outbound','125',?,?,?,?,NULL,'[]',NULL,1,?,NULL)""",
        (aid, org, "Outbound Call to Jane Contact [+14155550199]", body(), f"contact-{rng.randint(1,4)}", session,
         '{"telephony_session_id":"s-%d"}' % rng.getrandbits(60), ts, ts, key, conn_i))
    con.execute("""INSERT INTO idempotency_keys (organisation_id, key, request_hash, created_activity, activity_id, created_at)
        VALUES (?,?,?,'',?,?)""", (org, key, hashlib.sha256(aid.encode()).hexdigest(), aid, ts))
    con.execute("RELEASE w")
for c in range(FILL // 16):
    con.execute("BEGIN IMMEDIATE")
    for i in range(16): create("fill")
    con.execute("COMMIT")
con.execute("PRAGMA wal_checkpoint(TRUNCATE)"); off = 32
counters = [0] * CONNS
frames = []
ck_bytes = 0; ck_pages = set()
for c in range(COMMITS):
    con.execute("BEGIN IMMEDIATE")
    for i in range(B): create("c")
    con.execute("COMMIT")
    pages = newframes(); frames.append(pages); ck_pages.update(pages)
    if CK and (c + 1) % CK == 0:
        ck_bytes += len(ck_pages) * ps; ck_pages = set()
ck_bytes += len(ck_pages) * ps
owner = {p: name for name, p in con.execute("SELECT name, pageno FROM dbstat")}
per = collections.Counter(owner.get(p, "?") for pages in frames for p in pages)
n = COMMITS * B; total = sum(per.values())
size = con.execute("PRAGMA page_count").fetchone()[0] * ps
print(f"page_size={ps} batch={B} commits={COMMITS} creates={n} db={size/1048576:.1f}MiB")
print(f"  WAL {total/COMMITS:.1f} frames/commit = {total*(ps+24)/1024/n:.2f} KiB/create; checkpoint every {CK} commits {ck_bytes/1024/n:.2f} KiB/create; sum {(total*(ps+24)+ck_bytes)/1024/n:.2f}")
for name, cnt in per.most_common():
    print(f"    {name:28s} {cnt/COMMITS:6.2f} frames/commit {cnt*(ps+24)/1024/n:6.2f} KiB/create")
