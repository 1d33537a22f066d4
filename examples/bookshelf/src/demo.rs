//! `--demo`: one user per role (plus the superuser `root`) and a few books and articles. Running it
//! again creates nothing twice.

use anyhow::Context;
use castellan_store::{NewUser, Store, UserChanges};
use getrandom::SysRng;
use rand_core::{Rng, UnwrapErr};

use crate::articles::{ArticleFields, Step};
use crate::books::{BookFields, Flag};
use crate::db::Db;

/// The demo users and their group (`None`: the superuser).
pub const DEMO_USERS: &[(&str, Option<&str>)] = &[
    ("viewer", Some("Viewers")),
    ("editor", Some("Editors")),
    ("publisher", Some("Publishers")),
    ("admin", Some("Admins")),
    ("member", Some("Library Members")),
    ("librarian", Some("Librarians")),
    ("author", Some("Authors")),
    ("reviewer", Some("Reviewers")),
    ("chief", Some("Chief Editors")),
    ("root", None),
];

/// The demo users who may log in to the admin (`is_staff`): the superuser, and `admin` (Admins),
/// a staff user without superuser status who sees the Bookshelf models but not auth's.
pub const STAFF: &[&str] = &["root", "admin"];

/// What [`seed`] did with each user's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoPassword {
    /// Created now with this random password (shown once).
    Generated(String),
    /// Set to the password given in `BOOKSHELF_DEMO_PASSWORD`.
    Given,
    /// The user existed; its password was left alone.
    Unchanged,
}

/// A random 16-character password.
fn random_password() -> String {
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(16);
    while out.len() < 16 {
        let mut buf = [0u8; 32];
        UnwrapErr(SysRng).fill_bytes(&mut buf);
        for b in buf {
            // 56 * 4 = 224: drop the top values, no modulo bias.
            if b < 224 && out.len() < 16 {
                out.push(char::from(CHARS[usize::from(b) % CHARS.len()]));
            }
        }
    }
    out
}

/// Creates the demo users (in their groups) and sample content. With `password`, every demo user
/// gets it (existing ones too); without, new users get random passwords, returned here.
pub async fn seed(
    store: &Store,
    db: &Db,
    password: Option<&str>,
) -> anyhow::Result<Vec<(String, DemoPassword)>> {
    let mut report = Vec::new();
    for (name, group) in DEMO_USERS {
        let staff = STAFF.contains(name);
        let existing = store.user(name).await?;
        if let Some(user) = &existing {
            // Databases seeded before the admin existed: make the staff users staff.
            if staff && !user.is_staff {
                let changes = UserChanges {
                    is_staff: Some(true),
                    ..UserChanges::default()
                };
                store
                    .update_user(name, changes)
                    .await
                    .with_context(|| format!("making demo user {name} staff"))?;
            }
        }
        let outcome = match (existing, password) {
            (None, given) => {
                let pw = given.map_or_else(random_password, str::to_owned);
                let mut user = NewUser::new(*name);
                user.email = format!("{name}@example.org");
                user.password = Some(pw.clone());
                user.is_superuser = group.is_none();
                user.is_staff = staff;
                store
                    .create_user(user)
                    .await
                    .with_context(|| format!("creating demo user {name}"))?;
                if given.is_some() {
                    DemoPassword::Given
                } else {
                    DemoPassword::Generated(pw)
                }
            }
            (Some(_), Some(pw)) => {
                store.set_password(name, Some(pw)).await?;
                DemoPassword::Given
            }
            (Some(_), None) => DemoPassword::Unchanged,
        };
        if let Some(group) = group {
            store
                .add_user_to_groups(name, &[(*group).to_owned()])
                .await
                .with_context(|| format!("adding {name} to {group}"))?;
        }
        report.push(((*name).to_owned(), outcome));
    }
    seed_books(db).await?;
    seed_articles(store, db).await?;
    Ok(report)
}

async fn seed_books(db: &Db) -> anyhow::Result<()> {
    let books: &[(&str, &str, &str, i64, i64, bool)] = &[
        ("Dune", "Frank Herbert", "9780441172719", 1965, 3, true),
        (
            "The Left Hand of Darkness",
            "Ursula K. Le Guin",
            "9780441478125",
            1969,
            2,
            true,
        ),
        (
            "Neuromancer",
            "William Gibson",
            "9780441569595",
            1984,
            1,
            true,
        ),
        (
            "The Dispossessed",
            "Ursula K. Le Guin",
            "9780061054884",
            1974,
            2,
            true,
        ),
        (
            "Draft: A Memoir in Progress",
            "Anonymous",
            "9780000000002",
            2026,
            1,
            false,
        ),
    ];
    for (title, author, isbn, year, copies, published) in books {
        if db.isbn_taken(isbn, None).await? {
            continue;
        }
        let fields = BookFields {
            title: (*title).into(),
            author: (*author).into(),
            isbn: (*isbn).into(),
            publication_year: Some(*year),
            copies_total: *copies,
        };
        if let Some(id) = db.create_book(&fields).await? {
            if *published {
                db.toggle_book(id, Flag::Published).await?;
            }
        }
    }
    Ok(())
}

async fn seed_articles(store: &Store, db: &Db) -> anyhow::Result<()> {
    if !db.articles(true).await?.is_empty() {
        return Ok(());
    }
    let (Some(author), Some(reviewer)) =
        (store.user("author").await?, store.user("reviewer").await?)
    else {
        return Ok(());
    };
    let article = |title: &str, content: &str| ArticleFields {
        title: title.into(),
        content: content.into(),
    };
    let published = db
        .create_article(
            &article(
                "Welcome to the Bookshelf",
                "Browse the catalogue, borrow a book, or log in as one of the demo users to see what each role may do.",
            ),
            author.id,
        )
        .await?;
    db.article_step(published, Step::Submit, author.id).await?;
    db.article_step(published, Step::Approve, reviewer.id)
        .await?;
    db.article_step(published, Step::Publish, reviewer.id)
        .await?;
    let review = db
        .create_article(
            &article(
                "New arrivals this month",
                "Three classics of science fiction joined the shelves.",
            ),
            author.id,
        )
        .await?;
    db.article_step(review, Step::Submit, author.id).await?;
    db.create_article(
        &article(
            "Reading group notes (draft)",
            "Notes for the next reading group: Le Guin.",
        ),
        author.id,
    )
    .await?;
    Ok(())
}
