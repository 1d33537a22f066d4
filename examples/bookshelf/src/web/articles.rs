//! Article pages and the workflow actions (submit, approve, publish, feature).

use axum::extract::{Path, State};
use axum::Form;
use castellan_axum::AuthSession;
use http::StatusCode;
use minijinja::context;
use serde::Deserialize;

use crate::articles::{Article, ArticleFields, Status, Step};
use crate::web::error::AppResult;
use crate::web::render::{not_found, ok, page, s};
use crate::web::{messages, parse_id, redirect, AppState};

/// The article form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct ArticleForm {
    title: Option<String>,
    content: Option<String>,
}

impl ArticleForm {
    fn fields(&self) -> ArticleFields {
        ArticleFields {
            title: self.title.as_deref().unwrap_or("").trim().to_owned(),
            content: self.content.as_deref().unwrap_or("").replace("\r\n", "\n"),
        }
    }
}

/// Whether this user sees drafts and articles in review.
fn sees_unpublished(auth: &AuthSession) -> bool {
    auth.principal().has_perm("bookshelf.change_article")
}

async fn existing(state: &AppState, raw: &str) -> Result<Option<Article>, sqlx::Error> {
    match parse_id(raw) {
        Some(id) => state.db.article(id).await,
        None => Ok(None),
    }
}

/// `GET /articles/`: published articles; all of them for holders of `change_article`.
pub async fn list(State(state): State<AppState>, auth: AuthSession) -> AppResult {
    let articles = state.db.articles(sees_unpublished(&auth)).await?;
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
    let article = existing(&state, &id)
        .await?
        .filter(|a| a.status == Status::Published || sees_unpublished(&auth));
    match article {
        Some(article) => {
            ok(
                &state.templates,
                &auth,
                "articles/detail.html",
                context! { article => s(&article) },
            )
            .await
        }
        None => not_found(&state.templates, &auth).await,
    }
}

async fn form_page(
    state: &AppState,
    auth: &AuthSession,
    article: Option<&Article>,
    fields: &ArticleFields,
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
        context! { article => s(&article), fields => s(fields), errors },
    )
    .await
}

/// `GET /articles/add/`.
pub async fn add_form(State(state): State<AppState>, auth: AuthSession) -> AppResult {
    form_page(&state, &auth, None, &ArticleFields::default(), &[]).await
}

/// `POST /articles/add/`: a new draft by the current user.
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
    if !errors.is_empty() {
        return form_page(&state, &auth, None, &fields, &errors).await;
    }
    let id = state.db.create_article(&fields, user.id).await?;
    messages::success(&auth, "Draft saved");
    Ok(redirect(&format!("/articles/{id}/")))
}

/// `GET /articles/{id}/edit/`.
pub async fn edit_form(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
) -> AppResult {
    let Some(article) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    let fields = ArticleFields {
        title: article.title.clone(),
        content: article.content.clone(),
    };
    form_page(&state, &auth, Some(&article), &fields, &[]).await
}

/// `POST /articles/{id}/edit/`: title and content only (the status moves through the actions).
pub async fn edit(
    State(state): State<AppState>,
    auth: AuthSession,
    Path(id): Path<String>,
    Form(form): Form<ArticleForm>,
) -> AppResult {
    let Some(article) = existing(&state, &id).await? else {
        return not_found(&state.templates, &auth).await;
    };
    let fields = form.fields();
    let errors = fields.validate();
    if !errors.is_empty() {
        return form_page(&state, &auth, Some(&article), &fields, &errors).await;
    }
    state.db.update_article(article.id, &fields).await?;
    messages::success(&auth, "Article updated");
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
