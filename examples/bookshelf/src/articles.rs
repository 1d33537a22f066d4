//! Articles: the `Article` model and its workflow, draft → review → published.
//!
//! Each transition is one conditional UPDATE on the current status, so a stale form or two
//! concurrent clicks cannot skip a step. The workflow's rules:
//!
//! - **Four eyes.** Nobody approves or publishes an article they are the author of, whatever
//!   permissions they hold, superusers included: it is a business rule, not a permission
//!   (checked in the same `UPDATE` as the step).
//! - **An edit is reviewed again.** Changing the title, content or author of an article that is
//!   not a draft (in review, approved or not, or published) puts it back in review with its
//!   approval cleared ([`Db::edit_article`]); a draft stays a draft. An edit that changes nothing
//!   writes nothing.
//! - **Authors.** Only a superuser sets an article's author to someone else; the web form and the
//!   admin enforce it (an article someone writes is theirs).

use castellan_core::UserId;
use serde::Serialize;

use castellan_store::sql::{Dialect, Row, Sql};
use castellan_store::Result;

use crate::db::{Db, UserStatements};
use crate::user_sql::UserNames;

/// An article's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being written; only its readers with `change_article` see it.
    Draft,
    /// Submitted for review.
    Review,
    /// Public.
    Published,
}

impl Status {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Review => "review",
            Self::Published => "published",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "review" => Self::Review,
            "published" => Self::Published,
            _ => Self::Draft,
        }
    }
}

/// An article (`bookshelf_article`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Article {
    /// Primary key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Body text.
    pub content: String,
    /// The author's user id.
    pub author_id: UserId,
    /// The author's username.
    pub author: String,
    /// Workflow status.
    pub status: Status,
    /// Featured on the home page.
    pub is_featured: bool,
    /// Who approved it for publication (a reviewer), while in review or after.
    pub approved_by: Option<String>,
}

/// A workflow step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// draft → review (`change_article`).
    Submit,
    /// review: record the approval (`can_approve_article`).
    Approve,
    /// review (approved) → published (`can_publish_article`).
    Publish,
}

/// What [`Db::edit_article`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    /// The edit changed nothing; nothing was written.
    Unchanged,
    /// Saved; the article is a draft and stays one.
    Saved,
    /// Saved, and the article (in review or published) is in review again, its approval cleared.
    BackToReview,
    /// No such article (deleted meanwhile); nothing was written.
    Missing,
    /// The article moved to another status since the editor read it (submitted, published):
    /// what allowed the edit may no longer hold, so nothing was written.
    Changed,
}

/// The fields an article form edits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ArticleFields {
    /// Title (1–200 characters).
    pub title: String,
    /// Body (required, at most 100 000 characters).
    pub content: String,
}

impl ArticleFields {
    /// Every problem as (field, message); empty when valid.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if self.title.trim().is_empty() {
            errors.push(("title", "This field is required.".to_owned()));
        } else if self.title.chars().count() > 200 {
            errors.push((
                "title",
                "Ensure this value has at most 200 characters.".to_owned(),
            ));
        }
        if self.content.trim().is_empty() {
            errors.push(("content", "This field is required.".to_owned()));
        } else if self.content.chars().count() > 100_000 {
            errors.push((
                "content",
                "Ensure this value has at most 100000 characters.".to_owned(),
            ));
        }
        errors
    }
}

/// The select of an article row with its author's and approver's usernames, as
/// [`article_from_row`] reads it (a literal for `concat!`; `{users}` and `{username}` are filled
/// with the user model's names, see [`crate::user_sql`]).
macro_rules! article_select {
    () => {
        "SELECT a.id, a.title, a.content, a.author_id, u.{username} AS author, a.status, a.is_featured, \
         r.{username} AS approved_by FROM bookshelf_article a JOIN {users} u ON u.id = a.author_id \
         LEFT JOIN {users} r ON r.id = a.approved_by_id"
    };
}

/// An article from a row selected with [`article_select!`].
pub(crate) fn article_from_row(r: &Row) -> Result<Article> {
    Ok(Article {
        id: r.int("id")?,
        title: r.text("title")?,
        content: r.text("content")?,
        author_id: r.user_id("author_id")?,
        author: r.text("author")?,
        status: Status::parse(&r.text("status")?),
        is_featured: r.flag("is_featured")?,
        approved_by: r.opt_text("approved_by")?,
    })
}

