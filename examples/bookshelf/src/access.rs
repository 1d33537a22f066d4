//! Object-level access: which article a user may see or change, and which book they may edit.
//!
//! * **Articles** follow rules ([`rules`]), checked for one article and compiled to SQL for the
//!   list (one query):
//!   - `bookshelf.change_article`: an Authors member on **their own draft**; holders of the
//!     permission itself (Chief Editors, superusers) on every article;
//!   - `bookshelf.view_article` (of an unpublished article): an Authors member's own articles, in
//!     any state; in review, for those who approve or publish (Reviewers, Chief Editors); anyone
//!     sees a published article;
//!   - nobody approves or publishes their own article (the workflow's `UPDATE` also refuses it).
//! * **Books**: `bookshelf.change_book` held globally (Editors) or granted on one book
//!   (django-guardian's table: the admin's object-permissions page, or `castellan user grant
//!   --object bookshelf.book:ID -- USER bookshelf.change_book`): a co-editor edits that book and
//!   no other.
//!
//! A django-guardian grant on an article counts too: a grant or a rule allows, as in Django's
//! backend chain.

use castellan_axum::AuthSession;
use castellan_core::object_perms::{self, ObjectRef};
use castellan_core::rules::{CmpOp, ObjectRules, Rule, RuleObject, RuleSubject, Value};
use castellan_store::sql::SqlText;
use castellan_store::{Result, RuleFilter, Store};

use crate::articles::{Article, Status};

/// Change an article.
pub const CHANGE_ARTICLE: &str = "bookshelf.change_article";
/// See an unpublished article.
pub const VIEW_ARTICLE: &str = "bookshelf.view_article";
/// Edit a book.
pub const CHANGE_BOOK: &str = "bookshelf.change_book";

/// Bookshelf's object rules.
pub fn rules() -> ObjectRules {
    let own_draft = Rule::all([
        Rule::in_group("Authors"),
        Rule::is_user("author_id"),
        Rule::eq("status", Value::text(Status::Draft.as_str())),
    ]);
    let review_for_approvers = Rule::all([
        Rule::eq("status", Value::text(Status::Review.as_str())),
        Rule::any([
            Rule::has_perm("bookshelf.can_approve_article"),
            Rule::has_perm("bookshelf.can_publish_article"),
        ]),
    ]);
    let published = Rule::eq("status", Value::text(Status::Published.as_str()));
    let own = Rule::all([Rule::in_group("Authors"), Rule::is_user("author_id")]);
    // The rules are constants: a mistake in them is a bug found by every test that starts the app.
    ObjectRules::new()
        .with(CHANGE_ARTICLE, own_draft.clone())
        .and_then(|r| {
            r.with(
                VIEW_ARTICLE,
                Rule::any([published, review_for_approvers, own]),
            )
        })
        .unwrap_or_else(|e| unreachable!("Bookshelf's rules are valid: {e}"))
}

impl RuleObject for Article {
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "author_id" => Some(match self.author_id.as_int() {
                Some(n) => Value::Int(n),
                None => Value::Text(self.author_id.hex()),
            }),
            "status" => Some(Value::text(self.status.as_str())),
            "is_featured" => Some(Value::Bool(self.is_featured)),
            _ => None,
        }
    }
}

/// The user's group names (the rules ask about Authors).
async fn subject_groups(store: &Store, auth: &AuthSession) -> Result<Vec<String>> {
    match auth.principal().identity().id() {
        Some(id) => store.group_names_of(id).await,
        None => Ok(Vec::new()),
    }
}

/// Whether a django-guardian grant gives the user `perm` on `obj` (no tables: no grant).
async fn granted(store: &Store, auth: &AuthSession, perm: &str, obj: &ObjectRef) -> Result<bool> {
    let who = auth.principal();
    let Some(id) = who.identity().id() else {
        return Ok(false);
    };
    if !store.has_object_permissions().await? {
        return Ok(false);
    }
    let grants = store.object_grants(id, obj).await?;
    Ok(object_perms::has_perm(&who, &grants, perm, obj).unwrap_or(false))
}

/// Whether the user may `perm` (`change_article` or `view_article`) on `article`.
pub async fn may_article(
    store: &Store,
    auth: &AuthSession,
    perm: &str,
    article: &Article,
) -> Result<bool> {
    let who = auth.principal();
    if article.status == Status::Published && perm == VIEW_ARTICLE {
        return Ok(true);
    }
    // The permission itself (Chief Editors): every article; changing one lets you see it.
    if who.has_perm(CHANGE_ARTICLE) {
        return Ok(true);
    }
    let groups = subject_groups(store, auth).await?;
    let subject = RuleSubject {
        who: &who,
        groups: &groups,
    };
    let rules = rules();
    if rules.allows(&subject, perm, article)
        || (perm == VIEW_ARTICLE && rules.allows(&subject, CHANGE_ARTICLE, article))
    {
        return Ok(true);
    }
    let obj = article_ref(article.id)?;
    Ok(granted(store, auth, perm, &obj).await?
        || granted(store, auth, CHANGE_ARTICLE, &obj).await?)
}

fn article_ref(id: i64) -> Result<ObjectRef> {
    Ok(ObjectRef::new("bookshelf", "article", id.to_string())?)
}

/// The condition (over `bookshelf_article a`) selecting the articles the user sees on
/// `/articles/`: published ones, and those the rules or a grant let them see or change.
pub async fn visible_articles(store: &Store, auth: &AuthSession) -> Result<RuleFilter> {
    let who = auth.principal();
    if who.has_perm(CHANGE_ARTICLE) {
        return Ok(RuleFilter::always());
    }
    let groups = subject_groups(store, auth).await?;
    let subject = RuleSubject {
        who: &who,
        groups: &groups,
    };
    let rules = rules();
    let model = ("bookshelf", "article");
    let key = ("a", "id");
    let published = RuleFilter::compile(
        store.dialect(),
        &Rule::cmp("status", CmpOp::Eq, Value::text(Status::Published.as_str())),
        "a",
    );
    let view = store
        .object_filter(&rules, &subject, VIEW_ARTICLE, model, key)
        .await?;
    let change = store
        .object_filter(&rules, &subject, CHANGE_ARTICLE, model, key)
        .await?;
    Ok(published.or(view).or(change))
}

/// Appends `WHERE <visible_articles>` to a query over `bookshelf_article a`.
pub fn where_visible(q: &mut SqlText, filter: &RuleFilter) {
    q.push(" WHERE ");
    filter.append_to(q);
}

/// Whether the user may edit book `id`: `change_book` held globally, or granted on that book.
pub async fn may_edit_book(store: &Store, auth: &AuthSession, id: i64) -> Result<bool> {
    if auth.principal().has_perm(CHANGE_BOOK) {
        return Ok(true);
    }
    let obj = ObjectRef::new("bookshelf", "book", id.to_string())?;
    granted(store, auth, CHANGE_BOOK, &obj).await
}
