#!/usr/bin/env python
"""Generate (and verify) the custom-user schema fixtures for Castellan's test kit.

For each app (staff, accounts, people) and each database (sqlite, postgres, mysql) this writes
crates/castellan-testkit/fixtures/custom_user/<app>/<db>.sql: the SQL that Django's `migrate`
runs on a fresh database of that kind for contenttypes, auth, sessions and the app, namely:

  * the `django_migrations` table (MigrationRecorder.ensure_schema, which migrate runs first),
  * then, for every migration in the order of migrate's own plan
    (executor.migration_plan(graph.leaf_nodes())), the statements `sqlmigrate` prints for it
    (schema_editor(collect_sql=True), comments and BEGIN/COMMIT left out), followed by the
    INSERT INTO django_migrations row that migrate records for it (applied = FIXED_APPLIED).

Each statement ends with ";" at the end of a line, so a loader can split the file on ";\\n". Lines
starting with "-- " are comments: the header and one comment line naming each migration (these
comments precede a statement, so no chunk is comment-only). The file contains no content types,
permissions or other rows: post_migrate's create_contenttypes / create_permissions are not part of it.

How a fixture is produced (per app and database, scratch databases are created and dropped):
  1. In a fresh scratch database A, a child process collects the SQL as above, then runs the real
     `migrate` with a connection.execute_wrapper that records every executed statement, and checks
     that the collected statements occur, in order, among the executed ones and that no other
     CREATE/ALTER/DROP was executed. (MariaDB/PostgreSQL/SQLite server versions matter: e.g. Django
     uses MariaDB's native `uuid` type, and SQLite's DDL depends on the library version.)
  2. Verification (unless --no-verify): the fixture is loaded into a fresh scratch database B with
     the command-line client (sqlite3 / psql / mysql); the schema dumps of A and B
     (sqlite3 .schema / pg_dump --schema-only / mysqldump --no-data) must be identical, and so must
     their django_migrations (app, name) rows; then manage.py runs against B:
     `migrate --check`, `showmigrations --plan` (all [X]), `makemigrations --check --dry-run`,
     `check`, `migrate` (must say "No migrations to apply"; its post_migrate creates the content
     types and permissions), `createsuperuser --noinput`, and a `shell -c` smoke test
     (create_user, groups, grants, has_perm, with_perm, authenticate).
     people.Account (AbstractUser) logs in by username, so its createsuperuser/smoke test use
     username "admin"/"alice"; its UserManager also has with_perm(), which is checked too.

Usage (from anywhere; needs the interop venv python, see ../README.md):
  PY=$(scripts/django-venv.sh | tail -n1)
  python -m pip install --target /tmp/pymysql pymysql      # with $PY; only once, for MySQL/MariaDB
  $PY interop/custom_user/make_fixtures.py [--apps staff,accounts,people] [--dbs sqlite,postgres,mysql]
                                           [--out DIR] [--no-verify] [--report]

Environment: CUSTOM_USER_PG (default postgres://postgres@127.0.0.1:5432),
CUSTOM_USER_MYSQL (default mysql://root@127.0.0.1:3306), PYMYSQL_PATH (default /tmp/pymysql).
The servers must allow CREATE DATABASE / DROP DATABASE for that user.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "crates" / "castellan-testkit" / "fixtures" / "custom_user"
APPS = ("staff", "accounts", "people")
DBS = ("sqlite", "postgres", "mysql")
# migrate records `applied = now()`; the fixtures use this fixed instant instead.
FIXED_APPLIED = datetime.datetime(2025, 1, 1, 0, 0, 0, tzinfo=datetime.UTC)
DDL_PREFIXES = ("CREATE ", "ALTER ", "DROP ", "RENAME ")


def die(msg):
    print(f"make_fixtures: ERROR: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(f"make_fixtures: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Child side (runs with DJANGO_SETTINGS_MODULE=custom_settings, one app and one database)
# --------------------------------------------------------------------------------------------


def _django_setup():
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custom_settings")
    import django

    django.setup()


def _sql_string(s):
    return "'" + s.replace("'", "''") + "'"


def _server_version(connection):
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (Python sqlite3 library)"
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("SELECT version()")
            return c.fetchone()[0]
    if connection.vendor == "mysql":
        kind = "MariaDB" if connection.mysql_is_mariadb else "MySQL"
        return f"{kind} {connection.mysql_server_info}"
    return connection.vendor


def child_emit(json_out):
    _django_setup()
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    if connection.introspection.table_names():
        die(f"scratch database {connection.settings_dict['NAME']} is not empty")
    qn = connection.ops.quote_name

    # 1. django_migrations, as MigrationRecorder.ensure_schema() creates it.
    with connection.schema_editor(collect_sql=True) as editor:
        editor.create_model(MigrationRecorder.Migration)
    recorder_sql = [s for s in editor.collected_sql if not s.startswith("--")]

    # 2. The migrations, in migrate's plan order, each with the SQL sqlmigrate gives for it
    #    (loader.collect_sql, but one migration at a time so each statement keeps its migration).
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    applied = str(connection.ops.adapt_datetimefield_value(FIXED_APPLIED))
    migrations = []
    state = None
    for migration, backwards in plan:
        assert not backwards
        with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
            if state is None:
                state = executor.loader.project_state(
                    (migration.app_label, migration.name), at_end=False
                )
            state = migration.apply(state, editor, collect_sql=True)
        statements = [s for s in editor.collected_sql if not s.startswith("--")]
        insert = (
            f"INSERT INTO {qn('django_migrations')} ({qn('app')}, {qn('name')}, {qn('applied')}) "
            f"VALUES ({_sql_string(migration.app_label)}, {_sql_string(migration.name)}, "
            f"{_sql_string(applied)});"
        )
        migrations.append(
            {"app": migration.app_label, "name": migration.name, "sql": statements, "insert": insert}
        )

    # 3. Cross-check: run the real migrate and record what it executes.
    executed = []

    def record(execute, sql, params, many, context):
        executed.append((str(sql), params, many))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call_command("migrate", interactive=False, verbosity=0)

    def normalise(sql, params):
        sql = sql.strip()
        if params:
            with connection.schema_editor(collect_sql=True) as ed:
                sql = sql % tuple(map(ed.quote_value, params))
        return sql.rstrip(";").strip()

    executed_norm = [normalise(s, p) for s, p, many in executed]
    collected = [s.rstrip(";").strip() for s in recorder_sql] + [
        s.rstrip(";").strip() for m in migrations for s in m["sql"]
    ]
    problems = []
    pos = 0
    for stmt in collected:
        try:
            pos = executed_norm.index(stmt, pos) + 1
        except ValueError:
            problems.append(f"collected but not executed (in this order): {stmt}")
    collected_set = set(collected)
    extra_ddl = [
        s for s in executed_norm if s.upper().startswith(DDL_PREFIXES) and s not in collected_set
    ]
    problems += [f"executed DDL not in the collected SQL: {s}" for s in extra_ddl]
    other = sorted(
        {s for s in executed_norm if s.upper().startswith("PRAGMA") and s not in collected_set}
    )

    Path(json_out).write_text(
        json.dumps(
            {
                "django_version": django.get_version(),
                "vendor": connection.vendor,
                "server": _server_version(connection),
                "user_model": settings.AUTH_USER_MODEL,
                "recorder_sql": recorder_sql,
                "migrations": migrations,
                "problems": problems,
                "executed_pragmas": other,
                "executed_count": len(executed),
            },
            indent=1,
        )
    )


def child_columns(json_out):
    """Columns of every table (raw types as the database reports them) and foreign keys."""
    _django_setup()
    from django.db import connection

    tables = {}
    with connection.cursor() as c:
        for table in sorted(connection.introspection.table_names(c)):
            cols = []
            if connection.vendor == "sqlite":
                c.execute(f"PRAGMA table_info({connection.ops.quote_name(table)})")
                for _cid, name, typ, notnull, dflt, pk in c.fetchall():
                    cols.append(
                        {"name": name, "type": typ, "not_null": bool(notnull or pk),
                         "default": dflt, "pk": bool(pk), "extra": ""}
                    )
            elif connection.vendor == "postgresql":
                c.execute(
                    """SELECT c.column_name, format_type(a.atttypid, a.atttypmod), c.is_nullable,
                              c.column_default, c.is_identity, c.identity_generation,
                              EXISTS (SELECT 1 FROM information_schema.table_constraints tc
                                      JOIN information_schema.key_column_usage k
                                        ON k.constraint_name = tc.constraint_name
                                       AND k.table_name = tc.table_name
                                      WHERE tc.table_name = c.table_name
                                        AND tc.constraint_type = 'PRIMARY KEY'
                                        AND k.column_name = c.column_name)
                       FROM information_schema.columns c
                       JOIN pg_attribute a ON a.attrelid = c.table_name::regclass
                                          AND a.attname = c.column_name
                       WHERE c.table_schema = current_schema() AND c.table_name = %s
                       ORDER BY c.ordinal_position""",
                    [table],
                )
                for name, typ, nullable, dflt, is_id, gen, pk in c.fetchall():
                    cols.append(
                        {"name": name, "type": typ, "not_null": nullable == "NO", "default": dflt,
                         "pk": pk, "extra": f"GENERATED {gen} AS IDENTITY" if is_id == "YES" else ""}
                    )
            else:
                c.execute(
                    """SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLUMN_KEY
                       FROM information_schema.COLUMNS
                       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s
                       ORDER BY ORDINAL_POSITION""",
                    [table],
                )
                for name, typ, nullable, dflt, extra, key in c.fetchall():
                    cols.append(
                        {"name": name, "type": typ, "not_null": nullable == "NO", "default": dflt,
                         "pk": key == "PRI", "extra": extra}
                    )
            relations = connection.introspection.get_relations(c, table)
            for col in cols:
                rel = relations.get(col["name"])
                col["fk"] = f"{rel[1]}({rel[0]})" if rel else None
            tables[table] = cols
    Path(json_out).write_text(json.dumps({"vendor": connection.vendor, "tables": tables}, indent=1))


SMOKE = r'''
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection

U = get_user_model()
label, mname = U._meta.app_label, U._meta.model_name
su = U.objects.get(email="admin@example.com")           # made by createsuperuser --noinput
assert su.is_superuser and su.is_active and su.has_usable_password()
assert su.has_perm(f"{label}.delete_{mname}") and su.has_perm("nonexistent.anything")
if label == "people":  # AbstractUser + stock UserManager: create_user(username, email, password)
    login = {"username": "alice"}
    assert su.username == "admin" and su.is_staff is True and su.bio is None
    u = U.objects.create_user("alice", "Alice@Example.COM", "pw-\u00e4\u00df", bio="h\u00e9llo")
    assert U.objects.get(pk=u.pk).bio == "h\u00e9llo" and u.is_staff is False
    assert u.first_name == "" and u.date_joined is not None
    U.objects.filter(pk=u.pk).update(bio=None)
else:
    login = {"email": "Alice@example.com"}
    u = U.objects.create_user("Alice@Example.COM", "pw-\u00e4\u00df", display_name="Alice")
assert u.email == "Alice@example.com", u.email
assert not u.is_superuser and not u.has_perm(f"{label}.view_{mname}")
if label == "accounts":
    assert u.is_staff is False and su.is_staff is True and u.favourite_colour == "blue"
    assert u.date_joined is not None and u.first_name == ""
view_self = Permission.objects.get(content_type__app_label=label, codename=f"view_{mname}")
add_group = Permission.objects.get(content_type__app_label="auth", codename="add_group")
g = Group.objects.create(name="editors")
g.permissions.add(add_group)
u.groups.add(g)
u.user_permissions.add(view_self)
u = U.objects.get(pk=u.pk)                               # fresh object: no permission cache
assert u.get_user_permissions() == {f"{label}.view_{mname}"}, u.get_user_permissions()
assert u.get_group_permissions() == {"auth.add_group"}, u.get_group_permissions()
assert u.has_perm("auth.add_group") and u.has_perm(f"{label}.view_{mname}")
assert not u.has_perm("auth.change_group") and u.has_module_perms("auth")
# BaseUserManager has no with_perm() (UserManager has); ask the backend, as UserManager would.
assert set(ModelBackend().with_perm("auth.add_group")) == {u, su}
assert set(ModelBackend().with_perm("auth.add_group", include_superusers=False)) == {u}
if label == "people":
    assert set(U.objects.with_perm("auth.add_group")) == {u, su}
    assert set(U.objects.with_perm(f"{label}.view_{mname}", include_superusers=False)) == {u}
    assert U.objects.get(pk=u.pk).bio is None
assert authenticate(**login, password="pw-\u00e4\u00df") == u
assert authenticate(username=next(iter(login.values())), password="pw-\u00e4\u00df") == u
assert authenticate(**login, password="wrong") is None
U.objects.filter(pk=u.pk).update(is_active=False)
u = U.objects.get(pk=u.pk)
assert not u.has_perm("auth.add_group") and u.get_all_permissions() == set()
assert authenticate(**login, password="pw-\u00e4\u00df") is None
gt, pt = U.groups.through._meta, U.user_permissions.through._meta
fk = U._meta.model_name + "_id"
with connection.cursor() as c:
    c.execute(f"SELECT {connection.ops.quote_name(fk)} FROM {connection.ops.quote_name(gt.db_table)}")
    raw = c.fetchall()
print("SMOKE OK", label, "pk", type(u.pk).__name__, repr(u.pk),
      "| tables", gt.db_table, [f.column for f in gt.local_fields],
      pt.db_table, [f.column for f in pt.local_fields],
      "| raw", fk, "as the driver returns it:", repr(raw[0][0]))
'''


# --------------------------------------------------------------------------------------------
# Parent side: scratch databases, CLI clients, fixture files, verification
# --------------------------------------------------------------------------------------------


class Scratch:
    """A scratch database of one kind; .url is an INTEROP_DB value."""

    def __init__(self, kind, name, tmpdir):
        self.kind, self.name = kind, name
        if kind == "sqlite":
            self.path = Path(tmpdir) / f"{name}.sqlite3"
            self.url = f"sqlite:{self.path}"
        elif kind == "postgres":
            p = urlsplit(os.environ.get("CUSTOM_USER_PG", "postgres://postgres@127.0.0.1:5432"))
            self.host, self.port = p.hostname or "127.0.0.1", p.port or 5432
            self.user, self.pw = unquote(p.username or "postgres"), unquote(p.password or "")
            auth = self.user + (f":{p.password}" if p.password else "")
            self.url = f"postgres://{auth}@{self.host}:{self.port}/{name}"
        else:
            p = urlsplit(os.environ.get("CUSTOM_USER_MYSQL", "mysql://root@127.0.0.1:3306"))
            self.host, self.port = p.hostname or "127.0.0.1", p.port or 3306
            self.user, self.pw = unquote(p.username or "root"), unquote(p.password or "")
            auth = self.user + (f":{p.password}" if p.password else "")
            self.url = f"mysql://{auth}@{self.host}:{self.port}/{name}"

    def _env(self):
        env = dict(os.environ)
        if self.kind == "postgres" and self.pw:
            env["PGPASSWORD"] = self.pw
        if self.kind == "mysql" and self.pw:
            env["MYSQL_PWD"] = self.pw
        return env

    def _psql(self, db):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port),
                "-U", self.user, "-d", db]

    def _mysql(self, db=None):
        cmd = ["mysql", "-h", self.host, "-P", str(self.port), "-u", self.user, "--batch"]
        return cmd + ([db] if db else [])

    def run(self, cmd, stdin=None):
        r = subprocess.run(cmd, stdin=stdin, capture_output=True, text=True, env=self._env())
        if r.returncode:
            die(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r.stdout

    def create(self):
        if self.kind == "sqlite":
            self.path.unlink(missing_ok=True)
        elif self.kind == "postgres":
            self.run(self._psql("postgres") + ["-c", f'DROP DATABASE IF EXISTS "{self.name}"'])
            self.run(self._psql("postgres") + ["-c", f'CREATE DATABASE "{self.name}"'])
        else:
            self.run(self._mysql() + ["-e", f"DROP DATABASE IF EXISTS `{self.name}`; "
                                       f"CREATE DATABASE `{self.name}`"])

    def drop(self):
        if self.kind == "sqlite":
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        elif self.kind == "postgres":
            self.run(self._psql("postgres") + ["-c", f'DROP DATABASE IF EXISTS "{self.name}"'])
        else:
            self.run(self._mysql() + ["-e", f"DROP DATABASE IF EXISTS `{self.name}`"])

    def load(self, sql_file):
        """Apply a fixture with the command-line client."""
        if self.kind == "sqlite":
            with open(sql_file) as f:
                self.run(["sqlite3", "-bail", str(self.path)], stdin=f)
        elif self.kind == "postgres":
            self.run(self._psql(self.name) + ["-f", str(sql_file)])
        else:
            with open(sql_file) as f:
                self.run(self._mysql(self.name), stdin=f)

    def schema_dump(self):
        if self.kind == "sqlite":
            return self.run(["sqlite3", str(self.path), ".schema"])
        if self.kind == "postgres":
            out = self.run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges",
                            "-h", self.host, "-p", str(self.port), "-U", self.user, self.name])
            # Newer pg_dump versions wrap the dump in \restrict KEY ... \unrestrict KEY (random).
            return re.sub(r"(?m)^\\(un)?restrict \S+$", "", out)
        out = self.run(["mysqldump", "-h", self.host, "-P", str(self.port), "-u", self.user,
                        "--no-data", "--skip-dump-date", "--skip-comments", self.name])
        return re.sub(r" AUTO_INCREMENT=\d+", "", out)

    def migration_rows(self):
        q = "SELECT app, name FROM django_migrations ORDER BY id"
        if self.kind == "sqlite":
            out = self.run(["sqlite3", str(self.path), q])
        elif self.kind == "postgres":
            out = self.run(self._psql(self.name) + ["-A", "-t", "-c", q])
        else:
            out = self.run(self._mysql(self.name) + ["--skip-column-names", "-e", q])
        return [tuple(re.split(r"[|\t]", line)) for line in out.splitlines() if line.strip()]


def run_child(mode, app, scratch, json_out):
    env = dict(os.environ, CUSTOM_USER_APP=app, INTEROP_DB=scratch.url,
               DJANGO_SETTINGS_MODULE="custom_settings")
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), mode, json_out],
                       capture_output=True, text=True, env=env, cwd=HERE)
    if r.returncode:
        die(f"child {mode} ({app}, {scratch.kind}) failed:\n{r.stdout}{r.stderr}")
    return json.loads(Path(json_out).read_text())


def manage(app, scratch, *args, extra_env=None, expect_rc=0):
    env = dict(os.environ, CUSTOM_USER_APP=app, INTEROP_DB=scratch.url, **(extra_env or {}))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cmd = [sys.executable, str(HERE / "manage.py"), *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE)
    if r.returncode != expect_rc:
        die(f"manage.py {' '.join(args)} ({app}, {scratch.kind}) exited {r.returncode}, "
            f"expected {expect_rc}:\n{r.stdout}{r.stderr}")
    return r.stdout + r.stderr


def render_fixture(app, db, data, command):
    user_model = {"staff": "staff.Person", "accounts": "accounts.Member",
                  "people": "people.Account"}[app]
    lines = [
        f"-- Castellan test fixture: Django {data['django_version']} schema for AUTH_USER_MODEL = "
        f"{user_model} on {db}",
        f"-- Server: {data['server']}",
        f"-- Generated by: {command}",
        "--   (interop/custom_user/make_fixtures.py, settings custom_settings.py, "
        f"CUSTOM_USER_APP={app}, DEFAULT_AUTO_FIELD=BigAutoField)",
        "-- Contents: the django_migrations table, then for each migration of a fresh `migrate` of",
        f"--   contenttypes, auth, sessions and {app} (in migrate's plan order) the SQL that",
        "--   `sqlmigrate` prints for it (without BEGIN/COMMIT) and the django_migrations row",
        f"--   migrate records for it (applied = {FIXED_APPLIED.isoformat()}).",
        "--   No content types or permissions (post_migrate creates those when migrate runs).",
        "-- Every statement ends with a semicolon at the end of a line (split on semicolon-newline).",
        "--",
        "-- django_migrations (MigrationRecorder.ensure_schema)",
    ]
    for s in data["recorder_sql"]:
        lines.append(s)
    for m in data["migrations"]:
        lines.append(f"-- {m['app']}.{m['name']}")
        lines.extend(m["sql"])
        lines.append(m["insert"])
    for line in lines:
        if not line.startswith("-- ") and line != "--":
            assert line.endswith(";") and "\n" not in line, line
        else:
            assert ";" not in line, line
    return "\n".join(lines) + "\n"


def verify(app, db, fixture, reference, tmpdir, report):
    scratch = Scratch(db, f"castellan_cu_verify_{app}_{db}_{os.getpid()}", tmpdir)
    scratch.create()
    try:
        scratch.load(fixture)
        if scratch.schema_dump() != reference["schema"]:
            a = Path(tmpdir) / f"{app}_{db}_migrate.schema"
            b = Path(tmpdir) / f"{app}_{db}_fixture.schema"
            a.write_text(reference["schema"])
            b.write_text(scratch.schema_dump())
            diff = subprocess.run(["diff", "-u", str(a), str(b)], capture_output=True, text=True)
            die(f"{fixture}: schema differs from what migrate created:\n{diff.stdout}")
        if scratch.migration_rows() != reference["rows"]:
            die(f"{fixture}: django_migrations rows differ: {scratch.migration_rows()} "
                f"!= {reference['rows']}")
        manage(app, scratch, "migrate", "--check")
        plan = manage(app, scratch, "showmigrations", "--plan")
        if "[ ]" in plan or plan.count("[X]") != len(reference["rows"]):
            die(f"showmigrations --plan ({app}, {db}):\n{plan}")
        manage(app, scratch, "makemigrations", "--check", "--dry-run")
        manage(app, scratch, "check", "--database", "default")
        out = manage(app, scratch, "migrate")
        if "No migrations to apply" not in out:
            die(f"migrate on the fixture ({app}, {db}) did something:\n{out}")
        su_env = {
            "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
            "DJANGO_SUPERUSER_PASSWORD": "admin-pw",
            "DJANGO_SUPERUSER_DISPLAY_NAME": "Admin",
        }
        if app == "people":  # AbstractUser: USERNAME_FIELD = "username", REQUIRED_FIELDS = ["email"]
            su_env = {"DJANGO_SUPERUSER_USERNAME": "admin", "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
                      "DJANGO_SUPERUSER_PASSWORD": "admin-pw"}
        manage(app, scratch, "createsuperuser", "--noinput", extra_env=su_env)
        smoke = manage(app, scratch, "shell", "-c", SMOKE)
        smoke_line = [line for line in smoke.splitlines() if line.startswith("SMOKE OK")]
        if not smoke_line:
            die(f"smoke test ({app}, {db}) printed no SMOKE OK:\n{smoke}")
        shown = fixture.relative_to(REPO) if fixture.is_relative_to(REPO) else fixture  # --out elsewhere
        log(f"  verified {shown}: {smoke_line[0]}")
        if report:
            cols = run_child("--_columns", app, scratch, str(Path(tmpdir) / "cols.json"))
            print_report(app, db, cols)
    finally:
        scratch.drop()


def print_report(app, db, cols):
    print(f"\n### {app} / {db}\n")
    for table, columns in cols["tables"].items():
        print(f"{table}:")
        for c in columns:
            flags = []
            if c["pk"]:
                flags.append("PK")
            flags.append("NOT NULL" if c["not_null"] else "NULL")
            if c["default"] is not None:
                flags.append(f"DEFAULT {c['default']}")
            if c["extra"]:
                flags.append(c["extra"])
            if c["fk"]:
                flags.append(f"FK -> {c['fk']}")
            print(f"  {c['name']:<18} {c['type']:<24} {' '.join(flags)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apps", default=",".join(APPS))
    ap.add_argument("--dbs", default=",".join(DBS))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--report", action="store_true",
                    help="print every verified database's columns (types, NULL, defaults, FKs)")
    args = ap.parse_args()
    apps = [a for a in args.apps.split(",") if a]
    dbs = [d for d in args.dbs.split(",") if d]
    for a in apps:
        if a not in APPS:
            die(f"unknown app {a!r}")
    for d in dbs:
        if d not in DBS:
            die(f"unknown database {d!r}")
    command = "python interop/custom_user/make_fixtures.py"
    if args.apps != ",".join(APPS):
        command += f" --apps {args.apps}"
    if args.dbs != ",".join(DBS):
        command += f" --dbs {args.dbs}"

    tmpdir = tempfile.mkdtemp(prefix="castellan_cu_")
    try:
        for app in apps:
            for db in dbs:
                scratch = Scratch(db, f"castellan_cu_gen_{app}_{db}_{os.getpid()}", tmpdir)
                scratch.create()
                try:
                    data = run_child("--_emit", app, scratch, str(Path(tmpdir) / "emit.json"))
                    if data["problems"]:
                        die(f"({app}, {db}) collected SQL does not match what migrate ran:\n  "
                            + "\n  ".join(data["problems"]))
                    reference = {"schema": scratch.schema_dump(), "rows": scratch.migration_rows()}
                finally:
                    scratch.drop()
                want_rows = [(m["app"], m["name"]) for m in data["migrations"]]
                if reference["rows"] != want_rows:
                    die(f"({app}, {db}) migrate recorded {reference['rows']}, plan was {want_rows}")
                fixture = args.out / app / f"{db}.sql"
                fixture.parent.mkdir(parents=True, exist_ok=True)
                fixture.write_text(render_fixture(app, db, data, command))
                n = sum(len(m["sql"]) for m in data["migrations"]) + len(data["recorder_sql"])
                log(f"wrote {fixture}: {n} DDL statements, {len(want_rows)} migrations "
                    f"({data['server']}; migrate executed {data['executed_count']} statements"
                    + (f", incl. {data['executed_pragmas']}" if data["executed_pragmas"] else "")
                    + ")")
                if not args.no_verify:
                    verify(app, db, fixture, reference, tmpdir, args.report)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--_emit":
        child_emit(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--_columns":
        child_columns(sys.argv[2])
    else:
        main()
