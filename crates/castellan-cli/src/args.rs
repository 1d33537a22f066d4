//! The command-line grammar (a stable interface: scripts and tests depend on it).

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Django-compatible users, groups and permissions, from the shell.
#[derive(Debug, Parser)]
#[command(name = "castellan", version, about)]
pub struct Cli {
    /// Database URL (sqlite://PATH, postgres://…, mysql://…). Default: CASTELLAN_DATABASE_URL, then
    /// DATABASE_URL, then sqlite://castellan.sqlite3.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// The Django project's user model, as AUTH_USER_MODEL names it (APP_LABEL.ModelName). Its
    /// table must exist: Django's migrations make it.
    #[arg(
        long,
        global = true,
        env = "CASTELLAN_USER_MODEL",
        default_value = "auth.User"
    )]
    pub user_model: String,
    /// The user model's USERNAME_FIELD: every username argument and JSON "username" is its value
    /// (an e-mail address, say).
    #[arg(
        long,
        global = true,
        env = "CASTELLAN_USERNAME_FIELD",
        default_value = "username"
    )]
    pub username_field: String,
    /// The user table, when the model sets Meta.db_table (default: APP_LABEL_modelname).
    #[arg(long, global = true, env = "CASTELLAN_USER_TABLE")]
    pub user_table: Option<String>,
    /// Where a model's objects live, for object permissions, when not in APP_LABEL_MODEL keyed by
    /// id (Meta.db_table, another primary key): APP.MODEL=TABLE or APP.MODEL=TABLE:PK; repeatable.
    #[arg(
        long = "object-table",
        global = true,
        value_name = "APP.MODEL=TABLE[:PK]"
    )]
    pub object_tables: Vec<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// A `castellan` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the schema; on an existing Django database, adopt it.
    Migrate(Migrate),
    /// Create a superuser (password from CASTELLAN_SUPERUSER_PASSWORD, or prompted).
    Createsuperuser(CreateSuperuser),
    /// Change a user's password.
    Changepassword(ChangePassword),
    /// Check a password: exit 0 when it is right and the user active, 1 otherwise.
    Authenticate(Authenticate),
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage groups.
    #[command(subcommand)]
    Group(GroupCmd),
    /// Manage permissions.
    #[command(subcommand)]
    Perm(PermCmd),
    /// Check permissions: exit 0 when allowed, 1 when denied.
    Check(Check),
    /// A user's permissions: direct, through groups, and all; with --object, those held on one
    /// object (django-guardian's get_perms).
    Perms(Perms),
    /// The objects of a model a user may act on (django-guardian's get_objects_for_user).
    Objects(Objects),
    /// Who has a permission (Django's `with_perm`).
    WhoHas(WhoHas),
    /// The audit trail of changes made through Castellan, newest first.
    Audit(Audit),
    /// Write users (with their password hashes as they are), groups, permissions, memberships and
    /// grants as JSON.
    Export(Export),
    /// Load an export idempotently, in one transaction.
    Import(Import),
    /// Why a user has or lacks a permission: exit 0 when allowed, 1 when denied.
    Explain(Explain),
    /// The role × permission matrix: groups, Anonymous, Superuser and chosen users.
    Matrix(Matrix),
    /// Apply a declarative policy file (apps, models, permissions, groups); print the plan.
    Sync(Sync),
    /// Serve the admin UI at /admin/ and login/logout at /accounts/ (secret key from
    /// CASTELLAN_SECRET_KEY).
    Serve(Serve),
}

/// `serve`.
#[derive(Debug, Args)]
pub struct Serve {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub bind: String,
    /// Without CASTELLAN_SECRET_KEY, use a fixed, publicly known development key (never in
    /// production: anyone could forge sessions).
    #[arg(long)]
    pub insecure_dev_key: bool,
    /// Served over HTTPS (directly or behind a TLS proxy): Secure cookies, https-only `next`,
    /// strict Referer checks.
    #[arg(long)]
    pub https: bool,
    /// With --https, send Strict-Transport-Security with this max-age (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 0, requires = "https")]
    pub hsts_seconds: u64,
    /// A Host the server answers (repeatable; `.example.com` includes subdomains, `*` any).
    /// Default: the --bind host, and localhost, 127.0.0.1 and `[::1]` on its port.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// A reverse proxy (IP address, repeatable) whose X-Forwarded-For names the client for
    /// login throttling.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A group name the application trusts (repeatable): one its group guards or templates test,
    /// or a policy file's. The admin then refuses non-superusers the steps that would hand that
    /// name to another group (creating, renaming or deleting it), as an application that mounts
    /// the admin itself does for the names it knows.
    #[arg(long = "trusted-group", value_name = "NAME")]
    pub trusted_groups: Vec<String>,
    /// PostgreSQL: serve a logged-in request's session, user and permissions from memory while
    /// no change was notified, reusing a read for at most this many milliseconds (0, the
    /// default: one statement per request, every change enforced on the next request).
    #[arg(long, value_name = "MILLISECONDS", default_value_t = 0)]
    pub reuse_notified_reads: u64,
}

