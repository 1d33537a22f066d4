//! Article pages and the workflow actions (submit, approve, publish, feature).
//!
//! The workflow's rules are in [`crate::articles`]: nobody approves or publishes their own article
//! (403 with the reason, superusers included), an edit of an article that is not a draft sends it
//! back to review, and only a superuser names someone else as an article's author (the form's
//! `author` field, shown to superusers only; anyone else posting another author gets a 403 and
//! nothing is written).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use castellan_axum::AuthSession;
use castellan_core::{User, UserId};
use http::StatusCode;
use minijinja::context;
use serde::Deserialize;

use crate::access;
use crate::articles::{Article, ArticleFields, Edited, Step};
use crate::web::error::{AppError, AppResult};
use crate::web::render::{not_found, ok, page, s};
use crate::web::{messages, parse_id, redirect, AppState};

/// The article form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct ArticleForm {
    title: Option<String>,
    content: Option<String>,
    /// The author's username (superusers only; empty or absent: the adding user on add,
    /// unchanged on edit).
    author: Option<String>,
}

impl ArticleForm {
    fn fields(&self) -> ArticleFields {
        ArticleFields {
            title: self.title.as_deref().unwrap_or("").trim().to_owned(),
            content: self.content.as_deref().unwrap_or("").replace("\r\n", "\n"),
        }
    }

    /// The author username asked for, if any.
    fn author(&self) -> Option<&str> {
        self.author
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
    }
}

/// The message of the 403 answered to a non-superuser naming another author.
const AUTHOR_REFUSED: &str = "Only a superuser can set an article's author to someone else. \
     Leave the author field out: an article you write is yours, and an edit keeps its author.";

/// Whether `user` is an active superuser.
fn is_superuser(user: &User) -> bool {
    user.is_active && user.is_superuser
}

/// The author an article form asks for: `Ok(Ok(id))`, or `Ok(Err(response))` to answer instead
/// (403 for a non-superuser naming someone other than `default`, the form again for an unknown
/// username). `default` is the adding user on add, the current author on edit; naming it changes
/// nothing and is allowed to everyone.
async fn chosen_author(
    state: &AppState,
    auth: &AuthSession,
    user: &User,
    form: &ArticleForm,
    article: Option<&Article>,
) -> Result<Result<UserId, Response>, AppError> {
    let (default_id, default_name) = match article {
        Some(a) => (a.author_id, a.author.as_str()),
        None => (user.id, user.username.as_str()),
    };
    let Some(name) = form.author() else {
        return Ok(Ok(default_id));
    };
    if name == default_name {
        return Ok(Ok(default_id));
    }
    if !is_superuser(user) {
        // Refused before any lookup: a non-superuser learns nothing about other usernames.
        let page = page(
            &state.templates,
            auth,
            StatusCode::FORBIDDEN,
            "castellan/403.html",
            context! { message => AUTHOR_REFUSED },
        )
        .await?;
        return Ok(Err(page));
    }
    match state.store.user(name).await? {
        Some(u) => Ok(Ok(u.id)),
        None => {
            let errors = [("author", format!("There is no user named {name:?}."))];
            let page = form_page(state, auth, article, &form.fields(), name, &errors).await?;
            Ok(Err(page))
        }
    }
}

/// The 403 page for a user without `perm` on this article.
async fn cannot_change(state: &AppState, auth: &AuthSession) -> AppResult {
    let message =
        "You may not change this article: it needs bookshelf.change_article, which authors \
         have on their own drafts and chief editors on every article.";
    page(
        &state.templates,
        auth,
        StatusCode::FORBIDDEN,
        "castellan/403.html",
        context! { message },
    )
    .await
}