const ALL_ARTICLES: Sql = castellan_store::sql!(concat!(article_select!(), " ORDER BY a.id DESC"));
const PUBLISHED_ARTICLES: Sql = castellan_store::sql!(concat!(
    article_select!(),
    " WHERE a.status = 'published' ORDER BY a.id DESC"
));
const ARTICLE: Sql = castellan_store::sql!(concat!(article_select!(), " WHERE a.id = $1"));
const BORROWS: Sql = castellan_store::sql!(
    "SELECT b.id, b.book_id, k.title, u.{username} AS borrower, b.borrowed_at, b.returned_at \
     FROM bookshelf_borrow b JOIN bookshelf_book k ON k.id = b.book_id \
     JOIN {users} u ON u.id = b.user_id ORDER BY b.id DESC"
);

/// The statements that name the user table, filled for `users` on `dialect`.
pub(crate) fn user_statements(users: &UserNames, dialect: Dialect) -> UserStatements {
    UserStatements {
        all_articles: users.statement(&ALL_ARTICLES, dialect),
        published_articles: users.statement(&PUBLISHED_ARTICLES, dialect),
        article: users.statement(&ARTICLE, dialect),
        borrows: users.statement(&BORROWS, dialect),
        article_count: users.fill(
            "SELECT COUNT(*) AS n FROM bookshelf_article a JOIN {users} u ON u.id = a.author_id",
        ),
        article_select: users.fill(article_select!()),
        article_search: ["a.title".to_owned(), users.fill("u.{username}")],
    }
}
const INSERT_ARTICLE: Sql = castellan_store::sql!(
    "INSERT INTO bookshelf_article (title, content, author_id, status, is_featured, approved_by_id) \
     VALUES ($1, $2, $3, 'draft', $4, NULL)"
);
const LAST_ARTICLE_OF: Sql =
    castellan_store::sql!("SELECT MAX(id) AS id FROM bookshelf_article WHERE author_id = $1");
const EDIT_ARTICLE: Sql = castellan_store::sql!(
    "UPDATE bookshelf_article SET title = $1, content = $2, author_id = $3, \
     status = CASE WHEN status = 'draft' THEN 'draft' ELSE 'review' END, approved_by_id = NULL \
     WHERE id = $4 AND status = $5"
);
const DELETE_ARTICLE: Sql = castellan_store::sql!("DELETE FROM bookshelf_article WHERE id = $1");
const SUBMIT: Sql = castellan_store::sql!(
    "UPDATE bookshelf_article SET status = 'review', approved_by_id = NULL WHERE id = $1 AND status = 'draft'"
);
const APPROVE: Sql = castellan_store::sql!(
    "UPDATE bookshelf_article SET approved_by_id = $1 \
     WHERE id = $2 AND status = 'review' AND approved_by_id IS NULL AND author_id <> $3"
);
const PUBLISH: Sql = castellan_store::sql!(
    "UPDATE bookshelf_article SET status = 'published' \
     WHERE id = $1 AND status = 'review' AND approved_by_id IS NOT NULL AND author_id <> $2"
);
const TOGGLE_FEATURED: Sql = castellan_store::sql!(
    "UPDATE bookshelf_article SET is_featured = NOT is_featured WHERE id = $1"
);
const FEATURED: Sql =
    castellan_store::sql!("SELECT is_featured FROM bookshelf_article WHERE id = $1");

impl Db {
    /// Articles, newest first: all of them, or only the published ones.
    pub async fn articles(&self, include_unpublished: bool) -> Result<Vec<Article>> {
        let statements = self.statements();
        let sql = if include_unpublished {
            &statements.all_articles
        } else {
            &statements.published_articles
        };
        self.sql()
            .fetch_all(sql, &[])
            .await?
            .iter()
            .map(article_from_row)
            .collect()
    }