/// `export`.
#[derive(Debug, Args)]
pub struct Export {
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
}

/// `import`.
#[derive(Debug, Args)]
pub struct Import {
    /// The export file (`-` for standard input).
    pub file: std::path::PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `explain`.
#[derive(Debug, Args)]
pub struct Explain {
    /// `USER PERM`; with --anonymous, only `PERM`.
    #[arg(value_name = "USER PERM", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// Explain for the anonymous user (then give only the permission).
    #[arg(long, conflicts_with = "object")]
    pub anonymous: bool,
    /// Explain the permission on this object (APP.MODEL:PK): object grants, the user's and their
    /// groups' (django-guardian's rules).
    #[arg(long, value_name = "APP.MODEL:PK")]
    pub object: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `matrix --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MatrixFormat {
    /// One Markdown table per app and model.
    Markdown,
    /// One CSV table: `kind,role,<app_label.codename>…` with 1/0 cells.
    Csv,
    /// `{"columns":[…],"rows":[…]}`.
    Json,
    /// A standalone HTML page (inline CSS and JS).
    Html,
}

/// `matrix`.
#[derive(Debug, Args)]
pub struct Matrix {
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: MatrixFormat,
    /// Also show these users' effective permissions (comma-separated usernames).
    #[arg(long, value_delimiter = ',')]
    pub users: Vec<String>,
    /// Only the permissions of this app label.
    #[arg(long)]
    pub app: Option<String>,
}

/// `sync`.
#[derive(Debug, Args)]
pub struct Sync {
    /// The policy file (TOML; see examples/policies/README.md).
    pub policy: std::path::PathBuf,
    /// Print the plan and stop: nothing is written.
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove what the file does not declare: other groups, the file's groups' other permissions,
    /// and undeclared permissions and content types of the file's apps (never `auth`/`contenttypes`).
    #[arg(long)]
    pub prune: bool,
    /// Apply even when a group's name now belongs to another group than the one this policy was
    /// last applied to (renamed or re-created since), binding the policy to the group carrying it.
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `audit`.
#[derive(Debug, Args)]
pub struct Audit {
    /// Only entries since this time: RFC 3339 (`2026-11-25T10:00:00Z`), a date (`2026-11-25`), or an
    /// age (`30m`, `12h`, `7d`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only entries about this user, or made by them.
    #[arg(long)]
    pub user: Option<String>,
    /// At most this many entries.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `migrate`.
#[derive(Debug, Args)]
pub struct Migrate {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also create django-guardian 3.5's object-permission tables (adopted when present) and
    /// record its migrations.
    #[arg(long)]
    pub object_permissions: bool,
}

/// `perms`.
#[derive(Debug, Args)]
pub struct Perms {
    /// The username.
    pub username: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The permissions held on this object (APP.MODEL:PK), as django-guardian's get_perms.
    #[arg(long, value_name = "APP.MODEL:PK")]
    pub object: Option<String>,
}

/// `objects`.
#[derive(Debug, Args)]
pub struct Objects {
    /// The model, APP.MODEL.
    #[arg(long, value_name = "APP.MODEL")]
    pub model: String,
    /// Print JSON: {"pks": [...]}.
    #[arg(long)]
    pub json: bool,
    /// Any one of the permissions is enough (default: all of them).
    #[arg(long)]
    pub any: bool,
    /// Count only the user's own object grants, not their groups' (use_groups=False).
    #[arg(long)]
    pub no_groups: bool,
    /// A superuser gets only what they were granted (with_superuser=False; also turns global
    /// permissions off).
    #[arg(long)]
    pub no_superuser: bool,
    /// Global (model) permissions do not count for every object (accept_global_perms=False).
    #[arg(long)]
    pub no_global: bool,
    /// The username.
    pub username: String,
    /// Permissions (app_label.codename or codename); none: any object grant.
    pub perms: Vec<String>,
}

/// `--json`.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A username and `--json`.
#[derive(Debug, Args)]
pub struct UserJson {
    /// The username.
    pub username: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `createsuperuser`.
#[derive(Debug, Args)]
pub struct CreateSuperuser {
    /// The username (else CASTELLAN_SUPERUSER_USERNAME with --no-input, or prompted).
    #[arg(long)]
    pub username: Option<String>,
    /// The e-mail (may be ""; else CASTELLAN_SUPERUSER_EMAIL with --no-input, or prompted).
    #[arg(long)]
    pub email: Option<String>,
    /// Never prompt (Django's --noinput). Without CASTELLAN_SUPERUSER_PASSWORD the password is unusable.
    #[arg(long, alias = "noinput")]
    pub no_input: bool,
    /// Set the password even when it fails password validation (Django's four default
    /// validators: similarity to the user, at least 8 characters, not common, not all digits).
    #[arg(long)]
    pub skip_validation: bool,
    /// A value for one of the user model's own fields (its REQUIRED_FIELDS), NAME=VALUE;
    /// repeatable. Fields not given are prompted for, or read from
    /// CASTELLAN_SUPERUSER_<NAME> with --no-input.
    #[arg(long = "field", value_name = "NAME=VALUE", value_parser = field_value)]
    pub fields: Vec<(String, String)>,
}

/// Parses `NAME=VALUE`.
fn field_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("{s:?} is not NAME=VALUE")),
    }
}

/// `changepassword`.
#[derive(Debug, Args)]
pub struct ChangePassword {
    /// The username.
    pub username: String,
    /// Read the new password from standard input (all of it, less one trailing newline) instead
    /// of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// Set the password even when it fails password validation (Django's four default
    /// validators: similarity to the user, at least 8 characters, not common, not all digits).
    #[arg(long)]
    pub skip_validation: bool,
}

/// `authenticate`.
#[derive(Debug, Args)]
pub struct Authenticate {
    /// The username.
    pub username: String,
    /// Read the password from standard input, all of it less one trailing newline (required:
    /// passwords never go in argv).
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

/// `true`/`false`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Bool {
    /// True.
    True,
    /// False.
    False,
}

impl From<Bool> for bool {
    fn from(b: Bool) -> Self {
        matches!(b, Bool::True)
    }
}

/// `true`/`false`/`any`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Tristate {
    /// Only active users.
    True,
    /// Only inactive users.
    False,
    /// No filter.
    Any,
}

/// `user …`.
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user (no password given: an unusable one, as Django does).
    Create {
        /// The username.
        username: String,
        /// The e-mail.
        #[arg(long, default_value = "")]
        email: String,
        /// Read the password from standard input (all of it, less one trailing newline).
        #[arg(long)]
        password_stdin: bool,
        /// Set the password even when it fails password validation.
        #[arg(long)]
        skip_validation: bool,
        /// Make the user staff.
        #[arg(long)]
        staff: bool,
        /// Make the user a superuser.
        #[arg(long)]
        superuser: bool,
        /// Create the user inactive.
        #[arg(long)]
        inactive: bool,
        /// A value for one of the user model's own fields (its REQUIRED_FIELDS), NAME=VALUE;
        /// repeatable.
        #[arg(long = "field", value_name = "NAME=VALUE", value_parser = field_value)]
        fields: Vec<(String, String)>,
    },
    /// List users.
    List(JsonFlag),
    /// Show one user with groups and permissions.
    Show(UserJson),
    /// Update a user's fields and flags.
    Update {
        /// The username.
        username: String,
        /// New e-mail.
        #[arg(long)]
        email: Option<String>,
        /// New first name.
        #[arg(long)]
        first_name: Option<String>,
        /// New last name.
        #[arg(long)]
        last_name: Option<String>,
        /// is_staff.
        #[arg(long)]
        staff: Option<Bool>,
        /// is_superuser.
        #[arg(long)]
        superuser: Option<Bool>,
        /// is_active.
        #[arg(long)]
        active: Option<Bool>,
    },
    /// Delete a user.
    Delete {
        /// The username.
        username: String,
    },
    /// Add a user to groups.
    AddGroup {
        /// The username.
        username: String,
        /// Group names.
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Remove a user from groups.
    RemoveGroup {
        /// The username.
        username: String,
        /// Group names.
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Grant permissions directly to a user (with --object: on one object).
    Grant {
        /// The username.
        username: String,
        /// Permissions, `app_label.codename` (with --object, also a bare codename).
        #[arg(required = true)]
        perms: Vec<String>,
        /// Grant on this object only (APP.MODEL:PK), as django-guardian's assign_perm.
        #[arg(long, value_name = "APP.MODEL:PK")]
        object: Option<String>,
    },
    /// Revoke direct permissions from a user (with --object: on one object).
    Revoke {
        /// The username.
        username: String,
        /// Permissions, `app_label.codename` (with --object, also a bare codename).
        #[arg(required = true)]
        perms: Vec<String>,
        /// Revoke the grants on this object (APP.MODEL:PK), as django-guardian's remove_perm.
        #[arg(long, value_name = "APP.MODEL:PK")]
        object: Option<String>,
    },
}

/// `group …`.
#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Create a group.
    Create {
        /// The name.
        name: String,
    },
    /// Delete a group (its grants and memberships go with it).
    Delete {
        /// The name.
        name: String,
    },
    /// Rename a group.
    Rename {
        /// The current name.
        old: String,
        /// The new name.
        new: String,
    },
    /// List groups.
    List(JsonFlag),
    /// Show a group's permissions and members.
    Show {
        /// The name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Grant permissions to a group (with --object: on one object).
    Grant {
        /// The group.
        name: String,
        /// Permissions, `app_label.codename` (with --object, also a bare codename).
        #[arg(required = true)]
        perms: Vec<String>,
        /// Grant on this object only (APP.MODEL:PK), as django-guardian's assign_perm.
        #[arg(long, value_name = "APP.MODEL:PK")]
        object: Option<String>,
    },
    /// Revoke permissions from a group (with --object: on one object).
    Revoke {
        /// The group.
        name: String,
        /// Permissions, `app_label.codename` (with --object, also a bare codename).
        #[arg(required = true)]
        perms: Vec<String>,
        /// Revoke the grants on this object (APP.MODEL:PK), as django-guardian's remove_perm.
        #[arg(long, value_name = "APP.MODEL:PK")]
        object: Option<String>,
    },
    /// Add users to a group.
    AddUser {
        /// The group.
        name: String,
        /// Usernames.
        #[arg(required = true)]
        usernames: Vec<String>,
    },
    /// Remove users from a group.
    RemoveUser {
        /// The group.
        name: String,
        /// Usernames.
        #[arg(required = true)]
        usernames: Vec<String>,
    },
}

/// `perm …`.
#[derive(Debug, Subcommand)]
pub enum PermCmd {
    /// List permissions.
    List {
        /// Only this app label.
        #[arg(long)]
        app: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a custom permission at run time.
    Create {
        /// `app_label.codename`.
        perm: String,
        /// The model (content type) it belongs to; created if missing.
        #[arg(long)]
        model: String,
        /// The human-readable name, e.g. "Can publish book".
        #[arg(long)]
        name: String,
    },
    /// Delete a permission and every grant of it.
    Delete {
        /// `app_label.codename`.
        perm: String,
    },
}

/// `check`.
#[derive(Debug, Args)]
pub struct Check {
    /// The username.
    pub username: String,
    /// Permissions (all are required unless --any).
    pub perms: Vec<String>,
    /// Allowed when any one of the permissions is held.
    #[arg(long)]
    pub any: bool,
    /// Check module permissions of an app label instead (Django's has_module_perms).
    #[arg(long, conflicts_with_all = ["perms", "any", "object"])]
    pub module: Option<String>,
    /// Check on this object (APP.MODEL:PK): Django's has_perms(perms, obj) with django-guardian's
    /// ObjectPermissionBackend (global permissions never grant an object).
    #[arg(long, value_name = "APP.MODEL:PK")]
    pub object: Option<String>,
}

/// `who-has`.
#[derive(Debug, Args)]
pub struct WhoHas {
    /// The permission, `app_label.codename`.
    pub perm: String,
    /// Include superusers whatever they hold (Django's with_perm default: true; with --object,
    /// guardian's get_users_with_perms default: false).
    #[arg(long)]
    pub include_superusers: Option<Bool>,
    /// Filter on is_active (Django's with_perm default: true; with --object, guardian's default:
    /// any).
    #[arg(long)]
    pub active: Option<Tristate>,
    /// The users holding the permission on this object (APP.MODEL:PK): a grant of their own or
    /// through a group (django-guardian's get_users_with_perms).
    #[arg(long, value_name = "APP.MODEL:PK", conflicts_with_all = ["limit", "after", "count", "ids"])]
    pub object: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// At most N usernames (a page; JSON then carries the `next` cursor).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Only usernames after this one (byte order): the `next` cursor of the previous page.
    #[arg(long, value_name = "USERNAME")]
    pub after: Option<String>,
    /// Print only the number of users.
    #[arg(long, conflicts_with_all = ["limit", "after"])]
    pub count: bool,
    /// Print user ids (ascending) instead of usernames: answered from indexes alone, the fastest
    /// form on a large database.
    #[arg(long, conflicts_with_all = ["limit", "after", "count"])]
    pub ids: bool,
}