/// The article `raw` names, if the user may change it: `Ok(Err(page))` is the 404 or 403 to answer.
async fn changeable(
    state: &AppState,
    auth: &AuthSession,
    raw: &str,
) -> Result<Result<Article, axum::response::Response>, crate::web::error::AppError> {
    let Some(article) = existing(state, raw).await? else {
        return Ok(Err(not_found(&state.templates, auth).await?));
    };
    // What the user may not see does not exist for them: 404, not 403.
    if !access::may_article(&state.store, auth, access::VIEW_ARTICLE, &article).await? {
        return Ok(Err(not_found(&state.templates, auth).await?));
    }
    if !access::may_article(&state.store, auth, access::CHANGE_ARTICLE, &article).await? {
        return Ok(Err(cannot_change(state, auth).await?));
    }
    Ok(Ok(article))
}

async fn existing(state: &AppState, raw: &str) -> Result<Option<Article>, castellan_store::Error> {
    match parse_id(raw) {
        Some(id) => state.db.article(id).await,
        None => Ok(None),
    }
}

/// `GET /articles/`: in one query, the published articles and those the user may see or change
/// (their own drafts for Authors, articles in review for Reviewers, every one for Chief Editors).
pub async fn list(State(state): State<AppState>, auth: AuthSession) -> AppResult {
    let filter = access::visible_articles(&state.store, &auth).await?;
    let articles = state.db.articles_where(&filter).await?;
    ok(
        &state.templates,
        &auth,
        "articles/list.html",
        context! { articles => s(&articles) },
    )
    .await
}

/// `GET /articles/{id}/`.
pub async fn detail(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let Some(article) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    if !access::may_article(&state.store, &auth, access::VIEW_ARTICLE, &article).await? {
        return not_found(&state.templates, &auth).await;
    }
    let can_change =
        access::may_article(&state.store, &auth, access::CHANGE_ARTICLE, &article).await?;
    ok(
        &state.templates,
        &auth,
        "articles/detail.html",
        context! { article => s(&article), can_change },
    )
    .await
}