    /// The articles `filter` (over `bookshelf_article a`) selects, newest first, in one query
    /// (see [`crate::access::visible_articles`]).
    pub async fn articles_where(
        &self,
        filter: &castellan_store::RuleFilter,
    ) -> Result<Vec<Article>> {
        let mut q = castellan_store::sql::SqlText::new(self.dialect());
        q.push(&self.statements().article_select);
        crate::access::where_visible(&mut q, filter);
        q.push(" ORDER BY a.id DESC");
        self.sql()
            .fetch_all(&q, &filter.args())
            .await?
            .iter()
            .map(article_from_row)
            .collect()
    }

    /// One article.
    pub async fn article(&self, id: i64) -> Result<Option<Article>> {
        self.sql()
            .fetch_optional(&self.statements().article, &[id.into()])
            .await?
            .map(|r| article_from_row(&r))
            .transpose()
    }

    /// Creates a draft by `author_id`; returns its id.
    pub async fn create_article(&self, f: &ArticleFields, author_id: UserId) -> Result<i64> {
        let mut tx = self.sql().begin().await?;
        tx.execute(
            &INSERT_ARTICLE,
            &[
                f.title.trim().into(),
                f.content.as_str().into(),
                author_id.into(),
                false.into(),
            ],
        )
        .await?;
        let id = tx
            .fetch_one(&LAST_ARTICLE_OF, &[author_id.into()])
            .await?
            .int("id")?;
        tx.commit().await?;
        Ok(id)
    }

    /// Saves an edit of title, content and author (the status is moved only by
    /// [`Db::article_step`], except that changing an article that is not a draft sends it back
    /// to review). `current` is the article as the editor read it; nothing is written when the
    /// edit changes nothing.
    ///
    /// An edit that changes anything clears the approval and, unless the article is a draft,
    /// puts it in review again, in the same `UPDATE`: an approval (and a publication) always
    /// refers to the text and author it was given for. A concurrent approval of the old text is
    /// cleared too, because the `UPDATE` does not depend on the approval it replaces.
    pub async fn edit_article(
        &self,
        current: &Article,
        f: &ArticleFields,
        author_id: UserId,
    ) -> Result<Edited> {
        if f.title.trim() == current.title
            && f.content == current.content
            && author_id == current.author_id
        {
            return Ok(Edited::Unchanged);
        }
        let args = [
            f.title.trim().into(),
            f.content.as_str().into(),
            author_id.into(),
            current.id.into(),
            current.status.as_str().into(),
        ];
        let n = self.sql().execute(&EDIT_ARTICLE, &args).await?;
        Ok(match (n, current.status) {
            (0, _) if self.article(current.id).await?.is_some() => Edited::Changed,
            (0, _) => Edited::Missing,
            (_, Status::Draft) => Edited::Saved,
            (_, _) => Edited::BackToReview,
        })
    }

    /// Deletes an article. Whether it existed.
    pub async fn delete_article(&self, id: i64) -> Result<bool> {
        Ok(self.sql().execute(&DELETE_ARTICLE, &[id.into()]).await? == 1)
    }

    /// Applies one workflow step as `user_id` if the article is in the state the step starts
    /// from (publish needs an approval) and, for approve and publish, `user_id` is not its author
    /// (nobody approves or publishes their own article, superusers included). Whether it applied.
    pub async fn article_step(&self, id: i64, step: Step, user_id: UserId) -> Result<bool> {
        let n = match step {
            Step::Submit => self.sql().execute(&SUBMIT, &[id.into()]).await?,
            Step::Approve => {
                let args = [user_id.into(), id.into(), user_id.into()];
                self.sql().execute(&APPROVE, &args).await?
            }
            Step::Publish => {
                self.sql()
                    .execute(&PUBLISH, &[id.into(), user_id.into()])
                    .await?
            }
        };
        Ok(n == 1)
    }

    /// Flips `is_featured`; the new value (`None`: no such article).
    pub async fn toggle_article_featured(&self, id: i64) -> Result<Option<bool>> {
        let mut tx = self.sql().begin().await?;
        let value = if tx.execute(&TOGGLE_FEATURED, &[id.into()]).await? == 1 {
            Some(
                tx.fetch_one(&FEATURED, &[id.into()])
                    .await?
                    .flag("is_featured")?,
            )
        } else {
            None
        };
        tx.commit().await?;
        Ok(value)
    }
}