async fn form_page(
    state: &AppState,
    auth: &AuthSession,
    article: Option<&Article>,
    fields: &ArticleFields,
    author: &str,
    errors: &[(&'static str, String)],
) -> AppResult {
    let errors: std::collections::BTreeMap<String, String> = errors
        .iter()
        .map(|(f, m)| ((*f).to_owned(), m.clone()))
        .collect();
    page(
        &state.templates,
        auth,
        StatusCode::OK,
        "articles/form.html",
        context! { article => s(&article), fields => s(fields), author, errors },
    )
    .await
}

/// `GET /articles/add/`.
pub async fn add_form(State(state): State<AppState>, auth: AuthSession) -> AppResult {
    form_page(&state, &auth, None, &ArticleFields::default(), "", &[]).await
}

/// `POST /articles/add/`: a new draft by the current user (a superuser may name another author).
pub async fn add(
    State(state): State<AppState>,
    auth: AuthSession,
    Form(form): Form<ArticleForm>,
) -> AppResult {
    let fields = form.fields();
    let errors = fields.validate();
    let Some(user) = auth.user() else {
        return not_found(&state.templates, &auth).await;
    };
    let author = match chosen_author(&state, &auth, &user, &form, None).await? {
        Ok(id) => id,
        Err(refused) => return Ok(refused),
    };
    if !errors.is_empty() {
        let name = form.author().unwrap_or("");
        return form_page(&state, &auth, None, &fields, name, &errors).await;
    }
    let id = state.db.create_article(&fields, author).await?;
    messages::success(&auth, "Draft saved");
    Ok(redirect(&format!("/articles/{id}/")))
}

/// `GET /articles/{id}/edit/`.
pub async fn edit_form(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let article = match changeable(&state, &auth, &id).await? {
        Ok(article) => article,
        Err(page) => return Ok(page),
    };
    let fields = ArticleFields {
        title: article.title.clone(),
        content: article.content.clone(),
    };
    form_page(&state, &auth, Some(&article), &fields, &article.author, &[]).await
}

/// `POST /articles/{id}/edit/`: title, content and (superusers) author; the status moves through
/// the actions, except that changing an article that is not a draft sends it back to review.
pub async fn edit(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
    Form(form): Form<ArticleForm>,
) -> AppResult {
    let article = match changeable(&state, &auth, &id).await? {
        Ok(article) => article,
        Err(page) => return Ok(page),
    };
    let Some(user) = auth.user() else {
        return not_found(&state.templates, &auth).await;
    };
    let author = match chosen_author(&state, &auth, &user, &form, Some(&article)).await? {
        Ok(id) => id,
        Err(refused) => return Ok(refused),
    };
    let fields = form.fields();
    let errors = fields.validate();
    if !errors.is_empty() {
        let name = form.author().unwrap_or(&article.author);
        return form_page(&state, &auth, Some(&article), &fields, name, &errors).await;
    }
    match state.db.edit_article(&article, &fields, author).await? {
        Edited::Unchanged => messages::success(&auth, "Nothing changed"),
        Edited::Saved => messages::success(&auth, "Article updated"),
        Edited::BackToReview => messages::success(
            &auth,
            "Article updated and sent back to review: it needs a new approval before it is published",
        ),
        Edited::Missing => return not_found(&state.templates, &auth).await,
        Edited::Changed => messages::error(
            &auth,
            "The article changed while you were editing it (it was submitted, approved or published); nothing was saved.",
        ),
    }
    Ok(redirect(&format!("/articles/{}/", article.id)))
}

async fn step(
    state: &AppState,
    auth: &AuthSession,
    raw: &str,
    step: Step,
    done: &str,
    refused: &str,
) -> AppResult {
    let (Some(article), Some(user)) = (existing(state, raw).await?, auth.user()) else {
        return not_found(&state.templates, auth).await;
    };
    if !access::may_article(&state.store, auth, access::VIEW_ARTICLE, &article).await? {
        return not_found(&state.templates, auth).await;
    }
    // Submitting is changing the article: its author's own draft, or a chief editor.
    if step == Step::Submit
        && !access::may_article(&state.store, auth, access::CHANGE_ARTICLE, &article).await?
    {
        return cannot_change(state, auth).await;
    }
    if step != Step::Submit && article.author_id == user.id {
        let message = "You are this article's author: someone else must approve and publish it \
             (nobody approves or publishes their own article, whatever their permissions).";
        return page(
            &state.templates,
            auth,
            StatusCode::FORBIDDEN,
            "castellan/403.html",
            context! { message },
        )
        .await;
    }
    if state.db.article_step(article.id, step, user.id).await? {
        messages::success(auth, done);
    } else {
        messages::error(auth, refused);
    }
    Ok(redirect(&format!("/articles/{}/", article.id)))
}

/// `POST /articles/{id}/submit/`: draft → review.
pub async fn submit(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    step(
        &state,
        &auth,
        &id,
        Step::Submit,
        "Article submitted for review",
        "Only a draft can be submitted for review.",
    )
    .await
}

/// `POST /articles/{id}/approve/`: records the reviewer's approval of an article in review.
pub async fn approve(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    step(
        &state,
        &auth,
        &id,
        Step::Approve,
        "Article approved for publication",
        "Only an article in review that is not yet approved can be approved.",
    )
    .await
}

/// `POST /articles/{id}/publish/`: review (approved) → published.
pub async fn publish(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    step(
        &state,
        &auth,
        &id,
        Step::Publish,
        "Article published",
        "Only an approved article in review can be published.",
    )
    .await
}

/// `POST /articles/{id}/feature/`.
pub async fn feature(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let Some(article) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    match state.db.toggle_article_featured(article.id).await? {
        Some(true) => messages::success(&auth, "Article featured"),
        Some(false) => messages::success(&auth, "Article no longer featured"),
        None => return not_found(&state.templates, &auth).await,
    }
    Ok(redirect(&format!("/articles/{}/", article.id)))
}
